//! Helpers of the send-window tests: a settable clock, seeding, a store and a
//! mailer that fail the k-th call, and checks over what was mailed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use engage::app::App;
use engage::clock::Clock;
use engage::domain::brand::{Brand, Marketplace};
use engage::domain::campaign::{Campaign, CampaignStatus};
use engage::domain::contact::Contact;
use engage::domain::follower::Follower;
use engage::domain::order::Order;
use engage::domain::promotion::Promotion;
use engage::domain::review::Review;
use engage::domain::schedule::{send_window, zone};
use engage::domain::segment::{FollowerRange, Segment, SendPlan};
use engage::domain::send::{SendProgress, SendRecord};
use engage::domain::suppression::Suppression;
use engage::domain::{BrandId, CampaignId, CustomerId, OrderId, PromotionId, ReviewId};
use engage::mail::{MailError, Mailer, OutgoingEmail, SentMessage};
use engage::policy::PolicySet;
use engage::store::feedback::{FeedbackCounts, FeedbackKind, FeedbackOutcome, FeedbackStore};
use engage::store::{
    CampaignStore, CapOutcome, CapStore, CapTake, ContactOutcome, ContactStore, CreateOutcome,
    Entity, EntityChange, EntityStore, IdempotencyOutcome, IdempotencyStore, LedgerOutcome,
    LedgerStore, Page, SendStore, Store, StoreError, TransitionOutcome, UpsertOutcome,
};

/// A business clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock at `at`.
    pub fn new(at: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self(Mutex::new(at)))
    }
    /// Moves it to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The app the job runs with (links to an https public URL).
pub fn app(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> App {
    App::new(store, Arc::new(PolicySet::bundled().unwrap()), clock)
        .unwrap()
        .with_public_url("https://engage.example")
}

/// An instant.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A US brand.
pub async fn brand(store: &dyn Store, id: &str) {
    crate::common::brand(store, id, &format!("Brand {id}")).await;
}

/// A follower, possibly unfollowed or suppressed.
pub async fn follower(
    store: &dyn Store,
    brand: &str,
    customer: &str,
    unfollowed: bool,
    suppressed: bool,
) {
    let f = Follower {
        unfollowed,
        suppressed,
        ..follower_item(brand, customer)
    };
    store.upsert(&Entity::Follower(f)).await.unwrap();
}

/// A follower item (en-US, relay address `<customer>@relay.example`), not stored.
pub fn follower_item(brand: &str, customer: &str) -> Follower {
    Follower {
        brand_id: BrandId::new(brand),
        customer_id: CustomerId::new(customer),
        relay_email: format!("{customer}@relay.example"),
        locale: "en-US".to_owned(),
        followed_at: t("2026-10-01T00:00:00Z"),
        unfollowed: false,
        suppressed: false,
        updated_at: t("2026-10-01T00:00:00Z"),
    }
}

/// An `APPROVED` campaign starting on `start` (a US date): its window opens at
/// Pacific midnight and lasts the 5 days of the campaign policy.
pub fn campaign(id: &str, brand: &str, start: &str) -> Campaign {
    let date: NaiveDate = start.parse().unwrap();
    let window = send_window(date, zone(Marketplace::US), 5);
    Campaign {
        id: CampaignId::new(id),
        brand_id: BrandId::new(brand),
        purpose: Some("featured_product".into()),
        nickname: format!("nick {id}"),
        theme: None,
        primary_asin: "B000000001".to_owned(),
        promotion_id: None,
        lifestyle_image: engage::domain::campaign::Image {
            url: "https://img.example/l.jpg".to_owned(),
            width: 1200,
            height: 800,
        },
        complementary_asins: vec!["B000000002".to_owned()],
        start_date: date,
        subject: format!("News {id}"),
        section_header: "New from a brand you follow".to_owned(),
        logo: engage::domain::campaign::Logo {
            url: "https://img.example/logo.png".to_owned(),
            width: 600,
            height: 200,
            format: engage::domain::campaign::LogoFormat::Png,
            background: engage::domain::campaign::LogoBackground::Transparent,
        },
        header_style: engage::domain::campaign::HeaderStyle::Dark,
        status: CampaignStatus::Approved,
        status_reason: None,
        policy: "campaign@2026-11-01".to_owned(),
        warnings: vec![],
        send_window: window,
        created_at: t("2026-11-01T00:00:00Z"),
        updated_at: None,
    }
}

/// Stores a campaign.
pub async fn create(store: &dyn Store, c: &Campaign) {
    assert_eq!(
        store.create_campaign(c).await.unwrap(),
        CreateOutcome::Created
    );
}

/// Status and checkpoint of a campaign.
pub async fn state(store: &dyn Store, id: &str) -> (CampaignStatus, SendProgress) {
    let (c, p) = engage::store::campaign_progress(store, &CampaignId::new(id))
        .await
        .unwrap()
        .unwrap();
    (c.status, p)
}

/// One mail as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mail {
    /// `X-Engage-Campaign`.
    pub campaign: String,
    /// Relay address.
    pub to: String,
    /// `Date`.
    pub date: DateTime<Utc>,
}

