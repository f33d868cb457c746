//! `send-worker` on Lambda: [`engage::runtime::send_worker`] says what triggers it, what it
//! returns and what it reads.

use engage::runtime::{ColdStart, Error, send_worker as function};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cold = ColdStart::load(function::SECRETS).await?;
    function::run(cold).await
}
