//! The paths rules read, and their lookup.

use super::*;

/// The names and paths the CEL expression `source` reads.
pub(crate) fn names(source: &str) -> Names {
    let program = crate::policy::parse::parse(source).unwrap();
    let mut paths = Vec::new();
    ReadPath::collect(&program, &mut paths);
    Names::new(paths)
}

#[test]
fn paths_are_the_names_and_field_chains_rules_read_with_their_prefixes() {
    let names = names(
        "campaign.logo.width > params.limit && has(campaign.theme) && \
         size(campaign.others.filter(o, o.startDate > now)) > 0 && theme == null",
    );
    assert_eq!(
        names.names(),
        [
            "o",
            "now",
            "theme",
            "campaign",
            "o.startDate",
            "campaign.logo",
            "campaign.others",
            "campaign.logo.width",
        ]
    );
}

#[test]
fn lookup_finds_each_name_and_nothing_else() {
    let names = names("ab.c + ab.d + abc + x + params.y");
    for (i, name) in names.names().into_iter().enumerate() {
        assert_eq!(
            names.find(name).map(|(j, p)| (j, p.name.as_str())),
            Some((i, name))
        );
    }
    for other in ["", "a", "ab.e", "abd", "params", "params.y", "ab.c.d", "xx"] {
        assert!(names.find(other).is_none(), "{other}");
    }
}
