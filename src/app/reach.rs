//! `GET /brands/{brandId}/reach?startDate=`: how many followers a campaign starting
//! on a date would reach, and why the others would not (issue 15).
//!
//! A forecast, built from the same pieces the send path uses: the follower item's
//! flags ([`Follower::reachable`]), the suppression record's reason, and the
//! frequency cap of the `send` policy in force ([`SendRules::cap_from`], i.e.
//! `frequency_cap_days`). Another campaign of the brand caps a follower for this
//! one when it opens its window first and the cap it would take at that opening
//! still holds when this one opens (R-MYCE-14; a follower skipped by the cap is
//! not tried again in the window, so a later opening does not help).
//!
//! Assumptions, said once: every other campaign reaches each follower reachable
//! now who followed before its window closed, at its window's opening; followers
//! are today's (nobody can know tomorrow's follows). A campaign in review counts,
//! as in the calendar (R-MYCE-13): the brand created it and may get it approved.
//!
//! Cost: one walk over the brand's followers, [`PAGE`] per store page (memory is
//! one page, never the whole list), plus one point read per suppressed follower
//! (to tell an unsubscribe from a bounce or complaint) and four indexed campaign
//! listings. On DynamoDB that is about as many read units as one send run's
//! follower walk: fine for the console's one request per chosen date, not for a
//! loop over every day of a year for a brand of millions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::campaigns::{brand_zone, live_campaigns, window_days};
use super::{App, AppError, own_brand};
use crate::auth::Caller;
use crate::domain::campaign::{Campaign, CampaignStatus};
use crate::domain::follower::Follower;
use crate::domain::schedule::send_window;
use crate::domain::suppression::SuppressionReason;
use crate::domain::{BrandId, CampaignId};
use crate::jobs::send::rules::SendRules;
use crate::policy::PolicyName;

/// Followers read per store page.
pub const PAGE: usize = 500;

/// The forecast (CONTRACT.md: `followers, reachable, unsubscribed, suppressed,
/// cappedByOtherCampaigns`; the rest are extensions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reach {
    /// The date asked about.
    pub start_date: NaiveDate,
    /// Customers following the brand now (unfollowed ones are not counted).
    pub followers: u64,
    /// Followers the campaign would be sent to.
    pub reachable: u64,
    /// Followers who used an unsubscribe link.
    pub unsubscribed: u64,
    /// Followers suppressed after a hard bounce or a complaint, or without a relay
    /// address (engage writes to relay addresses only).
    pub suppressed: u64,
    /// Followers another campaign of the brand would have reached less than the
    /// frequency cap before this one opens.
    pub capped_by_other_campaigns: u64,
    /// `name@version` of the send policy whose frequency cap was applied.
    pub policy: String,
    /// The campaigns that cap followers for this date.
    pub capping_campaigns: Vec<CappingCampaign>,
}

/// A campaign that takes the cap before this one opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CappingCampaign {
    /// Its id.
    pub id: CampaignId,
    /// Its nickname.
    pub nickname: String,
    /// Its start date.
    pub start_date: NaiveDate,
    /// Its status.
    pub status: CampaignStatus,
    /// When the cap it takes at its opening ends.
    pub cap_until: DateTime<Utc>,
}

/// The forecast for one of the caller's brands: 403 without the brand
/// representative role, 404 for a brand that is not the caller's.
pub async fn reach(
    app: &App,
    caller: &Caller,
    brand: &str,
    start_date: NaiveDate,
) -> Result<Reach, AppError> {
    let profile = own_brand(app, caller, brand).await?;
    let brand_id = BrandId::new(brand);
    let tz = brand_zone(profile.as_ref());
    let now = app.clock.now();
    let rules = SendRules::in_force(&app.policies, now)?;
    let campaign_policy = app.policies.in_force(PolicyName::Campaign, now)?;
    let opens = send_window(start_date, tz, window_days(campaign_policy)?).start;

    // SENT campaigns cap too: the last one may have closed yesterday.
    let mut others = live_campaigns(app, &brand_id).await?;
    others.extend(
        app.store
            .list_campaigns(&brand_id, Some(CampaignStatus::Sent))
            .await?,
    );
    let capping: Vec<(Campaign, DateTime<Utc>)> = others
        .into_iter()
        .filter_map(|c| {
            let reached = c.send_window.start;
            let until = reached + rules.cap_from(reached, tz);
            (reached <= opens && opens < until).then_some((c, until))
        })
        .collect();

    let mut r = Reach {
        start_date,
        followers: 0,
        reachable: 0,
        unsubscribed: 0,
        suppressed: 0,
        capped_by_other_campaigns: 0,
        policy: rules.id(),
        capping_campaigns: capping
            .iter()
            .map(|(c, until)| CappingCampaign {
                id: c.id.clone(),
                nickname: c.nickname.clone(),
                start_date: c.start_date,
                status: c.status,
                cap_until: *until,
            })
            .collect(),
    };
    let mut token: Option<String> = None;
    loop {
        let page = app
            .store
            .list_followers(&brand_id, token.as_deref(), PAGE)
            .await?;
        for f in &page.items {
            count(app, &mut r, f, &capping).await?;
        }
        match page.next {
            Some(t) => token = Some(t),
            None => return Ok(r),
        }
    }
}

/// Puts one follower in its box: the first reason that stops it, in the order the
/// send path meets them (follow state, then suppression, then the cap).
async fn count(
    app: &App,
    r: &mut Reach,
    f: &Follower,
    capping: &[(Campaign, DateTime<Utc>)],
) -> Result<(), AppError> {
    if f.unfollowed {
        return Ok(());
    }
    r.followers += 1;
    if f.suppressed {
        let record = app
            .store
            .get_suppression(&f.brand_id, &f.customer_id)
            .await?;
        match record.map(|s| s.reason) {
            Some(SuppressionReason::Unsubscribe) => r.unsubscribed += 1,
            _ => r.suppressed += 1,
        }
    } else if !f.reachable() {
        r.suppressed += 1;
    } else if capping
        .iter()
        .any(|(c, _)| f.followed_at < c.send_window.end)
    {
        r.capped_by_other_campaigns += 1;
    } else {
        r.reachable += 1;
    }
    Ok(())
}
