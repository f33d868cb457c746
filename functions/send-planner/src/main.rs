//! `send-planner` on Lambda: [`engage::runtime::send_planner`] says what triggers it, what it
//! returns and what it reads.

use engage::runtime::{ColdStart, Error, send_planner as function};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cold = ColdStart::load(function::SECRETS).await?;
    function::run(cold).await
}
