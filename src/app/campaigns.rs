//! MYCE campaigns: validate, submit (idempotent), read, list, cancel and
//! moderate. Every check is a rule of the `campaign`, `promotion` or
//! `content` policy in force; this module only gathers the facts.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::facts::{BrandContext, Channel, Text, campaign_facts, check_content, promotion_facts};
use super::{App, AppError, Invariant, own_brand, represents, require_role};
use crate::auth::{Caller, Role};
use crate::domain::bounds;
use crate::domain::brand::{Brand, Marketplace};
use crate::domain::campaign::{
    Campaign, CampaignStatus, HeaderStyle, Image, Logo, LogoBackground, LogoFormat, SendWindow,
    Warning,
};
use crate::domain::promotion::Promotion;
use crate::domain::schedule::{send_window, zone};
use crate::domain::theme::Theme;
use crate::domain::{BrandId, CampaignId, PromotionId};
use crate::policy::{Decision, PolicyError, PolicyName, PolicyVersion, Violation};
use crate::store::{CreateOutcome, IdempotencyOutcome, TransitionOutcome};

/// The purpose assumed when a submission names none (R-MYCE-2).
pub const DEFAULT_PURPOSE: &str = "featured_product";

/// An image in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageInput {
    /// Where it is.
    pub url: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A logo in a submission; format and background stay text so the policy
/// can explain a wrong one instead of a bare 400.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogoInput {
    /// Where it is.
    pub url: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `png` or `jpg`.
    pub format: String,
    /// `transparent`, `white` or `black`.
    pub background: String,
}

/// The body of `POST /campaigns` and `POST /campaigns/validate`: the campaign
/// object without the fields the server sets. Types are checked here (400);
/// presence and values are rules of the policy (422, all at once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignInput {
    /// The brand.
    #[serde(deserialize_with = "bounds::serde_id")]
    pub brand_id: String,
    /// `new_product`, `featured_product` or `holiday_gift_guide` (R-MYCE-2);
    /// an extension of CONTRACT.md, `featured_product` when absent.
    #[serde(default)]
    pub purpose: Option<String>,
    /// Internal name (R-MYCE-10).
    #[serde(default)]
    pub nickname: Option<String>,
    /// Event theme id (R-MYCE-3).
    #[serde(default, deserialize_with = "bounds::serde_opt_id")]
    pub theme: Option<String>,
    /// Primary product (R-MYCE-4).
    #[serde(default, deserialize_with = "bounds::serde_opt_id")]
    pub primary_asin: Option<String>,
    /// Promotion on the primary product (R-MYCE-11).
    #[serde(default, deserialize_with = "bounds::serde_opt_id")]
    pub promotion_id: Option<String>,
    /// Lifestyle image (R-MYCE-5).
    #[serde(default)]
    pub lifestyle_image: Option<ImageInput>,
    /// Complementary products (R-MYCE-6).
    #[serde(default, deserialize_with = "bounds::serde_ids")]
    pub complementary_asins: Vec<String>,
    /// Start date, `YYYY-MM-DD` in the marketplace's time zone (R-MYCE-7).
    #[serde(deserialize_with = "crate::domain::bounds::serde_date")]
    pub start_date: NaiveDate,
    /// Subject line (R-MYCE-8).
    #[serde(default)]
    pub subject: Option<String>,
    /// Section header (R-MYCE-8).
    #[serde(default)]
    pub section_header: Option<String>,
    /// Brand logo (R-MYCE-9).
    #[serde(default)]
    pub logo: Option<LogoInput>,
    /// `dark` or `light` (R-MYCE-9).
    #[serde(default)]
    pub header_style: Option<String>,
}

/// A submission with defaults applied: what the facts are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDraft {
    /// The brand.
    pub brand_id: String,
    /// The purpose.
    pub purpose: String,
    /// The nickname ("" when absent).
    pub nickname: String,
    /// Theme id.
    pub theme: Option<String>,
    /// Primary ASIN.
    pub primary_asin: Option<String>,
    /// Promotion id.
    pub promotion_id: Option<String>,
    /// Lifestyle image.
    pub lifestyle_image: Option<ImageInput>,
    /// Complementary ASINs.
    pub complementary_asins: Vec<String>,
    /// Start date.
    pub start_date: NaiveDate,
    /// Subject ("" when absent).
    pub subject: String,
    /// Section header ("" when absent).
    pub section_header: String,
    /// Logo.
    pub logo: Option<LogoInput>,
    /// Header style ("" when absent).
    pub header_style: String,
}

