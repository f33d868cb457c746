//! `infra/openapi.yaml` against the routes that exist: it is a valid OpenAPI 3
//! document, it lists exactly the routes of `engage::api::ROUTES` (path and method), and
//! `engage serve` answers every operation it lists with something other than "no such
//! route" or "method not allowed".
//!
//! The document is read and validated with PyYAML and openapi-spec-validator from the
//! test command's virtual environment: run through `./tests/run`.

use std::collections::BTreeSet;

use crate::common;
use crate::infra::normalize;
use crate::server::{Server, token};
use serde_json::Value;

/// The document, validated against the OpenAPI 3 schema.
fn document() -> Value {
    let script = "import json, sys, yaml\n\
                  from openapi_spec_validator import validate\n\
                  doc = yaml.safe_load(open(sys.argv[1]))\n\
                  validate(doc)\n\
                  json.dump(doc, sys.stdout)\n";
    common::python_json(script, "infra/openapi.yaml")
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// (METHOD, path with parameters written {}) of every route of `engage::api::ROUTES`.
fn source_routes() -> BTreeSet<(String, String)> {
    crate::infra::source_routes()
        .into_iter()
        .map(|(_, method, path)| (method, path))
        .collect()
}

/// (METHOD, path as written, operation) of every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

#[test]
fn the_document_lists_exactly_the_routes_that_exist() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, normalize(&p)))
        .collect();
    let source = source_routes();
    let missing: Vec<_> = source.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&source).collect();
    assert!(
        missing.is_empty(),
        "routes of engage::api::ROUTES missing from infra/openapi.yaml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations of infra/openapi.yaml that no route serves: {extra:?}"
    );

    for (method, path, op) in operations(&doc) {
        let public = path.starts_with("/v1/unsubscribe/");
        assert_eq!(
            op.get("security") == Some(&serde_json::json!([])),
            public,
            "{method} {path}: only the unsubscribe routes go without a bearer token"
        );
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|c| c.starts_with('2')),
            "{method} {path}: a success response"
        );
        if !public {
            assert!(
                responses.contains_key("401"),
                "{method} {path}: documents 401"
            );
        }
    }
}

#[tokio::test]
async fn the_server_answers_every_documented_operation() {
    let doc = document();
    let server = Server::start(&[]);
    let bearer = token("S1", &["B1"], &["brand_representative", "moderator"]);
    let http = reqwest::Client::new();
    for (method, path, _) in operations(&doc) {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "doc-probe" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let req = http
            .request(method.parse().unwrap(), server.url(&concrete))
            .bearer_auth(&bearer);
        let req = if method == "POST" {
            req.header("content-type", "application/json").body("{}")
        } else {
            req
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        assert_ne!(
            status, 405,
            "{method} {path}: the server does not take that method: {body}"
        );
        let no_route = status == 404
            && serde_json::from_str::<Value>(&body).is_ok_and(|b| b["detail"] == "no such route");
        assert!(!no_route, "{method} {path}: the server has no such route");
        assert!(status < 500, "{method} {path}: {status} {body}");
    }
}

/// The document's theme ids are the themes the server lists (a query naming another
/// theme is a 400, so the document states them as an enum, kept equal here).
#[tokio::test]
async fn the_documented_theme_ids_are_the_served_themes() {
    let doc = document();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["ThemeId"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let server = Server::start(&[]);
    let bearer = token("S1", &["B1"], &["brand_representative"]);
    let themes = server.get_json("/v1/themes", &bearer).await;
    let served: BTreeSet<String> = common::sorted_field(&themes, "items", "id")
        .into_iter()
        .collect();
    assert_eq!(documented, served);
}
