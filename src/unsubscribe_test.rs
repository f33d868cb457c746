//! Unit tests of `src/unsubscribe.rs`.

use super::*;

#[test]
fn round_trip_and_tamper() {
    let s = TokenSigner::new(b"k");
    let t = s.token(
        &BrandId::new("B1"),
        &CustomerId::new("C1"),
        Scope::Campaign,
        Utc::now(),
    );
    let c = s.verify(&t).unwrap();
    assert_eq!(c.brand_id.as_str(), "B1");
    assert_eq!(c.scope, Scope::Campaign);
    // Another key, an altered payload, garbage: refused.
    assert_eq!(
        TokenSigner::new(b"other").verify(&t),
        Err(TokenError::BadSignature)
    );
    let (p, sig) = t.split_once('.').unwrap();
    let forged = URL_SAFE_NO_PAD.encode(
        String::from_utf8(URL_SAFE_NO_PAD.decode(p).unwrap())
            .unwrap()
            .replace("B1", "B2"),
    );
    assert_eq!(
        s.verify(&format!("{forged}.{sig}")),
        Err(TokenError::BadSignature)
    );
    assert_eq!(s.verify("nope"), Err(TokenError::Malformed));
    assert_eq!(s.verify("a.b"), Err(TokenError::Malformed));
    assert!(link("https://x.example/", &t).starts_with("https://x.example/v1/unsubscribe/"));
}