impl From<CampaignInput> for CampaignDraft {
    fn from(i: CampaignInput) -> Self {
        Self {
            brand_id: i.brand_id,
            purpose: i.purpose.unwrap_or_else(|| DEFAULT_PURPOSE.to_owned()),
            nickname: i.nickname.unwrap_or_default(),
            theme: i.theme.filter(|t| !t.is_empty()),
            primary_asin: i.primary_asin,
            promotion_id: i.promotion_id.filter(|p| !p.is_empty()),
            lifestyle_image: i.lifestyle_image,
            complementary_asins: i.complementary_asins,
            start_date: i.start_date,
            subject: i.subject.unwrap_or_default(),
            section_header: i.section_header.unwrap_or_default(),
            logo: i.logo,
            header_style: i.header_style.unwrap_or_default(),
        }
    }
}

/// The answer of `POST /campaigns/validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// No error rule fired.
    pub valid: bool,
    /// `name@version` of the campaign policy in force.
    pub policy: String,
    /// Every error (each names its rule, policy and field).
    pub violations: Vec<crate::policy::Violation>,
    /// Every warning.
    pub warnings: Vec<crate::policy::Violation>,
}

/// What a validation looked at, kept to build the campaign on success.
struct Checked {
    validation: Validation,
    window: SendWindow,
}

/// The marketplace time zone of a brand (Pacific when unknown: the brand
/// rule fires anyway).
pub fn brand_zone(brand: Option<&Brand>) -> Tz {
    zone(brand.map_or(Marketplace::US, |b| b.marketplace))
}

/// The brand's reachable followers, counted only up to `enough`: a submission
/// needs to know there are some, not how many, and must not read them all.
pub async fn count_followers(app: &App, brand: &BrandId, enough: i64) -> Result<i64, AppError> {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let page = app
            .store
            .list_followers(brand, token.as_deref(), 100)
            .await?;
        count += page.items.iter().filter(|f| f.reachable()).count() as i64;
        if count >= enough {
            return Ok(count);
        }
        match page.next {
            Some(t) => token = Some(t),
            None => return Ok(count),
        }
    }
}

/// The brand's live campaigns (in review, approved or sending): the ones a
/// new campaign may overlap (R-MYCE-13; seed 001 counts the campaigns the
/// brand *created*, so one still in review counts). Three indexed reads,
/// whatever the brand's history.
pub async fn live_campaigns(app: &App, brand: &BrandId) -> Result<Vec<Campaign>, AppError> {
    let mut live = Vec::new();
    for status in [
        CampaignStatus::InReview,
        CampaignStatus::Approved,
        CampaignStatus::Sending,
    ] {
        live.extend(app.store.list_campaigns(brand, Some(status)).await?);
    }
    Ok(live)
}

/// The send policy's `frequency_cap_days` in force at `at`: how far apart
/// two campaigns' start dates must be not to overlap (R-MYCE-13, R-MYCE-14).
pub fn frequency_cap_days(app: &App, at: DateTime<Utc>) -> Result<i64, AppError> {
    Ok(app
        .policies
        .in_force(crate::jobs::send::rules::POLICY, at)?
        .param_i64("frequency_cap_days")?)
}

/// The promotion named by a campaign, if it exists and is the brand's.
pub async fn brand_promotion(
    app: &App,
    brand: &BrandId,
    id: Option<&str>,
) -> Result<Option<Promotion>, AppError> {
    let Some(id) = id else { return Ok(None) };
    let p = app.store.get_promotion(&PromotionId::new(id)).await?;
    Ok(p.filter(|p| &p.brand_id == brand))
}

/// The theme named by a campaign, if known.
pub fn theme<'a>(app: &'a App, id: Option<&str>) -> Option<&'a Theme> {
    id.and_then(|id| app.themes.get(id))
}

/// The window length in calendar days, from the campaign policy's params.
pub fn window_days(policy: &PolicyVersion) -> Result<u64, AppError> {
    let days = policy.param_i64("send_window_days")?;
    u64::try_from(days).map_err(|_| {
        AppError::Policy(PolicyError::Param {
            policy: policy.id(),
            param: "send_window_days".to_owned(),
            reason: "must not be negative".to_owned(),
        })
    })
}

