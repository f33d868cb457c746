//! `infra/template.yaml` against the code it deploys: the table is `infra/table.json`,
//! every function crate is packaged, every HTTP route of a function is an API route of
//! that function (with the authorizer it needs), and each function's IAM is only what
//! it uses.
//!
//! The template is decoded by cfn-lint's own YAML loader (CloudFormation short tags
//! included) from the test command's virtual environment: run through `./tests/run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the test command's virtual environment (`ENGAGE_PYTHON`, set by
/// `tests/run`, or `.venv/bin/python`).
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ENGAGE_PYTHON") {
        return p.into();
    }
    let venv = root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no .venv with cfn-lint: run the tests through ./tests/run"
    );
    venv
}

fn template() -> Value {
    let script = "import json, sys\n\
                  from cfnlint.decode import decode\n\
                  tpl, errors = decode(sys.argv[1])\n\
                  if errors:\n    sys.exit('\\n'.join(str(e) for e in errors))\n\
                  json.dump(tpl, sys.stdout)\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(root().join("infra/template.yaml"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "decode template: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn resources(t: &Value) -> &serde_json::Map<String, Value> {
    t["Resources"].as_object().unwrap()
}

/// Every `Type: AWS::Serverless::Function` as (logical id, binary name, resource).
fn functions(t: &Value) -> Vec<(String, String, Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| {
            let binary = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary"))
                .to_owned();
            (id.clone(), binary, r.clone())
        })
        .collect()
}

/// The function crates: `functions/*/Cargo.toml`.
fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn main_rs(binary: &str) -> String {
    std::fs::read_to_string(root().join("functions").join(binary).join("src/main.rs")).unwrap()
}

/// `(routes fn, METHOD, path with every parameter written {})` for every
/// `.route("...", get(..).post(..))` in the `*_routes()` functions of `src/api/mod.rs`.
pub fn source_routes() -> BTreeSet<(String, String, String)> {
    let src = std::fs::read_to_string(root().join("src/api/mod.rs")).unwrap();
    let mut routes = BTreeSet::new();
    for chunk in src.split("pub fn ").skip(1) {
        let name: String = chunk
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.ends_with("_routes") {
            continue;
        }
        let body = chunk.split("\n}\n").next().unwrap_or(chunk);
        let mut rest = body;
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + ".route(".len()..];
            // The argument list, up to the matching parenthesis.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("balanced .route(...)");
            let args = &call[..end];
            let path = args.split('"').nth(1).expect("route path literal");
            let handlers = &args[args.find(',').expect("method router")..];
            for method in ["get", "post", "put", "patch", "delete"] {
                let needle = format!("{method}(");
                let used = handlers.match_indices(&needle).any(|(i, _)| {
                    let before = handlers[..i].chars().last().unwrap_or(' ');
                    !(before.is_alphanumeric() || before == '_' || before == ':')
                });
                if used {
                    routes.insert((name.clone(), method.to_uppercase(), normalize(path)));
                }
            }
            rest = &call[end..];
        }
    }
    assert!(!routes.is_empty(), "no routes parsed from src/api/mod.rs");
    routes
}

/// `/v1/brands/{brand_id}/calendar` -> `/v1/brands/{}/calendar`.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// `{"Fn::Sub": "..."}` or a plain string, as text; `{"Ref": X}` as `${X}`; `{"Fn::GetAtt": [A, B]}` as `${A.B}`.
fn text(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_owned();
    }
    if let Some(s) = v.get("Fn::Sub").and_then(Value::as_str) {
        return s.to_owned();
    }
    if let Some(r) = v.get("Ref").and_then(Value::as_str) {
        return format!("${{{r}}}");
    }
    if let Some(a) = v.get("Fn::GetAtt").and_then(Value::as_array) {
        return format!("${{{}.{}}}", a[0].as_str().unwrap(), a[1].as_str().unwrap());
    }
    v.to_string()
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

#[test]
fn the_table_is_infra_table_json() {
    let t = template();
    let table = &resources(&t)["Table"];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    let expected: Value = serde_json::from_str(engage::store::dynamodb::TABLE_JSON).unwrap();
    assert_eq!(
        table["Properties"], expected,
        "the Table in infra/template.yaml must equal infra/table.json, the definition the tests create"
    );
    // And the tests' reading of it stays valid.
    let def = engage::store::dynamodb::table_definition().unwrap();
    assert!(
        def.point_in_time_recovery_specification
            .unwrap()
            .point_in_time_recovery_enabled
    );
    assert!(def.time_to_live_specification.unwrap().enabled);
    assert!(!def.global_secondary_indexes.is_empty());
    assert_eq!(table["DeletionPolicy"], "Retain");
}

