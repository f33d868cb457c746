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
    LedgerStore, MessageClaim, MessageFinish, MessageRecord, MessageStore, Page, SegmentWrite,
    SendStore, Store, StoreError, TransitionOutcome, UpsertOutcome,
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
    App::new(store, Arc::new(PolicySet::bundled()), clock)
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
    crate::common::follower(brand, customer, t("2026-10-01T00:00:00Z"))
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
    calls: Arc<AtomicUsize>,
    fail_at: Arc<AtomicUsize>,
    sent: Arc<Mutex<Vec<Mail>>>,
}

impl FaultMailer {
    /// Failing call `k` (0: none).
    pub fn failing(k: usize) -> Self {
        let m = Self::default();
        m.fail_at.store(k, Ordering::SeqCst);
        m
    }
    /// The calls so far, the failed one included.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
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

/// Implements `$port` for [`FaultStore`] from the port's signatures: each listed
/// operation is one call, named after it, passed on to the inner store unless it is
/// the call to fail (then run first only when `after`). Operations that count
/// differently (`take_caps`: one call per take) follow the list, written out.
macro_rules! faulty_port {
    ($port:path {
        $(fn $op:ident($($arg:ident: $ty:ty),* $(,)?) -> $ok:ty;)*
    } $($written_out:tt)*) => {
        #[async_trait]
        impl $port for FaultStore {
            $(
                async fn $op(&self, $($arg: $ty),*) -> Result<$ok, StoreError> {
                    let op = stringify!($op);
                    if self.hit(op) {
                        if self.after {
                            let _ = self.inner.$op($($arg),*).await;
                        }
                        return Err(FaultStore::fault(op));
                    }
                    self.inner.$op($($arg),*).await
                }
            )*
            $($written_out)*
        }
    };
}

faulty_port!(CampaignStore {
    fn create_campaign(c: &Campaign) -> CreateOutcome;
    fn get_campaign(id: &CampaignId) -> Option<Campaign>;
    fn list_campaigns(b: &BrandId, s: Option<CampaignStatus>) -> Vec<Campaign>;
    fn list_live_campaigns(s: CampaignStatus) -> Vec<Campaign>;
    fn transition(
        id: &CampaignId,
        from: &[CampaignStatus],
        to: CampaignStatus,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> TransitionOutcome;
});

faulty_port!(CapStore {
    fn take_cap(
        b: &BrandId,
        c: &CustomerId,
        k: &CampaignId,
        at: DateTime<Utc>,
        cap: Duration,
    ) -> CapOutcome;
});

faulty_port!(LedgerStore {
    fn record_send(r: &SendRecord) -> LedgerOutcome;
    fn get_send(c: &CampaignId, u: &CustomerId) -> Option<SendRecord>;
});

faulty_port!(ContactStore {
    fn put_contact(c: &Contact) -> ContactOutcome;
    fn get_contact(r: &ReviewId) -> Option<Contact>;
    fn list_contacts(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Contact>;
});

faulty_port!(IdempotencyStore {
    fn begin(
        scope: &str,
        key: &str,
        hash: &str,
        at: DateTime<Utc>,
        lease: Duration,
        ttl: Duration,
    ) -> IdempotencyOutcome;
    fn complete(scope: &str, key: &str, r: &serde_json::Value) -> ();
    fn release(scope: &str, key: &str) -> ();
});

faulty_port!(EntityStore {
    fn upsert(e: &Entity) -> UpsertOutcome;
    fn merge(c: &EntityChange) -> UpsertOutcome;
    fn suppress(s: &Suppression) -> UpsertOutcome;
    fn get_brand(b: &BrandId) -> Option<Brand>;
    fn get_follower(b: &BrandId, c: &CustomerId) -> Option<Follower>;
    fn get_suppression(b: &BrandId, c: &CustomerId) -> Option<Suppression>;
    fn get_promotion(id: &PromotionId) -> Option<Promotion>;
    fn get_order(id: &OrderId) -> Option<Order>;
    fn get_review(id: &ReviewId) -> Option<Review>;
    fn list_followers(b: &BrandId, token: Option<&str>, limit: usize) -> Page<Follower>;
    fn list_promotions(b: &BrandId, asin: Option<&str>) -> Vec<Promotion>;
    fn list_orders(b: &BrandId, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Order>;
    fn list_reviews(b: &BrandId, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Review>;
});

faulty_port!(FeedbackStore {
    fn count_feedback(
        b: &BrandId,
        key: &str,
        kind: FeedbackKind,
        at: DateTime<Utc>,
    ) -> FeedbackOutcome;
    fn feedback_counts(b: &BrandId) -> FeedbackCounts;
});

faulty_port!(SendStore {
    fn list_follower_range(
        b: &BrandId,
        r: FollowerRange,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Page<Follower>;
    fn count_follower_range(b: &BrandId, r: FollowerRange, up_to: u64) -> u64;
    fn create_plan(p: &SendPlan) -> SendPlan;
    fn get_plan(c: &CampaignId) -> Option<SendPlan>;
    fn put_segment(s: &Segment, expected: Option<u64>) -> bool;
    fn checkpoint_while_sending(s: &Segment, expected: u64) -> SegmentWrite;
    fn get_segment(c: &CampaignId, i: u32) -> Option<Segment>;
    fn list_segments(c: &CampaignId) -> Vec<Segment>;
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
);

faulty_port!(MessageStore {
    fn claim_message(r: &MessageRecord, lease_now: DateTime<Utc>) -> MessageClaim;
    fn finish_message(r: &MessageRecord) -> MessageFinish;
    fn get_message(o: &OrderId, t: &str) -> Option<MessageRecord>;
    fn schedule_message(e: &MessageRecord) -> UpsertOutcome;
    fn list_due_messages(
        from_day: NaiveDate,
        until: DateTime<Utc>,
        token: Option<&str>,
        limit: usize,
    ) -> Page<MessageRecord>;
});