/// A mailer that records what it accepted and fails call number `fail_at` (1-based,
/// 0: never) transiently, before sending anything. Clones share their counters and
/// records (one goes into the app, the test reads another).
#[derive(Debug, Default, Clone)]
pub struct FaultMailer {
    pub calls: Arc<AtomicUsize>,
    pub fail_at: Arc<AtomicUsize>,
    pub sent: Arc<Mutex<Vec<Mail>>>,
}

impl FaultMailer {
    /// Failing call `k` (0: none).
    pub fn failing(k: usize) -> Self {
        let m = Self::default();
        m.fail_at.store(k, Ordering::SeqCst);
        m
    }
    /// What was accepted.
    pub fn mails(&self) -> Vec<Mail> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Mailer for FaultMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<SentMessage, MailError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            return Err(MailError::transient("injected", "injected mail fault"));
        }
        email.validate()?;
        assert!(
            email
                .list_unsubscribe
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        );
        self.sent.lock().unwrap().push(Mail {
            campaign: email.header("X-Engage-Campaign").unwrap().to_owned(),
            to: email.to.clone(),
            date: email.date,
        });
        Ok(SentMessage {
            message_id: email.message_id.clone(),
            provider_id: String::new(),
        })
    }
}

/// The checks of every scenario: no (campaign, customer) twice, no brand twice to
/// one customer within `cap`. Returns the mails per campaign.
pub fn check_mails(
    mails: &[Mail],
    brand_of: impl Fn(&str) -> String,
    cap: Duration,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut per: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in mails {
        *per.entry((m.campaign.clone(), m.to.clone())).or_default() += 1;
    }
    let dups: Vec<_> = per.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "duplicates: {dups:?}");
    let mut by_brand: BTreeMap<(String, String), Vec<DateTime<Utc>>> = BTreeMap::new();
    for m in mails {
        by_brand
            .entry((brand_of(&m.campaign), m.to.clone()))
            .or_default()
            .push(m.date);
    }
    for ((b, to), mut dates) in by_brand {
        dates.sort();
        for w in dates.windows(2) {
            assert!(
                w[1] - w[0] >= cap,
                "cap breach: brand {b} reached {to} at {} and {}",
                w[0],
                w[1]
            );
        }
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in mails {
        out.entry(m.campaign.clone())
            .or_default()
            .insert(m.to.clone());
    }
    out
}

/// SIGKILLs `child` (an `engage tick`) once `written()` emails are out, so that the
/// kill lands mid-run (failing after 30 s without them), and reaps it.
pub fn kill_after(mut child: std::process::Child, emails: usize, written: impl Fn() -> usize) {
    let start = std::time::Instant::now();
    while written() < emails {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no email appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The `sent` total an `engage tick` printed (`send window: ..., sent N, ...`).
pub fn sent_total(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("send window: ")
                .and_then(|r| r.split("sent ").nth(1))
        })
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no totals in {stdout}"))
}

