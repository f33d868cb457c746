//! The Lambda path of the API: an API Gateway HTTP API event, with the claims its JWT
//! authorizer forwards, deserialised by `lambda_http` and answered by the campaign
//! routes as `functions/campaigns-api` mounts them (`api::lambda::for_lambda`), over
//! an embedded store. The caller is only what the claims say.

use std::sync::Arc;

use engage::api::{AppState, campaign_routes, finish, lambda};
use engage::auth::TokenKeys;
use engage::store::Store;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;

use crate::common;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apigw-v2-jwt.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The event asks for campaign `id` instead of the fixture's.
fn for_campaign(mut event: Value, id: &str) -> Value {
    let path = format!("/v1/campaigns/{id}");
    event["rawPath"] = path.clone().into();
    event["requestContext"]["http"]["path"] = path.into();
    event["pathParameters"]["id"] = id.into();
    event
}

/// (status, body) of the Lambda's answer to `event`, as the runtime would send it back.
async fn invoke(store: &Arc<dyn Store>, event: Value) -> (u16, Value) {
    let app = common::app(Arc::clone(store), common::t("2026-11-26T12:00:00Z"));
    // Not the secret of the fixture's token: a caller can only come from the claims.
    let keys = Arc::new(TokenKeys::from_secret(b"lambda-test-secret"));
    let routes = finish(campaign_routes(), AppState { keys, app }, 65536);
    let request: LambdaRequest = serde_json::from_value(event).unwrap();
    let response = Adapter::from(lambda::for_lambda(routes))
        .oneshot(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    let response = serde_json::to_value(response).unwrap();
    let status = u16::try_from(response["statusCode"].as_u64().unwrap()).unwrap();
    assert_eq!(
        response["isBase64Encoded"], false,
        "a problem or a campaign is text"
    );
    let body = response["body"]
        .as_str()
        .map_or(Value::Null, |b| serde_json::from_str(b).unwrap());
    (status, body)
}

#[tokio::test]
async fn the_authorizer_claims_decide_what_a_lambda_request_may_read() {
    let (store, _dir) = common::embedded();
    for (id, brand) in [("C-B1", "B1"), ("C-B2", "B2")] {
        let c = common::campaign(id, brand, common::t("2026-11-10T00:00:00Z"));
        store.create_campaign(&c).await.unwrap();
    }
    let claims = "/requestContext/authorizer/jwt/claims";
    let with_claim = |event: Value, name: &str, value: &str| {
        let mut event = event;
        event.pointer_mut(claims).unwrap()[name] = value.into();
        event
    };
    let without_authorizer = |mut event: Value| {
        event["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        event
    };

    let cases: [(&str, Value, u16); 6] = [
        ("the fixture as sent: B1's campaign", fixture(), 200),
        (
            "another brand's campaign",
            for_campaign(fixture(), "C-B2"),
            404,
        ),
        (
            "a representative of both brands, flattened as the authorizer writes a list",
            with_claim(for_campaign(fixture(), "C-B2"), "brands", "[B1 B2]"),
            200,
        ),
        (
            "a moderator reads any brand's campaign",
            with_claim(for_campaign(fixture(), "C-B2"), "roles", "[moderator]"),
            200,
        ),
        (
            "no role engage knows",
            with_claim(fixture(), "roles", "[viewer]"),
            403,
        ),
        (
            "no authorizer claims: the bearer header alone is not verified here",
            without_authorizer(fixture()),
            401,
        ),
    ];
    for (case, event, expected) in cases {
        let wanted = event["pathParameters"]["id"].clone();
        let (status, body) = invoke(&store, event).await;
        assert_eq!(status, expected, "{case}: {body}");
        if status == 200 {
            assert_eq!(body["id"], wanted, "{case}");
        } else {
            assert_eq!(body["status"], expected, "{case}: a problem: {body}");
        }
    }
}

#[test]
fn an_answer_reaches_api_gateway_as_text_when_its_headers_say_text_and_bytes_otherwise() {
    use lambda_http::Body;
    use lambda_http::http::HeaderMap;
    use lambda_http::http::header::{CONTENT_ENCODING, CONTENT_TYPE};

    let headers = |pairs: &[(&str, &str)]| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                lambda_http::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    };
    let ct = CONTENT_TYPE.as_str();
    let text = |s: &str| Body::Text(s.to_owned());
    let cases: [(&str, HeaderMap, &[u8], Body); 9] = [
        (
            "JSON",
            headers(&[(ct, "application/json")]),
            b"{\"a\":1}",
            text("{\"a\":1}"),
        ),
        (
            "a problem",
            headers(&[(ct, "application/problem+json")]),
            b"{}",
            text("{}"),
        ),
        (
            "HTML, its charset",
            headers(&[(ct, "text/html; charset=utf-8")]),
            "é".as_bytes(),
            text("é"),
        ),
        ("no content type", headers(&[]), b"plain", text("plain")),
        ("empty", headers(&[(ct, "application/json")]), b"", text("")),
        (
            "an image",
            headers(&[(ct, "image/png")]),
            b"\x89PNG",
            Body::Binary(b"\x89PNG".to_vec()),
        ),
        (
            "compressed JSON",
            headers(&[
                (ct, "application/json"),
                (CONTENT_ENCODING.as_str(), "gzip"),
            ]),
            b"\x1f\x8b",
            Body::Binary(b"\x1f\x8b".to_vec()),
        ),
        (
            "text the route marks as text",
            headers(&[
                (ct, "application/x-ndjson"),
                ("x-lambda-http-content-encoding", "text"),
            ]),
            b"{}\n",
            text("{}\n"),
        ),
        (
            "text that is not UTF-8 stays as it is",
            headers(&[(ct, "text/plain; charset=latin1")]),
            b"caf\xe9",
            Body::Binary(b"caf\xe9".to_vec()),
        ),
    ];
    for (case, headers, bytes, expected) in cases {
        assert_eq!(
            lambda::lambda_body(&headers, bytes.to_vec()),
            expected,
            "{case}"
        );
    }
}
