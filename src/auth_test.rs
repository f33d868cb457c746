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
