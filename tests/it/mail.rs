//! The mail port end to end: MIME headers, header injection, HTML escaping, the outbox, SES v2
//! through moto, and the campaign template.

use crate::common::{self, endpoint, ses_client};
use chrono::{TimeZone, Utc};
use engage::domain::campaign::{HeaderStyle, Image};
use engage::mail::render::{Product, ThemeColors};
use engage::mail::{
    CampaignEmail, MailError, Mailbox, Mailer, OutboxMailer, OutgoingEmail, RenderedEmail,
    Renderer, SesMailer, build_mime,
};
use mail_parser::{MessageParser, MimeHeaders};

fn product(asin: &str, title: &str) -> Product {
    Product {
        asin: asin.into(),
        title: Some(title.into()),
        image_url: Some(format!("https://img.example/{asin}.jpg")),
        url: Some(format!("https://www.marketplace.example/dp/{asin}")),
    }
}

fn campaign_view() -> CampaignEmail {
    CampaignEmail {
        brand_name: "Nordly".into(),
        subject: "New from Nordly".into(),
        section_header: "New product from a brand you follow".into(),
        logo: Image {
            url: "https://img.example/logo.png".into(),
            width: 600,
            height: 200,
        },
        header_style: HeaderStyle::Dark,
        theme: ThemeColors::default(),
        primary: product("B000000001", "Nordly insulated bottle"),
        promotion_badge: None,
        lifestyle_image: Image {
            url: "https://img.example/lifestyle.jpg".into(),
            width: 1200,
            height: 800,
        },
        complementary: vec![],
        unsubscribe_url: "https://engage.example/v1/unsubscribe/tok-abc".into(),
        preview: false,
    }
}

fn render(view: &CampaignEmail) -> RenderedEmail {
    Renderer::new().render_campaign(view).unwrap()
}

fn outgoing(id: &str, campaign: &str) -> OutgoingEmail {
    OutgoingEmail::new(
        format!("campaign-{campaign}-{id}"),
        Mailbox::new("Nordly", "campaigns@nordly.example"),
        format!("relay-{id}@marketplace.example"),
        render(&campaign_view()),
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
    )
    .with_campaign(campaign)
    .with_list_unsubscribe("https://engage.example/v1/unsubscribe/tok-abc")
}

// ---------------------------------------------------------------- MIME

/// Asserts each raw header (trimmed) has its expected value.
fn assert_headers(msg: &mail_parser::Message<'_>, expected: &[(&str, &str)]) {
    for &(name, value) in expected {
        assert_eq!(msg.header_raw(name).map(str::trim), Some(value), "{name}");
    }
}

#[test]
fn mime_carries_one_click_unsubscribe_and_campaign_headers() {
    let bytes = build_mime(&outgoing("u1", "c1")).unwrap();
    let msg = MessageParser::default().parse(&bytes).unwrap();
    assert_headers(
        &msg,
        &[
            (
                "List-Unsubscribe",
                "<https://engage.example/v1/unsubscribe/tok-abc>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("X-Engage-Campaign", "c1"),
        ],
    );
    assert_eq!(msg.subject(), Some("New from Nordly"));
    assert_eq!(msg.message_id(), Some("campaign-c1-u1@nordly.example"));
    assert!(msg.date().is_some());
    let to = msg.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("relay-u1@marketplace.example"));
    let ct = msg.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(msg.text_body_count(), 1);
    assert_eq!(msg.html_body_count(), 1);
    assert!(
        msg.body_html(0)
            .unwrap()
            .contains("Nordly insulated bottle")
    );
    assert!(
        msg.body_text(0)
            .unwrap()
            .contains("Nordly insulated bottle")
    );
}

