//! Unit tests of `src/mail/render.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn colours_are_checked() {
    assert_eq!(colour("x", Some("#AABBCC"), "#000000").unwrap(), "#aabbcc");
    assert_eq!(colour("x", None, "#000000").unwrap(), "#000000");
    for bad in ["red", "#abc", "#abcdefg", "#ab;cd}", "#gggggg", "abcdef0"] {
        assert!(colour("x", Some(bad), "#000000").is_err(), "{bad}");
    }
}

#[test]
fn only_web_urls_are_accepted() {
    assert!(check_url("x", "https://a.example/i.png", false).is_ok());
    assert!(check_url("x", "HTTP://a.example/i.png", false).is_ok());
    assert!(check_url("x", "javascript:alert(1)", true).is_err());
    assert!(check_url("x", "data:image/png;base64,AA", false).is_err());
    assert!(check_url("x", "data:image/png;base64,AA", true).is_ok());
    assert!(check_url("x", "data:text/html,<script>", true).is_err());
    assert!(check_url("x", "https://a.example/a b", false).is_err());
}

#[test]
fn every_template_compiles() {
    let r = Renderer::new();
    let env = r.env().unwrap();
    for (name, _) in TEMPLATES {
        env.get_template(name).unwrap();
    }
}