async fn check(app: &App, caller: &Caller, draft: &CampaignDraft) -> Result<Checked, AppError> {
    let brand = own_brand(app, caller, &draft.brand_id).await?;
    let brand_id = BrandId::new(draft.brand_id.as_str());
    let now = app.clock.now();
    let policy = app.policies.in_force(PolicyName::Campaign, now)?;
    let tz = brand_zone(brand.as_ref());
    let window = send_window(draft.start_date, tz, window_days(policy)?);
    let enough = policy.param_i64("min_followers")?;
    let follower_count = count_followers(app, &brand_id, enough).await?;
    let live = live_campaigns(app, &brand_id).await?;
    let theme = theme(app, draft.theme.as_deref());
    let promotion = brand_promotion(app, &brand_id, draft.promotion_id.as_deref()).await?;

    let ctx = BrandContext {
        brand: brand.as_ref(),
        follower_count,
        live_campaigns: &live,
        frequency_cap_days: frequency_cap_days(app, now)?,
    };
    let facts = campaign_facts(draft, &ctx, theme, promotion.as_ref(), tz, now);
    let mut decisions = vec![policy.evaluate(now, &facts)?];
    if let Some(p) = &promotion {
        let asin = draft.primary_asin.as_deref().unwrap_or_default();
        let facts = promotion_facts(p, asin, draft.start_date, theme, tz, now);
        decisions.push(app.policies.evaluate(PolicyName::Promotion, now, &facts)?);
    }
    decisions.push(check_content(
        &app.policies,
        now,
        Channel::Campaign,
        [
            Text {
                field: "subject",
                text: &draft.subject,
                header: true,
            },
            Text {
                field: "sectionHeader",
                text: &draft.section_header,
                header: true,
            },
        ],
    )?);
    let merged = Decision::merge_all(decisions);
    Ok(Checked {
        validation: Validation {
            valid: merged.is_allowed(),
            policy: policy.id(),
            violations: merged.violations,
            warnings: merged.warnings,
        },
        window,
    })
}

/// `POST /campaigns/validate`: the same checks as a submission, nothing stored.
pub async fn validate(
    app: &App,
    caller: &Caller,
    input: CampaignInput,
) -> Result<Validation, AppError> {
    Ok(check(app, caller, &input.into()).await?.validation)
}

fn parse_logo(l: &LogoInput) -> Result<Logo, AppError> {
    let format = match l.format.as_str() {
        "png" => LogoFormat::Png,
        "jpg" => LogoFormat::Jpg,
        other => {
            return Err(AppError::BadRequest(format!(
                "logo.format {other:?} is not png or jpg"
            )));
        }
    };
    let background = match l.background.as_str() {
        "transparent" => LogoBackground::Transparent,
        "white" => LogoBackground::White,
        "black" => LogoBackground::Black,
        other => {
            return Err(AppError::BadRequest(format!(
                "logo.background {other:?} is not transparent, white or black"
            )));
        }
    };
    Ok(Logo {
        url: l.url.clone(),
        width: l.width,
        height: l.height,
        format,
        background,
    })
}

fn build(draft: CampaignDraft, checked: Checked, now: DateTime<Utc>) -> Result<Campaign, AppError> {
    let missing = |what: &str| AppError::BadRequest(format!("{what} is required"));
    let header_style = match draft.header_style.as_str() {
        "dark" => HeaderStyle::Dark,
        "light" => HeaderStyle::Light,
        other => {
            return Err(AppError::BadRequest(format!(
                "headerStyle {other:?} is not dark or light"
            )));
        }
    };
    let image = draft
        .lifestyle_image
        .ok_or_else(|| missing("lifestyleImage"))?;
    let logo = parse_logo(draft.logo.as_ref().ok_or_else(|| missing("logo"))?)?;
    Ok(Campaign {
        id: CampaignId::new(uuid::Uuid::new_v4().to_string()),
        brand_id: BrandId::new(draft.brand_id),
        purpose: Some(draft.purpose),
        nickname: draft.nickname,
        theme: draft.theme,
        primary_asin: draft.primary_asin.ok_or_else(|| missing("primaryAsin"))?,
        promotion_id: draft.promotion_id.map(PromotionId::new),
        lifestyle_image: Image {
            url: image.url,
            width: image.width,
            height: image.height,
        },
        complementary_asins: draft.complementary_asins,
        start_date: draft.start_date,
        subject: draft.subject,
        section_header: draft.section_header,
        logo,
        header_style,
        status: CampaignStatus::InReview,
        status_reason: None,
        policy: checked.validation.policy,
        warnings: checked
            .validation
            .warnings
            .into_iter()
            .map(|w| Warning {
                rule: w.rule,
                message: w.message,
                field: w.field,
            })
            .collect(),
        send_window: checked.window,
        created_at: now,
        updated_at: None,
    })
}

