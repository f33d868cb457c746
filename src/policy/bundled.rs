//! The policy files bundled into the binary at build time.
//!
//! `build.rs` lists every `policies/<name>/<version>.toml` and includes each
//! with `include_str!`, so editing a policy file rebuilds the crate.

use super::engine::SourceFile;

include!(concat!(env!("OUT_DIR"), "/bundled_policies.rs"));

/// The bundled version files, as `(name, version, text)`.
pub fn files() -> &'static [(&'static str, &'static str, &'static str)] {
    BUNDLED_POLICIES
}

/// The bundled version files, ready to load.
pub(crate) fn sources() -> Vec<SourceFile> {
    BUNDLED_POLICIES
        .iter()
        .map(|(name, version, text)| SourceFile {
            file: format!("bundled:policies/{name}/{version}.toml"),
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}
