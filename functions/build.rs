//! The build script of every function crate (each names it with `build = "../build.rs"`).

fn main() {
    // A position-dependent executable: with PIE (the target's default), every pointer in
    // the binary's read-only data (vtables, string tables, the time-zone database, panic
    // locations) also needed a dynamic relocation, 1.4 MiB of `.rela.dyn` in each function
    // and 0.15 MiB of its zip. The code stays position-independent; only the link changes.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