/// What a submission decided, stored as it is for `Idempotency-Key` replays (a
/// refusal is a decision too: the same body gets it again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "outcome",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Submitted {
    /// The campaign was created.
    Created {
        /// The campaign as stored.
        campaign: Box<Campaign>,
    },
    /// Rules were violated; nothing was stored.
    Refused {
        /// A summary.
        detail: String,
        /// `name@version` of the deciding policy.
        policy: String,
        /// Every violation.
        violations: Vec<Violation>,
    },
}

/// A stored replay: a [`Submitted`], or the `{status, body}` answer stored
/// before submissions were stored as outcomes (kept for a retention period
/// after an upgrade).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredSubmission {
    Outcome(Submitted),
    Answer {
        status: u16,
        body: serde_json::Value,
    },
}

impl StoredSubmission {
    fn into_outcome(self) -> Result<Submitted, serde_json::Error> {
        match self {
            Self::Outcome(s) => Ok(s),
            Self::Answer { status: 201, body } => Ok(Submitted::Created {
                campaign: serde_json::from_value(body)?,
            }),
            Self::Answer { body, .. } => {
                #[derive(Deserialize)]
                struct Refusal {
                    detail: String,
                    policy: String,
                    violations: Vec<Violation>,
                }
                let r: Refusal = serde_json::from_value(body)?;
                Ok(Submitted::Refused {
                    detail: r.detail,
                    policy: r.policy,
                    violations: r.violations,
                })
            }
        }
    }
}

async fn submit_once(
    app: &App,
    caller: &Caller,
    input: CampaignInput,
    id: Option<CampaignId>,
) -> Result<Submitted, AppError> {
    let draft: CampaignDraft = input.into();
    let checked = check(app, caller, &draft).await?;
    if !checked.validation.valid {
        return Err(AppError::Rules {
            detail: format!(
                "the campaign breaks {} rule(s) of {}",
                checked.validation.violations.len(),
                checked.validation.policy
            ),
            policy: checked.validation.policy,
            violations: checked.validation.violations,
        });
    }
    let keyed = id.is_some();
    let mut campaign = build(draft, checked, app.clock.now())?;
    if let Some(id) = id {
        campaign.id = id;
    }
    let created = |c: Campaign| Submitted::Created {
        campaign: Box::new(c),
    };
    match app.store.create_campaign(&campaign).await? {
        CreateOutcome::Created => Ok(created(campaign)),
        // A keyed attempt whose predecessor stored the campaign and died before
        // completing the key: that campaign is the answer (same key, same body).
        CreateOutcome::AlreadyExists if keyed => {
            match app.store.get_campaign(&campaign.id).await? {
                Some(stored) if stored.brand_id == campaign.brand_id => Ok(created(stored)),
                _ => Err(Invariant::CampaignIdCollision(campaign.id).into()),
            }
        }
        CreateOutcome::AlreadyExists => Err(Invariant::CampaignIdCollision(campaign.id).into()),
    }
}

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_RETENTION_HOURS: i64 = 24;

/// How long a claimed `Idempotency-Key` answers "still being processed" (409) before a
/// repeat takes it over (business clock): far over one submission (a request times
/// out after seconds), far under the retention, so a claim whose request died does not
/// block the key for a day. The campaign id is derived from the key, so a takeover
/// after the first attempt stored its campaign answers that campaign, never a second.
pub const IDEMPOTENCY_LEASE_SECONDS: i64 = 60;

