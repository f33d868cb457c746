//! `engage demo` walks the sample through everything and says where the emails landed.

#[test]
fn demo_walks_a_campaign_a_contact_and_the_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_engage"))
        .args(["demo", "--dir"])
        .arg(dir.path())
        .env_remove("ENGAGE_TOKEN_SECRET")
        .output()
        .unwrap();
    let stdout = crate::server::succeeded("engage demo", &out);
    // The refused campaign names its rules and policy versions.
    assert!(
        stdout.contains("R-MSG-9.web_address (content@2026-11-01) subject"),
        "{stdout}"
    );
    // Nothing before the window opens; the 19 reachable followers (c020 unfollowed) at 08:00Z.
    let before = stdout
        .split("07:59:59Z")
        .nth(1)
        .unwrap()
        .split("== 2026-12-07T08:00:00Z")
        .next()
        .unwrap();
    assert!(
        before.contains("send window: 0 campaign(s), sent 0"),
        "{before}"
    );
    assert!(stdout.contains("APPROVED -> SENT: sent 19"), "{stdout}");
    assert!(stdout.contains("a second contact on R-1002"), "{stdout}");
    assert!(
        stdout.contains("19 campaign email(s), 1 contact email(s), 4 buyer message(s)"),
        "{stdout}"
    );
    let emails = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .count();
    assert_eq!(emails, 24);
}
