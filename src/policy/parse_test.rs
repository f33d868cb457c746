//! The Pratt parser builds the tree `cel`'s ANTLR parser builds, for every
//! condition engage evaluates and for the syntax CEL has; it refuses what the
//! ANTLR parser refuses, and the macro it cannot expand.

use super::*;
use crate::policy::bundled;
use crate::policy::engine::cel_env;

/// The tree as text with its node ids blanked: the two parsers number nodes
/// differently, and nothing in engage reads the numbers.
fn shape(expr: &IdedExpr) -> String {
    let text = format!("{expr:?}");
    let ids = ::regex::Regex::new(r"id: \d+").unwrap();
    ids.replace_all(&text, "id: _").into_owned()
}

/// Both parsers on `text`: the trees' shapes, or whether each refused it.
fn both(text: &str) -> (Result<String, ()>, Result<String, ()>) {
    let env = cel_env().unwrap();
    let antlr = env
        .compile(text)
        .map(|p| shape(p.expression()))
        .map_err(|_| ());
    let pratt = parse(text).map(|e| shape(&e)).map_err(|_| ());
    (antlr, pratt)
}

/// Every `condition` and `detail` of every bundled policy version.
fn bundled_texts() -> Vec<String> {
    let mut texts = Vec::new();
    for (name, version, text) in bundled::files() {
        let file: toml::Table = toml::from_str(text).unwrap();
        let rules = file.get("rules").and_then(|r| r.as_array()).unwrap();
        for rule in rules {
            for key in ["condition", "detail"] {
                if let Some(t) = rule.get(key).and_then(|v| v.as_str()) {
                    texts.push(t.to_owned());
                }
            }
        }
        assert!(!rules.is_empty(), "{name}@{version} has no rules");
    }
    texts
}

#[test]
fn every_bundled_condition_parses_to_the_antlr_tree() {
    let texts = bundled_texts();
    assert!(texts.len() > 80, "only {} conditions found", texts.len());
    for text in &texts {
        let (antlr, pratt) = both(text);
        assert!(antlr.is_ok(), "{text}");
        assert_eq!(pratt, antlr, "{text}");
    }
}

#[test]
fn the_syntax_of_cel_parses_to_the_antlr_tree() {
    let cases = [
        "1 + 2 * 3 - -4 / 5 % 6",
        "a < b && b <= c || !(c > d) && d >= e && e != f && f == g",
        "x ? 'yes' : y ? \"maybe\" : 'no'",
        "x in [1, 2u, 3.5, -0.25e3, null, true, false]",
        "{'a': 1, \"b\": [x, y.z]}.a",
        "a.b.c[0]['k'][i + 1]",
        "size(xs) > 0 && xs.size() < 10 && int('1') == 1 && string(2) == '2'",
        "'\\u00e9\\n\\t\\\\' + r'raw\\d' + '''three\nlines''' + \"\\\"q\\\"\"",
        "b'bytes\\x00' == bytes('x')",
        "has(a.b) && !has(c.d.e)",
        "xs.all(x, x > 0) && xs.exists(x, x == 1) && xs.exists_one(x, x == 2)",
        "xs.map(x, x * 2) == xs.map(x, x > 0, x) && xs.filter(x, x % 2 == 0).size() == 1",
        "m.all(k, m[k] != null)",
        "name.matches('^B0[0-9A-Z]{8}$') && name.startsWith('B') && name.lowerAscii() != ''",
        "duration('1h') < timestamp('2026-11-01T00:00:00Z') - timestamp('2026-10-31T00:00:00Z')",
        "localDate(now, zone) >= addDays(campaign.startDate, params.n)",
        "[[1], [2, 3]][1][0] == 2 && {1: {2: 3}}[1][2] == 3",
        "a.?b",
        "m[?'k'].orValue(1) == [?a.?b, 2][0]",
        "x.y(",
        "1 +",
        "'unterminated",
        "a ? b",
        "{1: }",
    ];
    for text in cases {
        let (antlr, pratt) = both(text);
        assert_eq!(pratt, antlr, "{text}");
    }
}

#[test]
fn the_macro_the_parser_cannot_expand_is_refused() {
    let text = "campaign.others.sortBy(o, o.nickname).size() > 0";
    assert!(cel_env().unwrap().compile(text).is_ok(), "ANTLR expands it");
    assert!(matches!(parse(text), Err(ParseFailure::Macro("sortBy"))));
}

#[test]
fn a_policy_calling_that_macro_does_not_load_and_says_why() {
    let text = r#"
name = "campaign"
version = "2026-11-01"
effective_from = 2026-11-01T08:00:00Z

[[rules]]
id = "R-MYCE-1.sorted"
severity = "error"
condition = "campaign.others.sortBy(o, o.nickname).size() > 1"
message = "sorted"
"#;
    let src = crate::policy::file::Source {
        file: "sorted.toml",
        name: "campaign",
        version: "2026-11-01",
        text,
    };
    let err = crate::policy::file::parse_version(&src, &cel_env().unwrap()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("R-MYCE-1.sorted"), "{message}");
    assert!(message.contains("sortBy"), "{message}");
}