/// `POST /campaigns`. With an `Idempotency-Key`, a repeat with the same body
/// gets the first result (201 or 422) and the same key with another body is a
/// 422; the key is claimed by a conditional write so concurrent repeats create
/// one campaign.
pub async fn submit(
    app: &App,
    caller: &Caller,
    input: CampaignInput,
    idempotency_key: Option<&str>,
) -> Result<Submitted, AppError> {
    // Before any replay: a stored answer is only ever given to a caller who may
    // submit for the brand now.
    represents(caller, &input.brand_id)?;
    let Some(key) = idempotency_key else {
        return submit_once(app, caller, input, None).await;
    };
    // Scope the key to the caller's selling account: two sellers may pick the same key.
    let scope = format!("campaigns:{}", caller.seller_id);
    let canonical =
        serde_json::to_vec(&input).map_err(AppError::json_write("the campaign submission"))?;
    let hash = sha256_hex(&canonical);
    let retention = chrono::Duration::hours(IDEMPOTENCY_RETENTION_HOURS);
    let lease = chrono::Duration::seconds(IDEMPOTENCY_LEASE_SECONDS);
    match app
        .store
        .begin(&scope, key, &hash, app.clock.now(), lease, retention)
        .await?
    {
        IdempotencyOutcome::Replay(stored) => serde_json::from_value::<StoredSubmission>(stored)
            .and_then(StoredSubmission::into_outcome)
            .map_err(AppError::json_read("the stored submission")),
        IdempotencyOutcome::Mismatch => Err(AppError::IdempotencyMismatch),
        IdempotencyOutcome::InProgress => Err(AppError::Conflict(
            "a request with this Idempotency-Key is still being processed; retry shortly".into(),
        )),
        IdempotencyOutcome::New => {
            let id = keyed_campaign_id(&scope, key);
            let outcome = match submit_once(app, caller, input, Some(id)).await {
                Ok(s) => Ok(s),
                Err(AppError::Rules {
                    detail,
                    policy,
                    violations,
                }) => Ok(Submitted::Refused {
                    detail,
                    policy,
                    violations,
                }),
                Err(other) => Err(other),
            };
            match outcome {
                Ok(s) => {
                    let stored = serde_json::to_value(&s)
                        .map_err(AppError::json_write("the submission outcome"))?;
                    app.store.complete(&scope, key, &stored).await?;
                    Ok(s)
                }
                Err(e) => {
                    // Nothing was decided: free the key so the client can retry.
                    app.store.release(&scope, key).await?;
                    Err(e)
                }
            }
        }
    }
}

