//! Shared test helpers: store builders for both adapters and sample domain values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use chrono::{DateTime, NaiveDate, Utc};
use engage::app::App;
use engage::auth::{Caller, Role};
use engage::clock::FixedClock;
use engage::domain::brand::{Brand, Marketplace};
use engage::domain::campaign::{
    Campaign, CampaignStatus, HeaderStyle, Image, Logo, LogoBackground, LogoFormat, SendWindow,
};
use engage::domain::follower::Follower;
use engage::domain::{BrandId, CampaignId, CustomerId, SellerId};
use engage::policy::{PolicySet, SourceFile};
use engage::store::{DynamoStore, EmbeddedStore, Entity, Store};

/// The workspace root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the test command's virtual environment (`ENGAGE_PYTHON`, set by
/// `tests/run`, or `.venv/bin/python`): the infra documents are read with the tools
/// that check them in CI (cfn-lint, openapi-spec-validator).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ENGAGE_PYTHON") {
        return p.into();
    }
    let venv = root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no .venv with cfn-lint and openapi-spec-validator: run the tests through ./tests/run"
    );
    venv
}

/// What `script` prints as JSON when run on `file` (relative to the root) by that Python.
pub fn python_json(script: &str, file: &str) -> serde_json::Value {
    let out = Command::new(python())
        .args(["-c", script])
        .arg(root().join(file))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// A copy of `policies/` in a fresh folder: each policy's version files (not its cases),
/// each text through `edit(policy, text)`.
pub fn policies_copy(edit: impl Fn(&str, String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(root().join("policies")).expect("policies/") {
        let entry = entry.expect("policy folder");
        if !entry.path().is_dir() {
            continue;
        }
        let policy = entry.file_name().to_string_lossy().into_owned();
        let to = dir.path().join(&policy);
        std::fs::create_dir_all(&to).expect("create policy folder");
        for f in std::fs::read_dir(entry.path()).expect("policy folder") {
            let f = f.expect("policy file");
            if f.path().extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(f.path()).expect("read policy");
                std::fs::write(to.join(f.file_name()), edit(&policy, text)).expect("write policy");
            }
        }
    }
    dir
}

/// The bundled version files as sources to load, each text through `edit(policy, text)`.
pub fn bundled_sources(edit: impl Fn(&str, String) -> String) -> Vec<SourceFile> {
    engage::policy::bundled::files()
        .iter()
        .map(|(name, version, text)| SourceFile {
            file: format!("test:{name}/{version}.toml"),
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            text: edit(name, (*text).to_owned()),
        })
        .collect()
}

/// The variable `./tests/run` sets to moto's address.
pub const ENDPOINT_VAR: &str = "ENGAGE_TEST_AWS_ENDPOINT";

/// An embedded store in a fresh temporary folder (the folder lives as long as the guard).
pub fn embedded() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path()).expect("open embedded store");
    (Arc::new(store), dir)
}

/// Declares one test per store adapter running the same scenario: `$embedded` on an
/// embedded store, `$dynamo` on a DynamoDB table on moto; `$store` names the store
/// (an `Arc`) in `$body`, and the attributes (e.g. `#[tokio::test]`) go on both.
macro_rules! on_each_store {
    ($(#[$m:meta])* $embedded:ident, $dynamo:ident, |$store:ident| $body:expr) => {
        $(#[$m])*
        async fn $embedded() {
            let ($store, _dir) = crate::common::embedded();
            $body;
        }

        $(#[$m])*
        async fn $dynamo() {
            let ($store, _table) = crate::common::dynamo().await;
            $body;
        }
    };
}
pub(crate) use on_each_store;

/// moto's endpoint; fails the test (never skips) when it is missing.
pub fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: the tests of the AWS adapters need moto; run ./tests/run"
        ),
    }
}

/// The functions' own AWS configuration ([`engage::runtime::AwsClients`]) pointed at
/// moto, built from scratch (each call is independent).
pub fn aws() -> aws_types::SdkConfig {
    let settings = engage::config::AwsSettings {
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        session_token: None,
        endpoint_url: Some(endpoint()),
    };
    let clients = engage::runtime::AwsClients::new(&settings).expect("moto's settings");
    clients.sdk_config().clone()
}

/// A DynamoDB client for moto, built from scratch (each call is independent).
pub async fn dynamo_client() -> Client {
    Client::new(&aws())
}

