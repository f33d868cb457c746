//! Shared test helpers: store builders for both adapters and sample domain values.

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, NaiveDate, Utc};
use engage::app::App;
use engage::clock::FixedClock;
use engage::domain::campaign::{
    Campaign, CampaignStatus, HeaderStyle, Image, Logo, LogoBackground, LogoFormat, SendWindow,
};
use engage::domain::follower::Follower;
use engage::domain::{BrandId, CampaignId, CustomerId};
use engage::policy::PolicySet;
use engage::store::{DynamoStore, EmbeddedStore, Store};

/// The variable `./tests/run` sets to moto's address.
pub const ENDPOINT_VAR: &str = "ENGAGE_TEST_AWS_ENDPOINT";

/// An embedded store in a fresh temporary folder (the folder lives as long as the guard).
pub fn embedded() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path()).expect("open embedded store");
    (Arc::new(store), dir)
}

/// moto's endpoint; fails the test (never skips) when it is missing.
pub fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: the DynamoDB contract tests need moto; run ./tests/run"
        ),
    }
}

/// A DynamoDB client for moto, built from scratch (each call is independent).
pub async fn dynamo_client() -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint());
    if std::env::var("AWS_REGION").is_err() {
        loader = loader.region(Region::new("us-east-1"));
    }
    Client::new(&loader.load().await)
}

/// A DynamoDB store over a fresh, uniquely named table on moto.
pub async fn dynamo() -> (Arc<DynamoStore>, String) {
    let client = dynamo_client().await;
    let table = format!("engage-test-{}", uuid::Uuid::new_v4());
    DynamoStore::create_table(&client, &table)
        .await
        .expect("create table on moto");
    (Arc::new(DynamoStore::new(client, table.clone())), table)
}

/// The app over `store` with the bundled policies, its clock stopped at `now`.
pub fn app(store: Arc<dyn Store>, now: DateTime<Utc>) -> App {
    App::new(
        store,
        Arc::new(PolicySet::bundled().expect("bundled policies")),
        Arc::new(FixedClock(now)),
    )
    .expect("app")
}

/// An instant from RFC 3339.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&Utc)
}

/// A campaign in `IN_REVIEW`.
pub fn campaign(id: &str, brand: &str, created_at: DateTime<Utc>) -> Campaign {
    Campaign {
        id: CampaignId::new(id),
        brand_id: BrandId::new(brand),
        purpose: Some("featured_product".into()),
        nickname: format!("nick {id}"),
        theme: Some("black-friday-2026".to_owned()),
        primary_asin: "B000000001".to_owned(),
        promotion_id: None,
        lifestyle_image: Image {
            url: "https://img.example/l.jpg".to_owned(),
            width: 1200,
            height: 800,
        },
        complementary_asins: vec!["B000000002".to_owned(), "B000000003".to_owned()],
        start_date: NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
        subject: "New from a brand you follow".to_owned(),
        section_header: "Just launched".to_owned(),
        logo: Logo {
            url: "https://img.example/logo.png".to_owned(),
            width: 600,
            height: 200,
            format: LogoFormat::Png,
            background: LogoBackground::Transparent,
        },
        header_style: HeaderStyle::Dark,
        status: CampaignStatus::InReview,
        status_reason: None,
        policy: "campaign@2026-11-01".to_owned(),
        warnings: vec![],
        send_window: SendWindow {
            start: t("2026-11-20T08:00:00Z"),
            end: t("2026-11-25T08:00:00Z"),
        },
        created_at,
        updated_at: None,
    }
}

/// A follower.
pub fn follower(brand: &str, customer: &str, at: DateTime<Utc>) -> Follower {
    Follower {
        brand_id: BrandId::new(brand),
        customer_id: CustomerId::new(customer),
        relay_email: format!("{customer}@relay.example"),
        locale: "en-US".to_owned(),
        followed_at: at,
        unfollowed: false,
        suppressed: false,
        updated_at: at,
    }
}

/// The DynamoDB operation of a request an interceptor sees (`PutItem`, `Query`...),
/// from its `X-Amz-Target`: what the request-counting tests count by.
pub fn dynamo_operation(
    context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
) -> String {
    context
        .request()
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("?")
        .to_owned()
}