/// The id of the campaign a keyed submission creates: the same for every attempt of
/// one (scope, key), so an attempt that takes over a dead one's claim meets the
/// campaign it may have stored instead of creating a second.
fn keyed_campaign_id(scope: &str, key: &str) -> CampaignId {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(scope.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    CampaignId::new(
        uuid::Builder::from_custom_bytes(bytes)
            .into_uuid()
            .to_string(),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A campaign the caller may read: its brand's representatives, and
/// moderators (who review every brand's campaigns).
pub async fn get(app: &App, caller: &Caller, id: &str) -> Result<Campaign, AppError> {
    let not_found = || AppError::NotFound(format!("campaign {id}"));
    let campaign = app
        .store
        .get_campaign(&CampaignId::new(id))
        .await?
        .ok_or_else(not_found)?;
    if caller.has_role(Role::Moderator) {
        return Ok(campaign);
    }
    require_role(caller, Role::BrandRepresentative)?;
    if caller.represents(campaign.brand_id.as_str()) {
        Ok(campaign)
    } else {
        Err(not_found())
    }
}

/// A campaign of the caller's brands, for a brand action.
async fn own_campaign(app: &App, caller: &Caller, id: &str) -> Result<Campaign, AppError> {
    require_role(caller, Role::BrandRepresentative)?;
    let campaign = app.store.get_campaign(&CampaignId::new(id)).await?;
    campaign
        .filter(|c| caller.represents(c.brand_id.as_str()))
        .ok_or_else(|| AppError::NotFound(format!("campaign {id}")))
}

/// `GET /campaigns?brandId=&status=`: the caller's campaigns, of one brand or
/// of all its brands.
pub async fn list(
    app: &App,
    caller: &Caller,
    brand: Option<&str>,
    status: Option<CampaignStatus>,
) -> Result<Vec<Campaign>, AppError> {
    require_role(caller, Role::BrandRepresentative)?;
    let brands: Vec<&String> = match brand {
        Some(b) if caller.represents(b) => caller.brands.iter().filter(|x| *x == b).collect(),
        Some(b) => return Err(AppError::NotFound(format!("brand {b}"))),
        None => caller.brands.iter().collect(),
    };
    let mut items = Vec::new();
    for b in brands {
        items.extend(
            app.store
                .list_campaigns(&BrandId::new(b.as_str()), status)
                .await?,
        );
    }
    Ok(items)
}

fn transition_conflict(id: &str, current: CampaignStatus, action: &str) -> AppError {
    AppError::Conflict(format!("campaign {id} is {current}: it cannot be {action}"))
}

/// `POST /campaigns/{id}/cancel`: until sending has finished.
pub async fn cancel(app: &App, caller: &Caller, id: &str) -> Result<Campaign, AppError> {
    let campaign = own_campaign(app, caller, id).await?;
    use CampaignStatus::*;
    let outcome = app
        .store
        .transition(
            &campaign.id,
            &[InReview, Approved, Sending],
            Cancelled,
            Some("cancelled by the brand"),
            app.clock.now(),
        )
        .await?;
    match outcome {
        TransitionOutcome::Moved(c) => Ok(c),
        TransitionOutcome::Conflict { current } => {
            Err(transition_conflict(id, current, "cancelled"))
        }
        TransitionOutcome::NotFound => Err(AppError::NotFound(format!("campaign {id}"))),
    }
}

/// A moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModerationDecision {
    /// The content is fine: `APPROVED`.
    Approve,
    /// The content is refused: `NOT_APPROVED` (R-MYCE-16).
    Reject,
}

/// The body of `POST /campaigns/{id}/moderation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Moderation {
    /// Approve or reject.
    pub decision: ModerationDecision,
    /// Why (shown to the brand as the status reason).
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// `POST /campaigns/{id}/moderation` (moderators): `APPROVED` or
/// `NOT_APPROVED`, 409 unless `IN_REVIEW`. A rejection needs a reason: the
/// brand must learn what to change in its new campaign.
pub async fn moderate(
    app: &App,
    caller: &Caller,
    id: &str,
    m: Moderation,
) -> Result<Campaign, AppError> {
    require_role(caller, Role::Moderator)?;
    let campaign = app
        .store
        .get_campaign(&CampaignId::new(id))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("campaign {id}")))?;
    let reasons: Vec<&str> = m
        .reasons
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    let (to, reason) = match m.decision {
        ModerationDecision::Approve => (
            CampaignStatus::Approved,
            (!reasons.is_empty()).then(|| reasons.join("; ")),
        ),
        ModerationDecision::Reject if reasons.is_empty() => {
            return Err(AppError::BadRequest(
                "a rejection needs at least one reason".into(),
            ));
        }
        ModerationDecision::Reject => (CampaignStatus::NotApproved, Some(reasons.join("; "))),
    };
    let now = app.clock.now();
    if to == CampaignStatus::Approved && now >= campaign.send_window.end {
        return Err(AppError::Conflict(format!(
            "campaign {id} cannot be approved: its send window ended at {}",
            campaign.send_window.end.to_rfc3339()
        )));
    }
    match app
        .store
        .transition(
            &campaign.id,
            &[CampaignStatus::InReview],
            to,
            reason.as_deref(),
            now,
        )
        .await?
    {
        TransitionOutcome::Moved(c) => Ok(c),
        TransitionOutcome::Conflict { current } => {
            Err(transition_conflict(id, current, "moderated"))
        }
        TransitionOutcome::NotFound => Err(AppError::NotFound(format!("campaign {id}"))),
    }
}

/// `GET /campaigns/{id}/preview`: the email as the followers will get it
/// (HTML), with a preview banner and an inert unsubscribe link.
pub async fn preview(app: &App, caller: &Caller, id: &str) -> Result<String, AppError> {
    let campaign = get(app, caller, id).await?;
    let brand = app.store.get_brand(&campaign.brand_id).await?;
    let promotion = brand_promotion(
        app,
        &campaign.brand_id,
        campaign.promotion_id.as_ref().map(|p| p.as_str()),
    )
    .await?;
    let unsubscribe = format!("{}/v1/unsubscribe/preview", app.public_url);
    let view = super::campaign_email::view(
        app,
        &campaign,
        brand.as_ref(),
        promotion.as_ref(),
        unsubscribe,
        true,
    );
    Ok(super::campaign_email::render(app, &view)?.html)
}