#[test]
fn mime_carries_contact_and_buyer_message_headers() {
    let email = outgoing("u1", "c1")
        .with_contact("k1")
        .with_buyer_message("O-1", "review_request")
        .with_content_language("fr-CA");
    let bytes = build_mime(&email).unwrap();
    let msg = MessageParser::default().parse(&bytes).unwrap();
    assert_headers(
        &msg,
        &[
            ("X-Engage-Contact", "k1"),
            ("X-Engage-Message", "O-1/review_request"),
            ("Content-Language", "fr-CA"),
        ],
    );
}

#[test]
fn cr_lf_nul_in_subject_or_header_is_refused() {
    for bad in [
        "Hi\r\nBcc: all@victims.example",
        "Hi\nthere",
        "Hi\rthere",
        "Hi\0there",
    ] {
        let mut email = outgoing("u1", "c1");
        email.subject = bad.into();
        match build_mime(&email) {
            Err(MailError::InvalidHeader { field, .. }) => assert_eq!(field, "subject"),
            other => panic!("{bad:?}: {other:?}"),
        }
        let email = outgoing("u1", "c1").with_header("X-Engage-Note", bad);
        assert!(matches!(
            build_mime(&email),
            Err(MailError::InvalidHeader { .. })
        ));
        let email = outgoing("u1", bad);
        assert!(matches!(
            build_mime(&email),
            Err(MailError::InvalidHeader { .. })
        ));
    }
}

#[tokio::test]
async fn adapters_never_send_an_invalid_header() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = OutboxMailer::new(dir.path()).unwrap();
    let mut email = outgoing("u1", "c1");
    email.subject = "a\r\nb".into();
    let err = outbox.send(&email).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidHeader { .. }));
    assert!(!err.is_retryable());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------- outbox

#[tokio::test]
async fn outbox_writes_the_mime_bytes_once_per_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("nested/outbox");
    let outbox = OutboxMailer::new(&outbox_dir).unwrap();
    let email = outgoing("u1", "c1");

    let first = outbox.send(&email).await.unwrap();
    let second = outbox.send(&email).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.message_id, "campaign-c1-u1");

    let files: Vec<_> = std::fs::read_dir(&outbox_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, vec!["campaign-c1-u1.eml".to_owned()]);
    let written = std::fs::read(outbox_dir.join("campaign-c1-u1.eml")).unwrap();
    assert_eq!(written, build_mime(&email).unwrap());

    outbox.send(&outgoing("u2", "c1")).await.unwrap();
    assert_eq!(std::fs::read_dir(&outbox_dir).unwrap().count(), 2);
}

// ---------------------------------------------------------------- SES through moto

