//! Unit tests of `src/auth.rs`.

use super::*;

fn keys() -> TokenKeys {
    TokenKeys::from_secret(b"test-secret")
}

#[test]
fn round_trip_keeps_every_claim() {
    let claims = new_claims(
        "u1",
        "S1",
        vec!["B1".into(), "B2".into()],
        vec![Role::BrandRepresentative],
        chrono::Duration::hours(24),
    );
    let token = keys().sign(&claims).unwrap();
    let caller = keys()
        .verify_header(Some(&format!("Bearer {token}")))
        .unwrap();
    assert_eq!(caller.seller_id, "S1");
    assert!(caller.represents("B2"));
    assert!(!caller.represents("B3"));
    assert!(caller.has_role(Role::BrandRepresentative));
    assert!(!caller.has_role(Role::Moderator));
}

#[test]
fn refuses_expired_missing_and_foreign_tokens() {
    let expired = new_claims("u", "S", vec![], vec![], chrono::Duration::hours(-2));
    let token = keys().sign(&expired).unwrap();
    assert!(matches!(keys().verify(&token), Err(AuthError::Invalid(_))));
    assert!(matches!(
        keys().verify_header(None),
        Err(AuthError::Missing)
    ));
    assert!(matches!(
        keys().verify_header(Some("Basic abc")),
        Err(AuthError::Missing)
    ));
    let good = new_claims("u", "S", vec![], vec![], chrono::Duration::hours(1));
    let other = TokenKeys::from_secret(b"other").sign(&good).unwrap();
    assert!(matches!(keys().verify(&other), Err(AuthError::Invalid(_))));
}

#[test]
fn authorizer_claims_in_every_flattened_form() {
    let mut claims = std::collections::HashMap::new();
    claims.insert("sub".to_owned(), "u1".to_owned());
    claims.insert("sellerId".to_owned(), "S1".to_owned());
    for brands in ["[B1 B2]", r#"["B1","B2"]"#, "[B1, B2]"] {
        claims.insert("brands".to_owned(), brands.to_owned());
        claims.insert(
            "roles".to_owned(),
            "[brand_representative admin]".to_owned(),
        );
        let c = Caller::from_authorizer_claims(&claims).unwrap();
        assert!(c.represents("B1") && c.represents("B2"), "{brands}");
        assert_eq!(c.roles.len(), 1);
    }
    claims.insert("roles".to_owned(), "moderator".to_owned());
    assert!(
        Caller::from_authorizer_claims(&claims)
            .unwrap()
            .has_role(Role::Moderator)
    );
    claims.remove("sub");
    assert!(Caller::from_authorizer_claims(&claims).is_err());
}

#[test]
fn unknown_roles_are_ignored() {
    let json = r#"{"sub":"u","sellerId":"S","brands":["B"],"roles":["moderator","admin"],"exp":1,"iat":0}"#;
    let claims: Claims = serde_json::from_str(json).unwrap();
    assert_eq!(claims.roles, vec![Role::Moderator]);
}

/// HMAC-SHA-`bits` of `message` under `key`.
fn hmac_sha(bits: u16, key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    fn tag<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match bits {
        256 => tag::<Hmac<sha2::Sha256>>(key, message),
        384 => tag::<Hmac<sha2::Sha384>>(key, message),
        _ => tag::<Hmac<sha2::Sha512>>(key, message),
    }
}

/// A token made without `jsonwebtoken`: `alg` in the header, signed with HMAC-SHA-`bits`.
fn hand_made(alg: &str, bits: u16, secret: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let iat = chrono::Utc::now().timestamp();
    let exp = iat + 3600;
    let header = b64.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
    let claims = format!(
        r#"{{"sub":"u1","sellerId":"S1","brands":["B1"],"roles":[],"exp":{exp},"iat":{iat}}}"#
    );
    let message = format!("{header}.{}", b64.encode(claims));
    let tag = hmac_sha(bits, secret, message.as_bytes());
    format!("{message}.{}", b64.encode(tag))
}

/// The HS256-only provider verifies standard HS256 tokens, and only those: the same HMAC
/// under another `alg`, or a public-key `alg`, is refused.
#[test]
fn only_standard_hs256_tokens_verify() {
    let hs256 = hand_made("HS256", 256, b"test-secret");
    assert_eq!(keys().verify(&hs256).unwrap().seller_id, "S1");

    let refused = [
        (
            "HS256 with another secret",
            hand_made("HS256", 256, b"other"),
        ),
        ("HS384", hand_made("HS384", 384, b"test-secret")),
        ("HS512", hand_made("HS512", 512, b"test-secret")),
        ("RS256 header", hand_made("RS256", 256, b"test-secret")),
        ("EdDSA header", hand_made("EdDSA", 256, b"test-secret")),
        ("none", hand_made("none", 256, b"test-secret")),
    ];
    for (what, token) in refused {
        assert!(
            matches!(keys().verify(&token), Err(AuthError::Invalid(_))),
            "{what}"
        );
    }
}