#[test]
fn every_function_crate_is_packaged_by_cargo_lambda() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], json!(["x86_64"]));
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(
        globals["CodeUri"], "..",
        "cargo-lambda builds from the workspace root"
    );
    let fns = functions(&t);
    let packaged: BTreeSet<String> = fns.iter().map(|(_, b, _)| b.clone()).collect();
    assert_eq!(
        packaged,
        function_crates(),
        "one AWS::Serverless::Function per functions/* crate"
    );
    for (id, binary, r) in &fns {
        assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
        assert!(
            r["Properties"].get("Runtime").is_none(),
            "{id}: the runtime comes from Globals"
        );
        let env = &r["Properties"]["Environment"]["Variables"];
        assert_eq!(
            env["ENGAGE_TABLE"],
            json!({"Ref": "Table"}),
            "{id}: ENGAGE_TABLE"
        );
        // Every ENGAGE_ variable its main.rs reads directly, and the unsubscribe key
        // wherever it signs or verifies links.
        let main = main_rs(binary);
        for var in main
            .split('"')
            .filter(|s| s.starts_with("ENGAGE_") && !s.contains(' '))
        {
            if main.contains(&format!("var(\"{var}\")")) {
                assert!(env.get(var).is_some(), "{id}: main.rs reads {var}");
            }
        }
        if main.contains("unsubscribe_secret") {
            assert!(
                env.get("ENGAGE_UNSUBSCRIBE_SECRET").is_some(),
                "{id}: ENGAGE_UNSUBSCRIBE_SECRET"
            );
        }
        if main.contains("SesMailer") {
            for var in [
                "ENGAGE_FROM_ADDRESS",
                "ENGAGE_SES_CONFIGURATION_SET",
                "ENGAGE_PUBLIC_URL",
            ] {
                assert!(env.get(var).is_some(), "{id}: sends mail, needs {var}");
            }
        }
        // Secrets only ever come from Secrets Manager, never as literals.
        for (name, value) in env.as_object().unwrap() {
            if name.contains("SECRET") {
                assert!(
                    text(value).starts_with("{{resolve:secretsmanager:"),
                    "{id}: {name} must be a Secrets Manager dynamic reference"
                );
            }
        }
        let logs = &r["Properties"]["LoggingConfig"]["LogGroup"]["Ref"];
        let group = &resources(&t)[logs
            .as_str()
            .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup"))];
        assert!(
            group["Properties"]["RetentionInDays"].is_object(),
            "{id}: log retention"
        );
    }
}

#[test]
fn every_route_is_an_api_route_of_the_function_that_serves_it() {
    let t = template();
    let source = source_routes();
    let mut mounted = BTreeSet::new();
    for (id, binary, r) in functions(&t) {
        let main = main_rs(&binary);
        let expected: BTreeSet<(String, String)> = source
            .iter()
            .filter(|(f, _, _)| main.contains(&format!("{f}()")))
            .map(|(_, m, p)| (m.clone(), p.clone()))
            .collect();
        let mut declared = BTreeSet::new();
        for (name, event) in r["Properties"]["Events"].as_object().into_iter().flatten() {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let p = &event["Properties"];
            assert_eq!(p["ApiId"], json!({"Ref": "HttpApi"}), "{id}.{name}");
            let path = p["Path"].as_str().unwrap();
            let method = p["Method"].as_str().unwrap().to_uppercase();
            let public = path.starts_with("/v1/unsubscribe/");
            if public {
                assert_eq!(p["Auth"]["Authorizer"], "NONE", "{id}.{name}: public route");
            } else {
                assert!(
                    p.get("Auth").is_none(),
                    "{id}.{name}: must use the default JWT authorizer"
                );
            }
            declared.insert((method, normalize(path)));
        }
        assert_eq!(
            declared, expected,
            "{id}: HttpApi events vs the routes its main.rs mounts"
        );
        mounted.extend(expected);
    }
    let all: BTreeSet<(String, String)> = source.into_iter().map(|(_, m, p)| (m, p)).collect();
    assert_eq!(
        mounted, all,
        "every route of src/api/mod.rs is served by some function"
    );

    let api = &resources(&t)["HttpApi"]["Properties"];
    assert_eq!(api["Auth"]["DefaultAuthorizer"], "JwtAuthorizer");
    let jwt = &api["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"];
    assert_eq!(jwt["issuer"], json!({"Ref": "JwtIssuer"}));
    assert_eq!(jwt["audience"], json!({"Ref": "JwtAudience"}));
    assert!(api["AccessLogSettings"]["DestinationArn"].is_object());
}