/// Every raw message moto's SES received (v1 and v2 share the store), from the route
/// `tests/moto_server.py` adds (moto's own `/moto-api/data.json` serialises every
/// DynamoDB item of every test too).
async fn moto_raw_messages() -> Vec<String> {
    let url = format!("{}/engage-test/ses/raw-messages", endpoint());
    reqwest::get(&url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn ses_sends_the_raw_mime_through_moto() {
    let client = ses_client().await;
    let sender = common::ses_sender(&client).await;
    let set = format!("engage-{}", uuid::Uuid::new_v4().simple());
    client
        .create_configuration_set()
        .configuration_set_name(&set)
        .send()
        .await
        .unwrap();

    let campaign = format!("cmp-{}", uuid::Uuid::new_v4().simple());
    let mut email = outgoing("u1", &campaign);
    email.from = Mailbox::new("Nordly", sender.as_str());
    let mailer = SesMailer::new(client).with_configuration_set(&set);
    let sent = mailer.send(&email).await.unwrap();
    assert_eq!(sent.message_id, format!("campaign-{campaign}-u1"));
    assert!(!sent.provider_id.is_empty());

    let ours: Vec<_> = moto_raw_messages()
        .await
        .into_iter()
        .filter(|raw| raw.contains(&format!("X-Engage-Campaign: {campaign}")))
        .collect();
    assert_eq!(ours.len(), 1, "moto recorded our message exactly once");
    let expected = String::from_utf8(build_mime(&email).unwrap()).unwrap();
    assert_eq!(ours[0], expected, "SES got exactly the outbox bytes");
    assert!(ours[0].contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
}

#[tokio::test]
async fn ses_unverified_sender_is_a_permanent_error() {
    let client = ses_client().await;
    let mut email = outgoing("u1", "c-unverified");
    email.from = Mailbox::address(format!("nobody@u{}.example", uuid::Uuid::new_v4().simple()));
    let err = SesMailer::new(client).send(&email).await.unwrap_err();
    assert!(matches!(err, MailError::Permanent { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("MessageRejected"), "{err}");
}

#[tokio::test]
async fn ses_refuses_an_invalid_header_before_calling_aws() {
    // No identity, no moto call needed: the builder refuses first.
    let client = ses_client().await;
    let mut email = outgoing("u1", "c1");
    email.subject = "x\r\nBcc: all@victims.example".into();
    let err = SesMailer::new(client).send(&email).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidHeader { .. }), "{err:?}");
}

// ---------------------------------------------------------------- render

#[test]
fn user_text_is_html_escaped() {
    let mut view = campaign_view();
    view.section_header = "<script>alert(1)</script> & more".into();
    view.brand_name = "Nord\"ly<b>".into();
    view.primary.title = Some("<img src=x onerror=alert(1)>".into());
    view.promotion_badge = Some("<script>badge</script>".into());
    view.complementary = vec![product("B2", "<script>x</script>")];
    let r = render(&view);
    assert!(!r.html.contains("<script>"), "raw script tag in html");
    assert!(!r.html.contains("<img src=x"), "raw user html in html");
    assert!(!r.html.contains("<b>"));
    assert!(
        r.html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; more")
    );
    // The text part is plain text: the title reads as typed.
    assert!(r.text.contains("<script>alert(1)</script> & more"));
}

#[test]
fn colours_are_validated_before_css() {
    let mut view = campaign_view();
    view.theme.accent = Some("red;} body{display:none".into());
    let err = Renderer::new().render_campaign(&view).unwrap_err();
    assert!(err.to_string().contains("accent"), "{err}");

    let mut view = campaign_view();
    view.theme = ThemeColors {
        primary: Some("#0B6E4F".into()),
        accent: Some("#B3001B".into()),
        header_background: Some("#1A1A2E".into()),
    };
    view.promotion_badge = Some("Coupon".into());
    let r = render(&view);
    for c in ["#0b6e4f", "#b3001b", "#1a1a2e"] {
        assert!(r.html.contains(c), "{c}");
    }
}

#[test]
fn unsafe_urls_are_refused() {
    let mut view = campaign_view();
    view.primary.url = Some("javascript:alert(1)".into());
    assert!(Renderer::new().render_campaign(&view).is_err());
    let mut view = campaign_view();
    view.logo.url = "data:image/png;base64,AAAA".into();
    assert!(Renderer::new().render_campaign(&view).is_err());
    view.preview = true;
    assert!(Renderer::new().render_campaign(&view).is_ok());
}

#[test]
fn promotion_badge_appears_only_with_a_promotion() {
    let without = render(&campaign_view());
    assert!(!without.html.contains("class=\"badge\""));
    let mut view = campaign_view();
    view.promotion_badge = Some("7-day deal".into());
    let with = render(&view);
    assert!(with.html.contains("class=\"badge\""));
    assert!(with.html.contains(">7-day deal</td>"));
    assert!(with.text.contains("[7-day deal]"));
}

#[test]
fn zero_or_four_complementary_products() {
    let none = render(&campaign_view());
    assert_eq!(none.html.matches("class=\"stack product\"").count(), 0);
    assert!(!none.html.contains("More from"));
    assert!(!none.text.contains("More from"));

    let mut view = campaign_view();
    view.complementary = (1..=4)
        .map(|i| product(&format!("B00000000{}", i + 1), &format!("Extra {i}")))
        .collect();
    let four = render(&view);
    assert_eq!(four.html.matches("class=\"stack product\"").count(), 4);
    for i in 1..=4 {
        assert!(four.html.contains(&format!("Extra {i}")));
        assert!(four.text.contains(&format!("- Extra {i}: https://")));
    }

    view.complementary.push(product("B9", "Fifth"));
    assert!(Renderer::new().render_campaign(&view).is_err());
}

#[test]
fn dark_and_light_headers_use_their_colours() {
    let dark = render(&campaign_view());
    assert!(
        dark.html
            .contains("background-color:#131921;padding:20px 32px;")
    );
    let mut view = campaign_view();
    view.header_style = HeaderStyle::Light;
    let light = render(&view);
    assert!(
        light
            .html
            .contains("background-color:#ffffff;padding:20px 32px;")
    );
    assert!(
        !light
            .html
            .contains("background-color:#131921;padding:20px 32px;")
    );
}

#[test]
fn html_follows_email_conventions_and_shows_unsubscribe() {
    let r = render(&campaign_view());
    assert!(r.html.contains("max-width:600px"));
    assert!(r.html.contains("@media (max-width: 600px)"));
    assert!(r.html.contains("role=\"presentation\""));
    assert!(
        r.html
            .contains("<a href=\"https://engage.example/v1/unsubscribe/tok-abc\"")
    );
    assert!(r.html.contains(">Unsubscribe</a>"));
    assert!(
        r.html
            .contains("src=\"https://img.example/logo.png\" width=\"144\" height=\"48\"")
    );
    assert!(
        r.html
            .contains("src=\"https://img.example/lifestyle.jpg\" width=\"600\" height=\"400\"")
    );
    assert!(
        r.text
            .contains("Unsubscribe: https://engage.example/v1/unsubscribe/tok-abc")
    );
    assert!(!r.html.contains("Preview:"));
    let mut view = campaign_view();
    view.preview = true;
    assert!(render(&view).html.contains("Preview:"));
}

// ---------------------------------------------------------------- golden sample

/// Writes the sample preview used for `tests/golden/campaign-preview.png` to the path in
/// `ENGAGE_SAMPLE_HTML` (run by `tests/golden/screenshot.sh`).
#[test]
#[ignore = "run by tests/golden/screenshot.sh"]
fn write_sample_campaign_html() {
    let path = std::env::var("ENGAGE_SAMPLE_HTML").expect("ENGAGE_SAMPLE_HTML");
    let r = render(&sample::campaign());
    std::fs::write(format!("{path}.txt"), r.text).unwrap();
    std::fs::write(path, r.html).unwrap();
}

mod sample {
    //! A sample campaign with SVG data-URI images (no network).
    use super::*;

    fn svg(svg: &str) -> String {
        let mut out = String::from("data:image/svg+xml,");
        for b in svg.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~/:=',()!*;".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    fn logo() -> String {
        svg(
            "<svg xmlns='http://www.w3.org/2000/svg' width='360' height='120' viewBox='0 0 360 120'>\
             <circle cx='52' cy='60' r='34' fill='none' stroke='#ffb703' stroke-width='8'/>\
             <path d='M36 78 L52 40 L68 78' fill='none' stroke='#ffffff' stroke-width='8' stroke-linejoin='round'/>\
             <text x='104' y='80' font-family='Georgia, serif' font-size='56' font-weight='bold' fill='#ffffff' letter-spacing='4'>NORDLY</text>\
             </svg>",
        )
    }

    fn bottle(body: &str, cap: &str, bg: &str) -> String {
        svg(&format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='400' viewBox='0 0 400 400'>\
             <rect width='400' height='400' fill='{bg}'/>\
             <ellipse cx='200' cy='352' rx='80' ry='12' fill='#000' opacity='0.12'/>\
             <rect x='160' y='58' width='80' height='44' rx='10' fill='{cap}'/>\
             <rect x='140' y='96' width='120' height='256' rx='36' fill='{body}'/>\
             <rect x='158' y='120' width='16' height='200' rx='8' fill='#fff' opacity='0.35'/>\
             <rect x='140' y='200' width='120' height='40' fill='#fff' opacity='0.2'/>\
             </svg>"
        ))
    }

    fn mug(body: &str, bg: &str) -> String {
        svg(&format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='400' height='400' viewBox='0 0 400 400'>\
             <rect width='400' height='400' fill='{bg}'/>\
             <ellipse cx='190' cy='316' rx='96' ry='12' fill='#000' opacity='0.12'/>\
             <path d='M270 150 h24 a40 40 0 0 1 0 100 h-24' fill='none' stroke='{body}' stroke-width='20'/>\
             <rect x='110' y='110' width='170' height='200' rx='24' fill='{body}'/>\
             <rect x='130' y='130' width='14' height='150' rx='7' fill='#fff' opacity='0.3'/>\
             </svg>"
        ))
    }

    fn lifestyle() -> String {
        svg(
            "<svg xmlns='http://www.w3.org/2000/svg' width='1200' height='600' viewBox='0 0 1200 600'>\
             <defs><linearGradient id='s' x1='0' y1='0' x2='0' y2='1'>\
             <stop offset='0' stop-color='#8ecae6'/><stop offset='1' stop-color='#fefae0'/></linearGradient></defs>\
             <rect width='1200' height='600' fill='url(#s)'/>\
             <circle cx='930' cy='150' r='70' fill='#ffb703'/>\
             <path d='M0 420 L220 220 L380 360 L560 160 L800 420 Z' fill='#219ebc'/>\
             <path d='M420 430 L640 250 L820 380 L980 230 L1200 430 Z' fill='#023047'/>\
             <path d='M500 205 L560 160 L620 215 Z' fill='#ffffff'/>\
             <rect y='420' width='1200' height='180' fill='#588157'/>\
             <rect x='540' y='380' width='34' height='110' rx='12' fill='#b3001b'/>\
             <rect x='546' y='364' width='22' height='20' rx='4' fill='#1d3557'/>\
             <text x='60' y='540' font-family='Georgia, serif' font-size='44' fill='#ffffff'>Made for the trail.</text>\
             </svg>",
        )
    }

    fn item(asin: &str, title: &str, image: String) -> Product {
        Product {
            asin: asin.into(),
            title: Some(title.into()),
            image_url: Some(image),
            url: Some(format!("https://www.marketplace.example/dp/{asin}")),
        }
    }

    pub fn campaign() -> CampaignEmail {
        CampaignEmail {
            brand_name: "Nordly".into(),
            subject: "Your next adventure starts here".into(),
            section_header: "New product from a brand you follow".into(),
            logo: Image {
                url: logo(),
                width: 360,
                height: 120,
            },
            header_style: HeaderStyle::Dark,
            theme: ThemeColors {
                primary: Some("#1d3557".into()),
                accent: Some("#b3001b".into()),
                header_background: Some("#1d3557".into()),
            },
            primary: item(
                "B0NORDLY01",
                "Nordly Summit insulated bottle, 750 ml",
                bottle("#b3001b", "#1d3557", "#f1f5f9"),
            ),
            promotion_badge: Some("7-day deal".into()),
            lifestyle_image: Image {
                url: lifestyle(),
                width: 1200,
                height: 600,
            },
            complementary: vec![
                item("B0NORDLY02", "Trail mug, 350 ml", mug("#457b9d", "#f1f5f9")),
                item(
                    "B0NORDLY03",
                    "Summit bottle, forest green",
                    bottle("#2d6a4f", "#1b4332", "#f1f5f9"),
                ),
                item("B0NORDLY04", "Camp mug, sand", mug("#dda15e", "#f1f5f9")),
                item(
                    "B0NORDLY05",
                    "Summit bottle, midnight",
                    bottle("#1d3557", "#0b132b", "#f1f5f9"),
                ),
            ],
            unsubscribe_url: "https://engage.example/v1/unsubscribe/sample-token".into(),
            preview: true,
        }
    }
}
