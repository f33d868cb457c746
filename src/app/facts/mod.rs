//! Policy inputs: the facts of every policy the code evaluates, one file per
//! policy, built from domain values (`policies/README.md` lists each policy's
//! facts). A code path gathers state, calls a builder here and evaluates the
//! policy it names ([`crate::policy::PolicyName`]); no other module assembles
//! facts, so a fact a rule may read is added in one place.

pub mod campaign;
pub mod contact;
pub mod content;
pub mod health;
pub mod message;
pub mod promotion;
pub mod send;

pub use campaign::{BrandContext, campaign_facts};
pub use content::{Channel, Text, check_content, content_facts};
pub use promotion::promotion_facts;
