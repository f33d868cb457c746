//! `engage demo`: seeds a brand, followers, promotions, orders and reviews
//! (the shipped sample events) into a fresh embedded store, then walks them
//! through everything with a business clock that moves: eligible promotions,
//! a refused and an accepted campaign, moderation, the calendar, the send
//! window before and at its opening, performance, a review contact and the
//! buyer-message sequences. It prints each step and where the emails landed.
//!
//! Everything goes through the same use cases and jobs as `engage serve` and
//! `engage tick`; only the HTTP layer is skipped.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use engage::app::calendar::{Availability, CalendarQuery};
use engage::app::campaigns::{CampaignInput, Moderation, ModerationDecision};
use engage::app::contact::{ContactInput, ReviewQuery};
use engage::app::promotions::EligibilityQuery;
use engage::app::{App, AppError, calendar, campaigns, contact, performance, promotions};
use engage::auth::{Caller, Role};
use engage::bus::FilePublisher;
use engage::clock::FixedClock;
use engage::config::Config;
use engage::jobs::{events, send_window, sequences};
use engage::mail::OutboxMailer;
use engage::policy::PolicySet;
use engage::store::{EmbeddedStore, Store};

use super::tick::{print_report, print_sequences};

const SAMPLE_EVENTS: &str = include_str!("../../tests/fixtures/sample-events.ndjson");
const SAMPLE_CAMPAIGN: &str = include_str!("../../tests/fixtures/campaign.json");
const TODAY: &str = "2026-11-26T12:00:00Z";

/// Arguments of `engage demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The demo's own folder (data and outbox); emptied first.
    #[arg(long, default_value = ".engage/demo")]
    dir: PathBuf,
}

fn at(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
}

struct Demo {
    store: Arc<dyn Store>,
    policies: Arc<PolicySet>,
    mailer: Arc<OutboxMailer>,
    publisher: Arc<FilePublisher>,
    config: Config,
}

impl Demo {
    /// The app as of `now` (the business clock moves between steps).
    fn app(&self, now: &str) -> anyhow::Result<App> {
        Ok(App::new(
            self.store.clone(),
            self.policies.clone(),
            Arc::new(FixedClock(at(now)?)),
        )?
        .with_unsubscribe_secret(self.config.unsubscribe_secret.as_bytes())
        .with_mailer(self.mailer.clone())
        .with_publisher(self.publisher.clone()))
    }

