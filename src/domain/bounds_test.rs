//! Unit tests of `src/domain/bounds.rs`.

use super::*;

#[test]
fn dates_outside_2000_to_2100_are_refused_naming_the_field() {
    assert!(parse_date("from", "2000-01-01").is_ok());
    assert!(parse_date("from", "2100-12-31").is_ok());
    let e = parse_date("from", "+262142-12-31").unwrap_err();
    assert!(matches!(e, DateError::OutOfBounds { .. }), "{e}");
    assert!(e.to_string().starts_with("from "), "{e}");
    assert!(parse_date("to", "1999-12-31").is_err());
    assert!(matches!(
        parse_date("to", "soon"),
        Err(DateError::Malformed { .. })
    ));
    assert!(parse_instant("at", "2101-01-01T00:00:00Z").is_err());
    assert!(parse_instant("at", "2026-11-01T00:00:00-08:00").is_ok());
}
