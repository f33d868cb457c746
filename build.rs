//! Bundles the policy files: lists every `policies/<name>/<version>.toml`
//! into `$OUT_DIR/bundled_policies.rs` as `include_str!`s (see
//! `src/policy/bundled.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let policies = root.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut entries = Vec::new();
    for dir in sorted(&policies) {
        if !dir.is_dir() {
            continue;
        }
        let Some(name) = dir.file_name().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        for file in sorted(&dir) {
            if !file.is_file() || file.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            if let Some(version) = file.file_stem().and_then(|s| s.to_str()) {
                entries.push((name.clone(), version.to_owned(), file.clone()));
            }
        }
    }
    let mut out = String::from(
        "/// Every bundled policy version file: (name, version, text).\n\
         static BUNDLED_POLICIES: &[(&str, &str, &str)] = &[\n",
    );
    for (name, version, file) in entries {
        let _ = writeln!(
            out,
            "    ({name:?}, {version:?}, include_str!({:?})),",
            file.display().to_string()
        );
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(e) = std::fs::write(out_dir.join("bundled_policies.rs"), out) {
        println!("cargo:warning=cannot write bundled_policies.rs: {e}");
        std::process::exit(1);
    }
}

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}
