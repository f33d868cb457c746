//! `campaigns-api` on Lambda: [`engage::runtime::campaigns_api`] says what triggers it, what it
//! returns and what it reads.

use engage::runtime::{ColdStart, Error, campaigns_api as function};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cold = ColdStart::load(function::SECRETS).await?;
    function::run(cold).await
}
