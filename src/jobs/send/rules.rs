//! The `send` policy as the send path evaluates it.
//!
//! A rule is *recipient-level* when its condition reads `recipient`; every other
//! rule is *campaign-level*. Campaign-level rules are evaluated once per wave
//! (and by the planner) over the campaign, its promotion, the brand's mail
//! feedback and the email's headers; recipient-level rules once per follower,
//! with the campaign-level facts beside. Which rules there are is the policy
//! file's business: a rule added to it takes effect with no change here.
//!
//! Recipient facts are the follower item's state (`unfollowed`, `suppressed`,
//! `hasRelayAddress`, `locale`), not the customer's identity, so the decision
//! for one combination is the decision for every follower sharing it: it is
//! computed once per wave and reused (the policy is a pure function of its facts).
//! `lastReachedAt` is null and `skippedByCap` false: the frequency cap is decided
//! by the one conditional cap write, held until marketplace midnight
//! `frequency_cap_days` calendar dates later ([`SendRules::cap_from`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::app::facts::send::{
    CAMPAIGN, EMAIL, PROMOTION, RECIPIENT, SENDER, brand_facts, recipient_fact, wave_facts,
};
use crate::domain::campaign::Campaign;
use crate::domain::follower::Follower;
use crate::domain::promotion::Promotion;
use crate::domain::schedule::after_days;
use crate::policy::{
    Decision, FactValue, Facts, PolicyError, PolicyName, PolicySet, PolicyVersion, Rule,
};

/// The name of the policy that governs sending.
pub const POLICY: PolicyName = PolicyName::Send;

/// Facts that make a rule about one campaign (or one follower) rather than the brand.
const CAMPAIGN_FACTS: [&str; 4] = [CAMPAIGN, PROMOTION, RECIPIENT, EMAIL];

/// A rule that reads the brand's mail feedback and nothing of one campaign:
/// when it fires (R-MAIL-3.complaint_limit) every approved and sending
/// campaign of the brand is suspended, by the SES-feedback job and before a
/// wave ([`crate::jobs::suspend::suspend_brand`]).
pub fn brand_level(rule: &Rule) -> bool {
    rule.reads(SENDER) && !CAMPAIGN_FACTS.iter().any(|f| rule.reads(f))
}

/// The send policy in force, split into its two levels.
#[derive(Debug, Clone)]
pub struct SendRules {
    policy: PolicyVersion,
    cap_days: u64,
}

/// The campaign-level facts of one wave.
#[derive(Debug, Clone)]
pub struct WaveFacts {
    facts: Facts,
    at: DateTime<Utc>,
}

impl WaveFacts {
    /// The facts: `now`, `zone` (the brand's marketplace time zone),
    /// `campaign`, `promotion` (null without one), `sender` (`complaintRate`,
    /// `deliveries`), `email` (`headers`).
    pub fn new(
        now: DateTime<Utc>,
        tz: Tz,
        campaign: &Campaign,
        promotion: Option<&Promotion>,
        sender: &crate::store::FeedbackCounts,
        headers: &[(String, String)],
    ) -> Self {
        let facts = wave_facts(now, tz, campaign, promotion, sender, headers);
        Self { facts, at: now }
    }
}

/// What decides one follower: its state, not its identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RecipientKey {
    unfollowed: bool,
    suppressed: bool,
    has_relay_address: bool,
    locale: String,
}

impl RecipientKey {
    fn of(f: &Follower) -> Self {
        Self {
            unfollowed: f.unfollowed,
            suppressed: f.suppressed,
            has_relay_address: !f.relay_email.is_empty(),
            locale: f.locale.clone(),
        }
    }

    fn fact(&self) -> FactValue {
        recipient_fact(
            self.unfollowed,
            self.suppressed,
            self.has_relay_address,
            &self.locale,
        )
    }
}

/// Recipient decisions of one wave, by follower state.
#[derive(Debug, Default)]
pub struct RecipientMemo {
    decisions: HashMap<RecipientKey, Arc<Decision>>,
}

fn campaign_level(rule: &Rule) -> bool {
    !rule.reads(RECIPIENT)
}

impl SendRules {
    /// The send policy in force at `at`.
    ///
    /// # Errors
    /// No send policy in force, or its `frequency_cap_days` is missing.
    pub fn in_force(policies: &PolicySet, at: DateTime<Utc>) -> Result<Self, PolicyError> {
        let policy = policies.in_force(POLICY, at)?.clone();
        let days = policy.param_i64("frequency_cap_days")?;
        let cap_days = u64::try_from(days).map_err(|_| PolicyError::Param {
            policy: policy.id(),
            param: "frequency_cap_days".to_owned(),
            reason: "negative".to_owned(),
        })?;
        Ok(Self { policy, cap_days })
    }

    /// `name@version`.
    pub fn id(&self) -> String {
        self.policy.id()
    }

    /// How long a customer reached at `at` is not reached again by the
    /// brand (R-MYCE-14): until marketplace midnight `frequency_cap_days`
    /// calendar dates later, so a campaign starting that many dates after
    /// another (not yellow in the calendar, R-MYCE-13) reaches its customers.
    pub fn cap_from(&self, at: DateTime<Utc>, tz: Tz) -> Duration {
        after_days(at, self.cap_days, tz) - at
    }

    /// The brand-level rules ([`brand_level`]) over the brand's feedback counts.
    ///
    /// # Errors
    /// Facts that cannot be bound.
    pub fn brand(
        &self,
        at: DateTime<Utc>,
        sender: &crate::store::FeedbackCounts,
    ) -> Result<Decision, PolicyError> {
        let facts = brand_facts(at, sender);
        self.policy.evaluate_where(at, &facts, brand_level)
    }

    /// The campaign-level rules over one wave's facts.
    ///
    /// # Errors
    /// Facts that cannot be bound.
    pub fn campaign(&self, wave: &WaveFacts) -> Result<Decision, PolicyError> {
        self.policy
            .evaluate_where(wave.at, &wave.facts, campaign_level)
    }

    /// The campaign-level rules that read no email either: what the planner
    /// checks before queueing a campaign's segments (it renders no email).
    ///
    /// # Errors
    /// Facts that cannot be bound.
    pub fn planning(&self, wave: &WaveFacts) -> Result<Decision, PolicyError> {
        self.policy.evaluate_where(wave.at, &wave.facts, |r| {
            campaign_level(r) && !r.reads(EMAIL)
        })
    }

    /// The recipient-level rules for one follower (memoised by its state for the wave).
    ///
    /// # Errors
    /// Facts that cannot be bound.
    pub fn recipient(
        &self,
        wave: &WaveFacts,
        follower: &Follower,
        memo: &mut RecipientMemo,
    ) -> Result<Arc<Decision>, PolicyError> {
        let key = RecipientKey::of(follower);
        if let Some(d) = memo.decisions.get(&key) {
            return Ok(d.clone());
        }
        let facts = wave.facts.clone().with(RECIPIENT, key.fact());
        let decision = Arc::new(
            self.policy
                .evaluate_where(wave.at, &facts, |r| r.reads(RECIPIENT))?,
        );
        memo.decisions.insert(key, decision.clone());
        Ok(decision)
    }
}
