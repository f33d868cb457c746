//! `unsubscribe-api` on Lambda: [`engage::runtime::unsubscribe_api`] says what triggers it, what it
//! returns and what it reads.

use engage::runtime::{ColdStart, Error, unsubscribe_api as function};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cold = ColdStart::load_without_policies(function::SECRETS).await?;
    function::run(cold).await
}