/// A store that fails call number `fail_at` (1-based, 0: never) with a transient
/// error; `after` decides whether the failing call is executed first (the answer
/// lost on the way back) or not at all. A batch of cap takes counts one call per take.
pub struct FaultStore {
    pub inner: Arc<dyn Store>,
    pub calls: AtomicUsize,
    pub fail_at: AtomicUsize,
    pub after: bool,
    /// The operation of every call, in order (the fault tests pick their fault
    /// points from the trace of a fault-free run).
    pub trace: Mutex<Vec<&'static str>>,
}

/// The store operations that write: a fault after one of them executed is a
/// different case from a fault before it (for a read the two are the same).
pub const STORE_WRITES: &[&str] = &[
    "create_campaign",
    "transition",
    "take_cap",
    "record_send",
    "put_contact",
    "begin",
    "complete",
    "release",
    "upsert",
    "merge",
    "suppress",
    "create_plan",
    "put_segment",
    "checkpoint_while_sending",
    "claim_message",
    "finish_message",
    "schedule_message",
];

impl FaultStore {
    /// A wrapper failing call `k`.
    pub fn new(inner: Arc<dyn Store>, k: usize, after: bool) -> Self {
        Self {
            inner,
            calls: AtomicUsize::new(0),
            fail_at: AtomicUsize::new(k),
            after,
            trace: Mutex::new(Vec::new()),
        }
    }

    fn hit(&self, op: &'static str) -> bool {
        self.trace.lock().unwrap().push(op);
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        n == self.fail_at.load(Ordering::SeqCst)
    }

    fn fault(op: &'static str) -> StoreError {
        StoreError::Transient {
            op,
            source: "injected store fault".into(),
        }
    }
}

macro_rules! faulty {
    ($self:ident, $op:literal, $call:expr) => {{
        if $self.hit($op) {
            if $self.after {
                let _ = $call.await;
            }
            return Err(FaultStore::fault($op));
        }
        $call.await
    }};
}

