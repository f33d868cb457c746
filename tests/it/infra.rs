//! `infra/template.yaml` against the code it deploys: the table is `infra/table.json`,
//! every function crate is packaged, every HTTP route of a function is an API route of
//! that function (with the authorizer it needs), each function's IAM is only what it
//! uses, and the send path is a scheduled planner feeding one SQS queue that workers
//! drain one segment slice at a time, at a bounded concurrency.
//!
//! The template is decoded by cfn-lint's own YAML loader (CloudFormation short tags
//! included) from the test command's virtual environment: run through `./tests/run`.

use std::collections::BTreeSet;

use crate::common;
use serde_json::{Value, json};

fn template() -> Value {
    let script = "import json, sys\n\
                  from cfnlint.decode import decode\n\
                  tpl, errors = decode(sys.argv[1])\n\
                  if errors:\n    sys.exit('\\n'.join(str(e) for e in errors))\n\
                  json.dump(tpl, sys.stdout)\n";
    common::python_json(script, "infra/template.yaml")
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
    std::fs::read_dir(common::root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn main_rs(binary: &str) -> String {
    let main = common::root()
        .join("functions")
        .join(binary)
        .join("src/main.rs");
    // The wiring behind the main: its module of `src/runtime/`.
    let module = common::root()
        .join("src/runtime")
        .join(format!("{}.rs", binary.replace('-', "_")));
    std::fs::read_to_string(main).unwrap() + &std::fs::read_to_string(module).unwrap()
}

/// Whether a function's main.rs builds an SES mailer, directly or through the shared
/// client set (`AwsClients::mailer`).
fn builds_mailer(main: &str) -> bool {
    main.contains("SesMailer") || main.contains(".mailer(")
}

/// `(routes fn, METHOD, path with every parameter written {})` of every route of
/// `engage::api::ROUTES`, the tables the routers are built from.
pub fn source_routes() -> BTreeSet<(String, String, String)> {
    engage::api::ROUTES
        .iter()
        .flat_map(|(group, table)| table.iter().map(move |r| (group, r)))
        .map(|(group, r)| {
            (
                group.routes_fn().to_owned(),
                r.method.as_str().to_owned(),
                normalize(r.path),
            )
        })
        .collect()
}

/// `/v1/brands/{brand_id}/calendar` -> `/v1/brands/{}/calendar`.
pub fn normalize(path: &str) -> String {
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

/// The function built from `binary`: (logical id, resource).
fn function(t: &Value, binary: &str) -> (String, Value) {
    functions(t)
        .into_iter()
        .find(|(_, b, _)| b == binary)
        .map(|(id, _, r)| (id, r))
        .unwrap_or_else(|| panic!("no function is built from functions/{binary}"))
}

/// `{"Fn::GetAtt": [X, "Arn"]}` -> `X`.
fn arn_of(v: &Value) -> Option<String> {
    let a = v.get("Fn::GetAtt")?.as_array()?;
    if a.len() != 2 || a[1] != "Arn" {
        return None;
    }
    a[0].as_str().map(str::to_owned)
}

/// A number the decoder may give as a number or as text (`"20"`).
fn number(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// SAM event types that are event source mappings (Lambda polls the source).
const POLLED_EVENTS: [&str; 7] = [
    "SQS",
    "Kinesis",
    "DynamoDB",
    "MSK",
    "MQ",
    "SelfManagedKafka",
    "DocumentDB",
];

/// The polled sources of function `id`, as (source ARN, mapping properties): its
/// `AWS::Lambda::EventSourceMapping` resources and its SAM polled events.
fn event_sources(t: &Value, id: &str) -> Vec<(Value, Value)> {
    let mut out: Vec<(Value, Value)> = resources(t)
        .values()
        .filter(|r| {
            r["Type"] == "AWS::Lambda::EventSourceMapping"
                && text(&r["Properties"]["FunctionName"]) == format!("${{{id}}}")
        })
        .map(|r| {
            (
                r["Properties"]["EventSourceArn"].clone(),
                r["Properties"].clone(),
            )
        })
        .collect();
    let events = resources(t)[id]["Properties"]["Events"]
        .as_object()
        .cloned();
    for e in events.unwrap_or_default().values() {
        if POLLED_EVENTS.iter().any(|k| e["Type"] == *k) {
            let p = &e["Properties"];
            let source = [&p["Queue"], &p["Stream"], &p["Broker"]]
                .into_iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(Value::Null);
            out.push((source, p.clone()));
        }
    }
    out
}

/// Every (action, resource text) the inline policies of a function allow.
fn grants(r: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for policy in as_list(&r["Properties"]["Policies"]) {
        for st in as_list(&policy["Statement"]) {
            for a in as_list(&st["Action"]) {
                for res in as_list(&st["Resource"]) {
                    out.push((a.as_str().unwrap().to_owned(), text(&res)));
                }
            }
        }
    }
    out
}

/// The queues the alarms watch for visible messages (a dead-letter queue's depth).
fn depth_alarmed(t: &Value) -> BTreeSet<String> {
    resources(t)
        .values()
        .filter(|r| {
            r["Type"] == "AWS::CloudWatch::Alarm"
                && r["Properties"]["Namespace"] == "AWS/SQS"
                && r["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        })
        .flat_map(|r| as_list(&r["Properties"]["Dimensions"]))
        .map(|d| text(&d["Value"]))
        .collect()
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
        if builds_mailer(&main) {
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
        "every route of engage::api::ROUTES is served by some function"
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
        let env = &r["Properties"]["Environment"]["Variables"];
        // A function may send to the queue its environment names, and take from
        // (receive, delete, extend) only the queues it is mapped to.
        let sends_to: Option<String> = env
            .get("ENGAGE_SEND_QUEUE_URL")
            .and_then(|v| v["Ref"].as_str())
            .map(str::to_owned);
        let takes_from: BTreeSet<String> = event_sources(&t, &id)
            .iter()
            .filter_map(|(source, _)| arn_of(source))
            .collect();
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
                            "sqs" => {
                                let queue = res
                                    .strip_prefix("${")
                                    .and_then(|q| q.strip_suffix(".Arn}"))
                                    .unwrap_or_default();
                                match a.as_str() {
                                    "sqs:SendMessage" => sends_to.as_deref() == Some(queue),
                                    "sqs:ReceiveMessage"
                                    | "sqs:DeleteMessage"
                                    | "sqs:GetQueueAttributes"
                                    | "sqs:ChangeMessageVisibility" => takes_from.contains(queue),
                                    _ => false,
                                }
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
            builds_mailer(&main),
            "{id}: SES send exactly when main.rs builds a mailer"
        );
        assert_eq!(
            actions.contains("events:PutEvents"),
            main.contains("EventBridgePublisher"),
            "{id}: PutEvents exactly when main.rs builds a publisher"
        );
        assert_eq!(
            actions.contains("sqs:SendMessage"),
            sends_to.is_some(),
            "{id}: sqs:SendMessage exactly when its environment names a queue"
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
        let polled = event_sources(&t, &id);
        if !http && polled.is_empty() {
            let dlq = &r["Properties"]["DeadLetterQueue"];
            assert_eq!(
                dlq["Type"], "SQS",
                "{id}: asynchronous, needs a dead-letter queue"
            );
        }
        // A function fed by a queue is invoked synchronously by its event source
        // mapping: the queue's redrive policy is its dead-letter queue.
        for (source, _) in &polled {
            let queue = arn_of(source).unwrap_or_else(|| panic!("{id}: source {source}"));
            let redrive = &res[&queue]["Properties"]["RedrivePolicy"];
            let dlq = arn_of(&redrive["deadLetterTargetArn"]).unwrap_or_else(|| {
                panic!("{id}: {queue} needs a RedrivePolicy to a dead-letter queue")
            });
            assert_eq!(res[&dlq]["Type"], "AWS::SQS::Queue", "{id}: {dlq}");
            assert!(
                number(&redrive["maxReceiveCount"]) >= 1.0,
                "{queue}: maxReceiveCount"
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
    // Every queue something dead-letters into alarms on its depth.
    let depth = depth_alarmed(&t);
    let mut dead_letter_targets = BTreeSet::new();
    for r in res.values() {
        let p = &r["Properties"];
        dead_letter_targets.extend(arn_of(&p["DeadLetterQueue"]["TargetArn"]));
        dead_letter_targets.extend(arn_of(&p["RedrivePolicy"]["deadLetterTargetArn"]));
        dead_letter_targets.extend(arn_of(&p["Target"]["DeadLetterConfig"]["Arn"]));
        for e in p["Events"].as_object().into_iter().flat_map(|m| m.values()) {
            dead_letter_targets.extend(arn_of(&e["Properties"]["DeadLetterConfig"]["Arn"]));
        }
    }
    assert!(!dead_letter_targets.is_empty());
    for q in &dead_letter_targets {
        assert_eq!(res[q]["Type"], "AWS::SQS::Queue", "{q}");
        assert!(
            depth.contains(&format!("${{{q}.QueueName}}")),
            "{q}: a dead-letter queue without a depth alarm"
        );
    }
    // The SES feedback path.
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

/// The queue the send worker is mapped to, checked to be one.
fn send_queue(t: &Value) -> String {
    let (worker, _) = function(t, "send-worker");
    let sources = event_sources(t, &worker);
    assert_eq!(
        sources.len(),
        1,
        "{worker}: exactly one event source, the send queue: {sources:?}"
    );
    let queue = arn_of(&sources[0].0).unwrap_or_else(|| panic!("{worker}: source ARN"));
    assert_eq!(resources(t)[&queue]["Type"], "AWS::SQS::Queue", "{queue}");
    queue
}

#[test]
fn the_send_worker_takes_one_segment_slice_at_a_time_at_a_bounded_concurrency() {
    let t = template();
    let res = resources(&t);
    let (worker, w) = function(&t, "send-worker");
    let queue = send_queue(&t);
    let mapping = &event_sources(&t, &worker)[0].1;
    // One message is one segment slice, whose deadline is the invocation's.
    assert_eq!(number(&mapping["BatchSize"]), 1.0, "{worker}: BatchSize");
    if let Some(enabled) = mapping.get("Enabled") {
        assert_eq!(enabled, &json!(true), "{worker}: the mapping is enabled");
    }

    // The concurrency is a template parameter within what SQS mappings accept
    // (2..=1000), and the worker divides the account's rate by that same number.
    let max = &mapping["ScalingConfig"]["MaximumConcurrency"];
    let param = max["Ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{worker}: MaximumConcurrency must be a parameter, not {max}"));
    let p = &t["Parameters"][param];
    assert_eq!(p["Type"], "Number", "{param}");
    assert!(number(&p["MinValue"]) >= 2.0, "{param}: MinValue");
    assert!(number(&p["MaxValue"]) <= 1000.0, "{param}: MaxValue");
    let env = &w["Properties"]["Environment"]["Variables"];
    assert_eq!(
        env["ENGAGE_SEND_CONCURRENCY"], *max,
        "{worker}: paces to the rate divided by the concurrency it runs at"
    );

    // SAM's SQS event would attach AWSLambdaSQSQueueExecutionRole: receive and
    // delete on every queue of the account.
    for (id, _, r) in functions(&t) {
        for (name, e) in r["Properties"]["Events"].as_object().into_iter().flatten() {
            assert_ne!(
                e["Type"], "SQS",
                "{id}.{name}: use an AWS::Lambda::EventSourceMapping (least privilege)"
            );
        }
    }

    // The queue hides a slice for 6 worker lifetimes (AWS's advice for a mapping),
    // is encrypted, and dead-letters a slice that keeps failing.
    let timeout = w["Properties"]
        .get("Timeout")
        .unwrap_or(&t["Globals"]["Function"]["Timeout"]);
    let q = &res[&queue]["Properties"];
    assert_eq!(
        number(&q["VisibilityTimeout"]),
        6.0 * number(timeout),
        "{queue}: VisibilityTimeout = 6 x {worker}'s Timeout"
    );
    assert!(q["KmsMasterKeyId"].is_object(), "{queue}: encrypted");
    let redrive = &q["RedrivePolicy"];
    let dlq = arn_of(&redrive["deadLetterTargetArn"])
        .unwrap_or_else(|| panic!("{queue}: RedrivePolicy to a dead-letter queue"));
    assert_eq!(res[&dlq]["Type"], "AWS::SQS::Queue", "{dlq}");
    assert_ne!(dlq, queue);
    assert!(
        number(&redrive["maxReceiveCount"]) > 1.0,
        "{queue}: one failed slice must not dead-letter a segment"
    );
    // A standard queue keeps a message's first enqueue time when it is
    // dead-lettered: a shorter retention there would drop it early.
    assert!(
        number(&res[&dlq]["Properties"]["MessageRetentionPeriod"])
            > number(&q["MessageRetentionPeriod"]),
        "{dlq}: keeps messages longer than {queue}"
    );
    assert!(
        depth_alarmed(&t).contains(&format!("${{{dlq}.QueueName}}")),
        "{dlq}: depth alarm"
    );
    assert!(
        w["Properties"].get("DeadLetterQueue").is_none(),
        "{worker}: invoked synchronously by its mapping, a function DLQ would never receive anything"
    );
}

#[test]
fn scheduled_passes_are_not_retried_the_next_pass_is_the_retry() {
    let t = template();
    let res = resources(&t);
    let mut scheduled = BTreeSet::new();
    for (sid, s) in res
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Scheduler::Schedule")
    {
        let target = &s["Properties"]["Target"];
        let id = arn_of(&target["Arn"]).unwrap_or_else(|| panic!("{sid}: target"));
        let r = &res[&id];
        assert_eq!(r["Type"], "AWS::Serverless::Function", "{sid}");
        let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        scheduled.insert(binary.to_owned());
        assert_eq!(
            number(&target["RetryPolicy"]["MaximumRetryAttempts"]),
            0.0,
            "{sid}: the scheduler must not retry"
        );
        assert_eq!(
            target["DeadLetterConfig"]["Arn"], r["Properties"]["DeadLetterQueue"]["TargetArn"],
            "{sid}: undeliverable passes go to the function's dead-letter queue"
        );
        // Lambda's own asynchronous retries (2 by default) are off as well, on the
        // function (SAM) or in an AWS::Lambda::EventInvokeConfig of its own.
        let retries = r["Properties"]["EventInvokeConfig"]
            .get("MaximumRetryAttempts")
            .or_else(|| {
                res.values()
                    .find(|c| {
                        c["Type"] == "AWS::Lambda::EventInvokeConfig"
                            && text(&c["Properties"]["FunctionName"]) == format!("${{{id}}}")
                    })
                    .and_then(|c| c["Properties"].get("MaximumRetryAttempts"))
            })
            .unwrap_or_else(|| panic!("{id}: EventInvokeConfig.MaximumRetryAttempts"));
        assert_eq!(number(retries), 0.0, "{id}: asynchronous retries");
    }
    assert_eq!(
        scheduled,
        BTreeSet::from(["send-planner".to_owned(), "sequences".to_owned()]),
        "the scheduled functions"
    );
    let (planner, _) = function(&t, "send-planner");
    let schedule = res
        .values()
        .find(|r| {
            r["Type"] == "AWS::Scheduler::Schedule"
                && arn_of(&r["Properties"]["Target"]["Arn"]).as_deref() == Some(planner.as_str())
        })
        .unwrap();
    let rate = schedule["Properties"]["ScheduleExpression"]["Ref"]
        .as_str()
        .expect("the planner's rate is a parameter");
    assert_eq!(t["Parameters"][rate]["Default"], "rate(1 minute)");
}

#[test]
fn the_send_roles_touch_only_the_table_their_queue_and_the_key() {
    let t = template();
    let queue = send_queue(&t);
    let queue_arn = format!("${{{queue}.Arn}}");
    let ses = |res: &str| {
        res.ends_with(":identity/${SenderIdentity}")
            || res.ends_with(":configuration-set/${ConfigurationSet}")
    };

    let (planner, p) = function(&t, "send-planner");
    let grants_p = grants(&p);
    for (a, res) in &grants_p {
        assert!(
            res == "${Table.Arn}"
                || res == "${Table.Arn}/index/*"
                || *res == queue_arn
                || res == "${Key.Arn}",
            "{planner}: {a} on {res}"
        );
        if *res == queue_arn {
            assert_eq!(a, "sqs:SendMessage", "{planner}: only sends segments");
        }
    }
    assert!(
        grants_p.contains(&("sqs:SendMessage".to_owned(), queue_arn.clone())),
        "{planner}: sends one message per segment"
    );

    let (worker, w) = function(&t, "send-worker");
    let grants_w = grants(&w);
    for (a, res) in &grants_w {
        assert!(
            res == "${Table.Arn}" || *res == queue_arn || res == "${Key.Arn}" || ses(res),
            "{worker}: {a} on {res} (follower partitions and segments are read by key: no index)"
        );
    }
    for a in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
    ] {
        assert!(
            grants_w.contains(&(a.to_owned(), queue_arn.clone())),
            "{worker}: {a} on {queue}"
        );
    }
    // Both read the encrypted queue's messages through the stack key.
    for (id, g) in [(&planner, &grants_p), (&worker, &grants_w)] {
        for a in ["kms:GenerateDataKey", "kms:Decrypt"] {
            assert!(
                g.contains(&(a.to_owned(), "${Key.Arn}".to_owned())),
                "{id}: {a}"
            );
        }
    }
    assert!(grants_w.iter().any(|(a, _)| a == "ses:SendRawEmail"));
    assert!(!grants_p.iter().any(|(a, _)| a.starts_with("ses:")));
}

#[test]
fn only_the_send_functions_get_the_send_settings() {
    let t = template();
    let queue = send_queue(&t);
    let needs: [(&str, &[&str]); 7] = [
        ("ENGAGE_SEND_QUEUE_URL", &["send-planner", "send-worker"]),
        ("ENGAGE_SEND_SEGMENT_FOLLOWERS", &["send-planner"]),
        ("ENGAGE_SEND_MAX_SEGMENTS", &["send-planner"]),
        ("ENGAGE_SEND_RATE", &["send-worker"]),
        ("ENGAGE_SEND_CONCURRENCY", &["send-worker"]),
        ("ENGAGE_SEND_RATE_HEADROOM", &["send-worker"]),
        ("ENGAGE_SEND_DEADLINE_MARGIN_SECONDS", &["send-worker"]),
    ];
    for (id, binary, r) in functions(&t) {
        let env = &r["Properties"]["Environment"]["Variables"];
        for (var, who) in needs {
            assert_eq!(
                env.get(var).is_some(),
                who.contains(&binary.as_str()),
                "{id}: {var} only where it is used"
            );
        }
        if let Some(url) = env.get("ENGAGE_SEND_QUEUE_URL") {
            // Ref of a queue is its URL.
            assert_eq!(url, &json!({"Ref": queue}), "{id}: ENGAGE_SEND_QUEUE_URL");
        }
        // The tunable numbers come from parameters, so a deployment changes them
        // without editing the template.
        for var in [
            "ENGAGE_SEND_SEGMENT_FOLLOWERS",
            "ENGAGE_SEND_MAX_SEGMENTS",
            "ENGAGE_SEND_RATE",
            "ENGAGE_SEND_CONCURRENCY",
            "ENGAGE_SEND_RATE_HEADROOM",
        ] {
            if let Some(v) = env.get(var) {
                let param = v["Ref"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{id}: {var} must be a parameter"));
                assert_eq!(t["Parameters"][param]["Type"], "Number", "{id}: {var}");
            }
        }
    }
    // A segment is a contiguous range of a brand's 64 follower partitions.
    let max = &t["Parameters"]["SendMaxSegments"];
    assert!(
        number(&max["MaxValue"]) <= 64.0,
        "SendMaxSegments: MaxValue"
    );
    assert!(number(&max["MinValue"]) >= 1.0, "SendMaxSegments: MinValue");
    let headroom = &t["Parameters"]["SendRateHeadroom"];
    assert!(number(&headroom["MinValue"]) >= 0.0 && number(&headroom["MaxValue"]) < 1.0);
}

/// (actions, leading-key patterns, on an index) of every table statement of `binary`'s
/// role; `None` for the patterns of a statement without a `dynamodb:LeadingKeys` condition.
fn table_grants(
    t: &Value,
    binary: &str,
) -> Vec<(BTreeSet<String>, Option<BTreeSet<String>>, bool)> {
    let (_, r) = function(t, binary);
    let mut out = Vec::new();
    for policy in as_list(&r["Properties"]["Policies"]) {
        for st in as_list(&policy["Statement"]) {
            let actions: BTreeSet<String> = as_list(&st["Action"])
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .filter(|a| a.starts_with("dynamodb:"))
                .collect();
            if actions.is_empty() {
                continue;
            }
            let index = as_list(&st["Resource"])
                .iter()
                .map(text)
                .any(|r| r.contains("/index/"));
            let keys = st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"].clone();
            let keys = (!keys.is_null()).then(|| {
                as_list(&keys)
                    .iter()
                    .map(|k| k.as_str().unwrap().to_owned())
                    .collect()
            });
            out.push((actions, keys, index));
        }
    }
    out
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Least privilege by key: the public unsubscribe function, ses-events and sequences
/// reach only the partitions they touch (`dynamodb:LeadingKeys` on every table
/// statement), the public one writes nothing but suppressions and the follower flag, and
/// no role keeps an action its code never calls (sequences deletes only contact delivery
/// claims; ses-events has no ConditionCheckItem).
#[test]
fn table_access_is_bounded_by_leading_keys() {
    let t = template();
    let unsubscribe = table_grants(&t, "unsubscribe-api");
    assert_eq!(
        unsubscribe,
        vec![
            (set(&["dynamodb:GetItem"]), Some(set(&["BRAND#*"])), false),
            (
                set(&["dynamodb:PutItem"]),
                Some(set(&["BRAND#*#SUPPRESSIONS"])),
                false
            ),
            (
                set(&["dynamodb:UpdateItem"]),
                Some(set(&["BRAND#*#FOLLOWERS#*"])),
                false
            ),
        ]
    );
    let ses = table_grants(&t, "ses-events");
    assert_eq!(
        ses,
        vec![
            (
                set(&[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem"
                ]),
                Some(set(&["BRAND#*", "CAMPAIGN#*", "MAILEVENT#*"])),
                false
            ),
            (
                set(&["dynamodb:Query"]),
                Some(set(&["BRAND#*#CAMPAIGNS"])),
                true
            ),
        ]
    );
    let sequences = table_grants(&t, "sequences");
    for (actions, keys, _) in &sequences {
        assert!(
            keys.is_some(),
            "sequences: {actions:?} without leading keys"
        );
    }
    let deletes: Vec<_> = sequences
        .iter()
        .filter(|(a, _, _)| a.contains("dynamodb:DeleteItem"))
        .collect();
    assert_eq!(
        deletes,
        vec![&(
            set(&["dynamodb:DeleteItem"]),
            Some(set(&["IDEMPOTENCY#contact-delivery*"])),
            false
        )],
        "sequences deletes only the contact delivery claims it releases"
    );
    for binary in ["unsubscribe-api", "ses-events", "sequences"] {
        for (actions, _, _) in table_grants(&t, binary) {
            assert!(
                !actions.contains("dynamodb:ConditionCheckItem"),
                "{binary}: ConditionCheckItem is never called"
            );
        }
    }
}

/// Contact emails a crashed or failed request left pending are resumed on AWS by a
/// scheduled function (the sequences pass, no package of its own): its main.rs calls
/// `resume_pending`, it sends from the configured sender, publishes courtesy refunds on
/// the bus, and may read the contacts index and hold the delivery claims.
#[test]
fn a_scheduled_function_resumes_pending_contacts() {
    let t = template();
    let (id, r) = function(&t, "sequences");
    let scheduled = resources(&t).values().any(|res| {
        res["Type"] == "AWS::Scheduler::Schedule"
            && arn_of(&res["Properties"]["Target"]["Arn"]).as_deref() == Some(id.as_str())
    });
    assert!(scheduled, "{id} runs on a schedule");
    let main = main_rs("sequences");
    assert!(
        main.contains("resume_pending("),
        "functions/sequences resumes pending contacts"
    );
    assert!(
        main.contains("with_from_address("),
        "from the configured sender"
    );
    let env = &r["Properties"]["Environment"]["Variables"];
    for var in ["ENGAGE_FROM_ADDRESS", "ENGAGE_EVENT_BUS"] {
        assert!(env.get(var).is_some(), "{id}: {var}");
    }
    let grants = table_grants(&t, "sequences");
    let reach = |pattern: &str, action: &str, index: bool| {
        grants.iter().any(|(a, k, i)| {
            a.contains(action) && *i == index && k.as_ref().is_some_and(|k| k.contains(pattern))
        })
    };
    assert!(
        reach("CONTACTS", "dynamodb:Query", true),
        "lists recent contacts"
    );
    assert!(
        reach("REVIEW#*", "dynamodb:GetItem", false),
        "reads the contact and review"
    );
    assert!(
        reach("IDEMPOTENCY#contact-delivery*", "dynamodb:PutItem", false),
        "claims a delivery"
    );
}
