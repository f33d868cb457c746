//! engage: the backend a marketplace brand owner uses to talk to customers.
//!
//! The crate is laid out as ports and adapters (see `../shared/DESIGN.md`):
//! [`domain`] is pure and takes a clock, [`policy`] evaluates the versioned
//! rule files, [`store`] is the storage port with its SQLite and DynamoDB
//! adapters, and [`api`] holds the HTTP routes shared by the Lambda functions
//! and the local server.

/// Writes the `transient` and `permanent` constructors of an error enum whose
/// `Transient` and `Permanent` variants hold a `message` and an optional `source`
/// (a `BoxError` of the module that calls it).
macro_rules! transient_and_permanent {
    ($error:ident) => {
        impl $error {
            /// A transient error with its source.
            pub fn transient(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
                Self::Transient {
                    message: message.into(),
                    source: Some(source.into()),
                }
            }

            /// A permanent error with its source.
            pub fn permanent(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
                Self::Permanent {
                    message: message.into(),
                    source: Some(source.into()),
                }
            }
        }
    };
}

pub mod api;
pub mod app;
pub mod auth;
pub mod bus;
pub mod clock;
pub mod config;
pub mod domain;
pub mod jobs;
pub mod mail;
pub mod policy;
pub mod queue;
pub mod runtime;
pub mod store;
pub mod unsubscribe;