#[test]
fn each_function_may_only_do_what_it_does() {
    let t = template();
    let allowed_dynamodb: BTreeSet<&str> = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
    ]
    .into();
    for (id, binary, r) in functions(&t) {
        let main = main_rs(&binary);
        let mut actions = BTreeSet::new();
        for policy in as_list(&r["Properties"]["Policies"]) {
            assert!(
                policy.is_object(),
                "{id}: inline statements only, no managed policy {policy}"
            );
            for st in as_list(&policy["Statement"]) {
                assert_eq!(st["Effect"], "Allow", "{id}");
                let resources: Vec<String> = as_list(&st["Resource"]).iter().map(text).collect();
                assert!(!resources.is_empty(), "{id}: statement without resource");
                for a in as_list(&st["Action"]) {
                    let a = a.as_str().unwrap().to_owned();
                    assert!(!a.contains('*'), "{id}: wildcard action {a}");
                    for res in &resources {
                        assert_ne!(res, "*", "{id}: {a} on every resource");
                        let ok = match a.split(':').next().unwrap() {
                            "dynamodb" => {
                                allowed_dynamodb.contains(a.as_str())
                                    && (res == "${Table.Arn}"
                                        || (res == "${Table.Arn}/index/*" && a == "dynamodb:Query"))
                            }
                            "ses" => {
                                (a == "ses:SendEmail" || a == "ses:SendRawEmail")
                                    && (res.ends_with(":identity/${SenderIdentity}")
                                        || res.ends_with(":configuration-set/${ConfigurationSet}"))
                            }
                            "events" => {
                                a == "events:PutEvents"
                                    && res.ends_with(":event-bus/${EventBusName}")
                            }
                            "kms" => {
                                (a == "kms:GenerateDataKey" || a == "kms:Decrypt")
                                    && res == "${Key.Arn}"
                            }
                            _ => false,
                        };
                        assert!(ok, "{id}: {a} on {res} is not among what a function may do");
                    }
                    actions.insert(a);
                }
            }
        }
        assert!(
            actions.contains("dynamodb:GetItem"),
            "{id}: reads the table"
        );
        assert_eq!(
            actions.contains("ses:SendEmail"),
            main.contains("SesMailer"),
            "{id}: SES send exactly when main.rs builds a mailer"
        );
        assert_eq!(
            actions.contains("events:PutEvents"),
            main.contains("EventBridgePublisher"),
            "{id}: PutEvents exactly when main.rs builds a publisher"
        );
    }
}

#[test]
fn async_functions_have_dead_letter_queues_and_every_failure_alarms() {
    let t = template();
    let res = resources(&t);
    let alarmed: BTreeSet<String> = res
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .flat_map(|r| as_list(&r["Properties"]["Dimensions"]))
        .map(|d| text(&d["Value"]))
        .collect();
    for (id, _, r) in functions(&t) {
        assert!(
            alarmed.contains(&format!("${{{id}}}")),
            "{id}: no error alarm"
        );
        let events = r["Properties"]["Events"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let http = events.values().any(|e| e["Type"] == "HttpApi");
        if !http {
            let dlq = &r["Properties"]["DeadLetterQueue"];
            assert_eq!(
                dlq["Type"], "SQS",
                "{id}: asynchronous, needs a dead-letter queue"
            );
        }
        for (name, e) in &events {
            if e["Type"] == "EventBridgeRule" {
                assert!(
                    e["Properties"]["DeadLetterConfig"]["Arn"].is_object(),
                    "{id}.{name}: rule DLQ"
                );
            }
        }
    }
    for (id, r) in res.iter().filter(|(_, r)| r["Type"] == "AWS::SQS::Queue") {
        assert!(
            r["Properties"]["KmsMasterKeyId"].is_object(),
            "{id}: encrypted"
        );
        assert!(
            alarmed.contains(&format!("${{{id}.QueueName}}")),
            "{id}: no depth alarm"
        );
    }
    // The schedule and the SES feedback path.
    let schedule = res
        .values()
        .find(|r| r["Type"] == "AWS::Scheduler::Schedule")
        .expect("a schedule");
    assert_eq!(
        schedule["Properties"]["Target"]["Arn"],
        json!({"Fn::GetAtt": ["SendWindowFunction", "Arn"]})
    );
    let dest = res
        .values()
        .find(|r| r["Type"] == "AWS::SES::ConfigurationSetEventDestination")
        .unwrap();
    let types = &dest["Properties"]["EventDestination"]["MatchingEventTypes"];
    for kind in ["BOUNCE", "COMPLAINT", "DELIVERY"] {
        assert!(
            types.as_array().unwrap().contains(&json!(kind)),
            "SES events: {kind}"
        );
    }
    for (id, r) in res
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
    {
        assert!(r["Properties"]["KmsKeyId"].is_object(), "{id}: encrypted");
    }
}