    async fn tick(&self, now: &str) -> anyhow::Result<()> {
        let app = self.app(now)?;
        let options = send_window::SendOptions::from_config(&self.config).fresh_run();
        let report = send_window::run(&app, &options).await?;
        print_report(&report);
        let options = sequences::SequenceOptions::from_config(&self.config);
        let seq = sequences::run(&app, &options).await?;
        print_sequences(&seq);
        Ok(())
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn caller(seller: &str, brands: &[&str], role: Role) -> Caller {
    Caller {
        user: seller.to_owned(),
        seller_id: seller.to_owned(),
        brands: brands.iter().map(|b| (*b).to_owned()).collect(),
        roles: [role].into_iter().collect(),
    }
}

fn explain(e: &AppError) {
    match e {
        AppError::Rules {
            policy, violations, ..
        } => {
            println!("refused by {policy}:");
            for v in violations {
                println!(
                    "  {} ({}) {}: {}",
                    v.rule,
                    v.policy,
                    v.field.as_deref().unwrap_or("-"),
                    v.message
                );
            }
        }
        other => println!("refused: {other}"),
    }
}

pub fn run(args: DemoArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir)?;
    }
    let data = args.dir.join("data");
    let outbox = args.dir.join("outbox");
    let demo = Demo {
        store: Arc::new(EmbeddedStore::open(&data)?),
        policies: Arc::new(PolicySet::bundled()),
        mailer: Arc::new(OutboxMailer::new(&outbox)?),
        publisher: Arc::new(FilePublisher::in_dir(&data)?),
        config: config.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(walk(&demo))?;
    step("where the emails landed");
    summarize_outbox(&outbox)?;
    println!(
        "published events: {}",
        data.join("published-events.ndjson").display()
    );
    println!(
        "data: {} (engage serve --data {} --now ... serves it)",
        data.display(),
        data.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn walk(demo: &Demo) -> anyhow::Result<()> {
    let rep = caller("S1", &["B1"], Role::BrandRepresentative);
    let moderator = caller("OPS", &[], Role::Moderator);

    step(&format!(
        "{TODAY}: the marketplace's events (tests/fixtures/sample-events.ndjson)"
    ));
    let (mut applied, mut stale) = (0, 0);
    for value in events::parse_input(SAMPLE_EVENTS) {
        let event = events::parse(value?)?;
        if events::apply(demo.store.as_ref(), &event, at(TODAY)?)
            .await?
            .written()
        {
            applied += 1;
        } else {
            stale += 1;
        }
    }
    println!(
        "{applied} events applied, {stale} stale: brand B1 (seller S1) with 20 followers, 5 promotions, orders and reviews"
    );

    let app = demo.app(TODAY)?;
    step("promotions a campaign starting 2026-12-07 may carry (R-MYCE-11)");
    let q = EligibilityQuery {
        asin: Some("B0ENGAGE01".into()),
        start_date: Some("2026-12-07".parse()?),
        theme: None,
    };
    let e = promotions::eligible(&app, &rep, "B1", q).await?;
    for p in &e.eligible {
        println!("eligible   {}", p.promotion_id);
    }
    for p in &e.ineligible {
        let rules: Vec<&str> = p.reasons.iter().map(|r| r.rule.as_str()).collect();
        println!(
            "ineligible {} {}",
            p.promotion.promotion_id,
            rules.join(", ")
        );
    }

    step("a campaign whose subject spells out a web address");
    let mut bad: CampaignInput = serde_json::from_str(SAMPLE_CAMPAIGN)?;
    bad.subject = Some("Shop northwind dot com".into());
    bad.start_date = "2026-11-29".parse()?;
    match campaigns::submit(&app, &rep, bad, None).await {
        Ok(_) => println!("unexpectedly accepted"),
        Err(e) => explain(&e),
    }

    step("the valid campaign");
    let input: CampaignInput = serde_json::from_str(SAMPLE_CAMPAIGN)?;
    let campaign = match campaigns::submit(&app, &rep, input, Some("demo-1")).await? {
        campaigns::Submitted::Created { campaign } => campaign,
        campaigns::Submitted::Refused { detail, .. } => {
            anyhow::bail!("the sample campaign was refused: {detail}")
        }
    };
    let id = campaign.id.to_string();
    println!(
        "201 campaign {id}: {:?} (policy {:?}), window {:?} to {:?}",
        campaign.status.to_string(),
        campaign.policy,
        campaign
            .send_window
            .start
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        campaign
            .send_window
            .end
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    let approved = campaigns::moderate(
        &app,
        &moderator,
        &id,
        Moderation {
            decision: ModerationDecision::Approve,
            reasons: vec![],
        },
    )
    .await?;
    println!("moderation: {}", approved.status);

    step("the calendar: grey, green, yellow (R-MYCE-13)");
    let q = CalendarQuery {
        from: Some("2026-11-30".parse()?),
        to: Some("2026-12-13".parse()?),
        theme: None,
        promotion_id: None,
    };
    for day in calendar::calendar(&app, &rep, "B1", q).await?.days {
        let colour = match day.availability {
            Availability::Unavailable => "grey  ",
            Availability::Available => "green ",
            Availability::Overlap => "yellow",
        };
        let rules: Vec<&str> = day.reasons.iter().map(|r| r.rule.as_str()).collect();
        println!("{} {colour} {}", day.date, rules.join(", "));
    }

    step(&format!(
        "{TODAY}: a tick (buyer messages due today; the campaign's window is not open)"
    ));
    demo.tick(TODAY).await?;
    step("2026-12-07T07:59:59Z: one second before midnight Pacific of the start date");
    demo.tick("2026-12-07T07:59:59Z").await?;
    step("2026-12-07T08:00:00Z: the window opens");
    demo.tick("2026-12-07T08:00:00Z").await?;
    let perf = performance::get(&demo.app("2026-12-07T08:00:00Z")?, &rep, &id).await?;
    println!("performance: {}", serde_json::to_string(&perf)?);

    step("Contact Customer: the brand answers a 2-star review (R-CC-1..7)");
    let app = demo.app(TODAY)?;
    let reviews = contact::list_reviews(
        &app,
        &rep,
        &ReviewQuery {
            stars: Some(vec![1, 2, 3]),
            ..ReviewQuery::default()
        },
    )
    .await?;
    for r in &reviews {
        let rules: Vec<&str> = r.contact.reasons.iter().map(|v| v.rule.as_str()).collect();
        println!(
            "review {} {}*: eligible {} {}",
            r.review.review_id,
            r.review.rating,
            r.contact.eligible,
            rules.join(", ")
        );
    }
    let created = contact::contact(
        &app,
        &rep,
        "R-1002",
        ContactInput {
            reason: "courtesy_refund".into(),
        },
    )
    .await?;
    println!(
        "contact {} ({:?}) sent at {} (policy {})",
        created.id, created.reason, created.sent_at, created.policy
    );
    if let Err(e) = contact::contact(
        &app,
        &rep,
        "R-1002",
        ContactInput {
            reason: "customer_support".into(),
        },
    )
    .await
    {
        println!("a second contact on R-1002: {e}");
    }
    Ok(())
}

fn summarize_outbox(outbox: &Path) -> anyhow::Result<()> {
    let (mut campaign, mut contact, mut message) = (0, 0, 0);
    for entry in std::fs::read_dir(outbox)? {
        let text = std::fs::read_to_string(entry?.path())?;
        if text.contains("X-Engage-Campaign:") {
            campaign += 1;
        } else if text.contains("X-Engage-Contact:") {
            contact += 1;
        } else if text.contains("X-Engage-Message:") {
            message += 1;
        }
    }
    println!(
        "{}: {campaign} campaign email(s), {contact} contact email(s), {message} buyer message(s)",
        outbox.display()
    );
    Ok(())
}