#[async_trait]
impl CampaignStore for FaultStore {
    async fn create_campaign(&self, c: &Campaign) -> Result<CreateOutcome, StoreError> {
        faulty!(self, "create_campaign", self.inner.create_campaign(c))
    }
    async fn get_campaign(&self, id: &CampaignId) -> Result<Option<Campaign>, StoreError> {
        faulty!(self, "get_campaign", self.inner.get_campaign(id))
    }
    async fn list_campaigns(
        &self,
        b: &BrandId,
        s: Option<CampaignStatus>,
    ) -> Result<Vec<Campaign>, StoreError> {
        faulty!(self, "list_campaigns", self.inner.list_campaigns(b, s))
    }
    async fn list_live_campaigns(&self, s: CampaignStatus) -> Result<Vec<Campaign>, StoreError> {
        faulty!(
            self,
            "list_live_campaigns",
            self.inner.list_live_campaigns(s)
        )
    }
    async fn transition(
        &self,
        id: &CampaignId,
        from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<TransitionOutcome, StoreError> {
        faulty!(
            self,
            "transition",
            self.inner.transition(id, from, to, reason, at)
        )
    }
}

#[async_trait]
impl CapStore for FaultStore {
    async fn take_cap(
        &self,
        b: &BrandId,
        c: &CustomerId,
        k: &CampaignId,
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Result<CapOutcome, StoreError> {
        faulty!(self, "take_cap", self.inner.take_cap(b, c, k, at, cap))
    }
}

#[async_trait]
impl LedgerStore for FaultStore {
    async fn record_send(&self, r: &SendRecord) -> Result<LedgerOutcome, StoreError> {
        faulty!(self, "record_send", self.inner.record_send(r))
    }
    async fn get_send(
        &self,
        c: &CampaignId,
        u: &CustomerId,
    ) -> Result<Option<SendRecord>, StoreError> {
        faulty!(self, "get_send", self.inner.get_send(c, u))
    }
}

#[async_trait]
impl ContactStore for FaultStore {
    async fn put_contact(&self, c: &Contact) -> Result<ContactOutcome, StoreError> {
        faulty!(self, "put_contact", self.inner.put_contact(c))
    }
    async fn get_contact(&self, r: &ReviewId) -> Result<Option<Contact>, StoreError> {
        faulty!(self, "get_contact", self.inner.get_contact(r))
    }
}

#[async_trait]
impl IdempotencyStore for FaultStore {
    async fn begin(
        &self,
        scope: &str,
        key: &str,
        hash: &str,
        at: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> Result<IdempotencyOutcome, StoreError> {
        faulty!(
            self,
            "begin",
            self.inner.begin(scope, key, hash, at, lease, ttl)
        )
    }
    async fn complete(
        &self,
        scope: &str,
        key: &str,
        r: &serde_json::Value,
    ) -> Result<(), StoreError> {
        faulty!(self, "complete", self.inner.complete(scope, key, r))
    }
    async fn release(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        faulty!(self, "release", self.inner.release(scope, key))
    }
}

#[async_trait]
impl EntityStore for FaultStore {
    async fn upsert(&self, e: &Entity) -> Result<UpsertOutcome, StoreError> {
        faulty!(self, "upsert", self.inner.upsert(e))
    }
    async fn merge(&self, c: &EntityChange) -> Result<UpsertOutcome, StoreError> {
        faulty!(self, "merge", self.inner.merge(c))
    }
    async fn suppress(&self, s: &Suppression) -> Result<UpsertOutcome, StoreError> {
        faulty!(self, "suppress", self.inner.suppress(s))
    }
    async fn get_brand(&self, b: &BrandId) -> Result<Option<Brand>, StoreError> {
        faulty!(self, "get_brand", self.inner.get_brand(b))
    }
    async fn get_follower(
        &self,
        b: &BrandId,
        c: &CustomerId,
    ) -> Result<Option<Follower>, StoreError> {
        faulty!(self, "get_follower", self.inner.get_follower(b, c))
    }
    async fn get_suppression(
        &self,
        b: &BrandId,
        c: &CustomerId,
    ) -> Result<Option<Suppression>, StoreError> {
        faulty!(self, "get_suppression", self.inner.get_suppression(b, c))
    }
    async fn get_promotion(&self, id: &PromotionId) -> Result<Option<Promotion>, StoreError> {
        faulty!(self, "get_promotion", self.inner.get_promotion(id))
    }
    async fn get_order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        faulty!(self, "get_order", self.inner.get_order(id))
    }
    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, StoreError> {
        faulty!(self, "get_review", self.inner.get_review(id))
    }
    async fn list_followers(
        &self,
        b: &BrandId,
        token: Option<&str>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        faulty!(
            self,
            "list_followers",
            self.inner.list_followers(b, token, limit)
        )
    }
    async fn list_promotions(
        &self,
        b: &BrandId,
        asin: Option<&str>,
    ) -> Result<Vec<Promotion>, StoreError> {
        faulty!(self, "list_promotions", self.inner.list_promotions(b, asin))
    }
    async fn list_orders(
        &self,
        b: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        faulty!(self, "list_orders", self.inner.list_orders(b, from, to))
    }
    async fn list_reviews(
        &self,
        b: &BrandId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Review>, StoreError> {
        faulty!(self, "list_reviews", self.inner.list_reviews(b, from, to))
    }
}

#[async_trait]
impl FeedbackStore for FaultStore {
    async fn count_feedback(
        &self,
        b: &BrandId,
        key: &str,
        kind: FeedbackKind,
        at: DateTime<Utc>,
    ) -> Result<FeedbackOutcome, StoreError> {
        faulty!(
            self,
            "count_feedback",
            self.inner.count_feedback(b, key, kind, at)
        )
    }
    async fn feedback_counts(&self, b: &BrandId) -> Result<FeedbackCounts, StoreError> {
        faulty!(self, "feedback_counts", self.inner.feedback_counts(b))
    }
}

#[async_trait]
impl SendStore for FaultStore {
    async fn list_follower_range(
        &self,
        b: &BrandId,
        r: FollowerRange,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<Page<Follower>, StoreError> {
        faulty!(
            self,
            "list_follower_range",
            self.inner.list_follower_range(b, r, after, limit)
        )
    }
    async fn count_follower_range(
        &self,
        b: &BrandId,
        r: FollowerRange,
        up_to: u64,
    ) -> Result<u64, StoreError> {
        faulty!(
            self,
            "count_follower_range",
            self.inner.count_follower_range(b, r, up_to)
        )
    }
    async fn create_plan(&self, p: &SendPlan) -> Result<SendPlan, StoreError> {
        faulty!(self, "create_plan", self.inner.create_plan(p))
    }
    async fn get_plan(&self, c: &CampaignId) -> Result<Option<SendPlan>, StoreError> {
        faulty!(self, "get_plan", self.inner.get_plan(c))
    }
    async fn put_segment(&self, s: &Segment, expected: Option<u64>) -> Result<bool, StoreError> {
        faulty!(self, "put_segment", self.inner.put_segment(s, expected))
    }
    async fn checkpoint_while_sending(
        &self,
        s: &Segment,
        expected: u64,
    ) -> Result<engage::store::SegmentWrite, StoreError> {
        faulty!(
            self,
            "checkpoint_while_sending",
            self.inner.checkpoint_while_sending(s, expected)
        )
    }
    async fn get_segment(&self, c: &CampaignId, i: u32) -> Result<Option<Segment>, StoreError> {
        faulty!(self, "get_segment", self.inner.get_segment(c, i))
    }
    async fn list_segments(&self, c: &CampaignId) -> Result<Vec<Segment>, StoreError> {
        faulty!(self, "list_segments", self.inner.list_segments(c))
    }
    async fn take_caps(
        &self,
        takes: &[CapTake],
        at: DateTime<Utc>,
        cap: Duration,
    ) -> Vec<Result<CapOutcome, StoreError>> {
        let mut out = Vec::with_capacity(takes.len());
        for take in takes {
            let one = std::slice::from_ref(take);
            let r = if self.hit("take_cap") {
                if self.after {
                    let _ = self.inner.take_caps(one, at, cap).await;
                }
                Err(FaultStore::fault("take_cap"))
            } else {
                self.inner
                    .take_caps(one, at, cap)
                    .await
                    .pop()
                    .unwrap_or_else(|| Err(FaultStore::fault("take_cap")))
            };
            out.push(r);
        }
        out
    }
}

// Added by the sequences work (issue 7): `MessageStore` joined the `Store` port.
#[async_trait]
impl engage::store::MessageStore for FaultStore {
    async fn claim_message(
        &self,
        r: &engage::store::MessageRecord,
        lease_now: DateTime<Utc>,
    ) -> Result<engage::store::MessageClaim, StoreError> {
        faulty!(
            self,
            "claim_message",
            self.inner.claim_message(r, lease_now)
        )
    }
    async fn finish_message(
        &self,
        r: &engage::store::MessageRecord,
    ) -> Result<engage::store::MessageFinish, StoreError> {
        faulty!(self, "finish_message", self.inner.finish_message(r))
    }
    async fn get_message(
        &self,
        o: &OrderId,
        t: &str,
    ) -> Result<Option<engage::store::MessageRecord>, StoreError> {
        faulty!(self, "get_message", self.inner.get_message(o, t))
    }
    async fn schedule_message(
        &self,
        e: &engage::store::MessageRecord,
    ) -> Result<engage::store::UpsertOutcome, StoreError> {
        faulty!(self, "schedule_message", self.inner.schedule_message(e))
    }
    async fn list_due_messages(
        &self,
        from_day: chrono::NaiveDate,
        until: DateTime<Utc>,
        token: Option<&str>,
        limit: usize,
    ) -> Result<engage::store::Page<engage::store::MessageRecord>, StoreError> {
        faulty!(
            self,
            "list_due_messages",
            self.inner.list_due_messages(from_day, until, token, limit)
        )
    }
}
