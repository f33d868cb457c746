//! `sequences` on Lambda: [`engage::runtime::sequences`] says what triggers it, what it
//! returns and what it reads.

use engage::runtime::{ColdStart, Error, sequences as function};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cold = ColdStart::load(function::SECRETS).await?;
    function::run(cold).await
}
