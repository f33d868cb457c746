//! `marketplace-events` on Lambda: [`engage::runtime::marketplace_events`] says what triggers it, what it
//! returns and what it reads.

use engage::runtime::{ColdStart, Error, marketplace_events as function};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cold = ColdStart::load(function::SECRETS).await?;
    function::run(cold).await
}
