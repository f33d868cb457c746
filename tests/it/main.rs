//! engage's one integration-test binary: a module per area, shared helpers in
//! `common` (store builders, sample values), `server` (a spawned `engage serve`)
//! and `send_support` (clocks, seeding and faulty adapters of the send tests).
//!
//! One binary links the crate once instead of once per area; `cargo test
//! --test it <area>::` runs one area. Tests that need moto read
//! `ENGAGE_TEST_AWS_ENDPOINT` and skip their moto part without it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    dead_code,
    reason = "tests fail by panicking; each area uses part of the shared helpers"
)]

mod common;
mod send_support;
mod server;

mod campaigns;
mod console;
mod contact;
mod demo;
mod errors;
mod events;
mod health;
mod infra;
mod lambda;
mod mail;
mod openapi;
mod send_faults;
mod send_kill;
mod send_scale;
mod send_window;
mod sequences;
mod serve;
mod ses_events;
mod store_contract;
mod unsubscribe;