/// An SES v2 client for moto, retrying as `SesMailer` is configured to.
pub async fn ses_client() -> aws_sdk_sesv2::Client {
    let conf = aws_sdk_sesv2::config::Builder::from(&aws())
        .retry_config(engage::mail::SesMailer::retry_config())
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

/// A sender address on a fresh domain, verified on moto's SES.
pub async fn ses_sender(ses: &aws_sdk_sesv2::Client) -> String {
    let sender = format!("campaigns@b{}.example", uuid::Uuid::new_v4().simple());
    ses.create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("verify the sender on moto");
    sender
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

/// A DynamoDB store over a fresh table on moto holding a copy of every item of `source`
/// (a scan, then batches of 25): a seeded state set up once and copied for each run of a
/// scenario costs a few requests instead of the seeding's hundreds.
pub async fn dynamo_copy(source: &str) -> (Arc<DynamoStore>, String) {
    let (store, table) = dynamo().await;
    let client = dynamo_client().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(source)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan the source table on moto");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    for chunk in items.chunks(25) {
        let writes = chunk.iter().map(|item| {
            let put = aws_sdk_dynamodb::types::PutRequest::builder()
                .set_item(Some(item.clone()))
                .build()
                .expect("a put request");
            aws_sdk_dynamodb::types::WriteRequest::builder()
                .put_request(put)
                .build()
        });
        let out = client
            .batch_write_item()
            .request_items(&table, writes.collect())
            .send()
            .await
            .expect("copy items on moto");
        let left = out.unprocessed_items.unwrap_or_default();
        assert!(
            left.values().all(Vec::is_empty),
            "moto left items unwritten"
        );
    }
    (store, table)
}

/// The signer of [`app`] and of `engage` without a configured secret: the local
/// default, which a deployment refuses.
pub fn local_signer() -> engage::unsubscribe::TokenSigner {
    engage::unsubscribe::TokenSigner::new(engage::unsubscribe::LOCAL_UNSUBSCRIBE_SECRET.as_bytes())
}

/// The app over `store` with the bundled policies, its clock stopped at `now`.
pub fn app(store: Arc<dyn Store>, now: DateTime<Utc>) -> App {
    App::new(
        store,
        Arc::new(PolicySet::bundled()),
        Arc::new(FixedClock(now)),
    )
    .expect("app")
}

/// A brand representative (user u1 of seller S1) of `brands`.
pub fn rep(brands: &[&str]) -> Caller {
    Caller {
        user: "u1".into(),
        seller_id: "S1".into(),
        brands: brands.iter().map(|b| (*b).to_owned()).collect(),
        roles: [Role::BrandRepresentative].into_iter().collect(),
    }
}

/// Stores brand `id` of seller S1 on the US marketplace, with a store page.
pub async fn brand(store: &dyn Store, id: &str, name: &str) {
    let brand = Brand {
        brand_id: BrandId::new(id),
        name: name.to_owned(),
        seller_id: SellerId::new("S1"),
        marketplace: Marketplace::US,
        has_store_page: true,
        updated_at: t("2026-01-01T00:00:00Z"),
    };
    store
        .upsert(&Entity::Brand(brand))
        .await
        .expect("store brand");
}

/// The `field` of every item of the array `v[array]`, as text, sorted.
pub fn sorted_field(v: &serde_json::Value, array: &str, field: &str) -> Vec<String> {
    let mut out: Vec<String> = v[array]
        .as_array()
        .unwrap_or_else(|| panic!("no array {array} in {v}"))
        .iter()
        .map(|x| x[field].as_str().expect("a text field").to_owned())
        .collect();
    out.sort();
    out
}

/// The rule ids of a problem's violations, sorted.
pub fn fired(problem: &serde_json::Value) -> Vec<String> {
    sorted_field(problem, "violations", "rule")
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

/// Counts DynamoDB requests by operation (`PutItem`, `Query`..., from `X-Amz-Target`),
/// retries included, and the items the reads returned (`items read`): what the
/// request-budget tests assert on. Clones share the counts.
#[derive(Debug, Default, Clone)]
pub struct RequestCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl RequestCounter {
    /// The writes a store can make.
    pub const WRITES: [&str; 5] = [
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
    ];
    /// The reads a store can make.
    pub const READS: [&str; 4] = ["GetItem", "Query", "Scan", "BatchGetItem"];

    fn add(&self, key: &str, n: usize) {
        *self
            .0
            .lock()
            .expect("counts")
            .entry(key.to_owned())
            .or_default() += n;
    }

    /// The count of `key` so far.
    pub fn get(&self, key: &str) -> usize {
        self.0
            .lock()
            .expect("counts")
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// The sum of the counts of `keys`.
    pub fn sum(&self, keys: &[&str]) -> usize {
        keys.iter().map(|k| self.get(k)).sum()
    }

    /// Every count so far.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.0.lock().expect("counts").clone()
    }

    /// A moto DynamoDB client whose every request this counter sees.
    pub async fn client(&self) -> Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(&aws())
            .interceptor(self.clone())
            .build();
        Client::from_conf(conf)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "request counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = context
            .request()
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("?");
        self.add(op, 1);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(out) = context.output_or_error() {
            if let Some(q) = out.downcast_ref::<QueryOutput>() {
                self.add("items read", usize::try_from(q.count).unwrap_or(0));
            } else if let Some(g) = out.downcast_ref::<GetItemOutput>() {
                self.add("items read", usize::from(g.item.is_some()));
            }
        }
        Ok(())
    }
}
