//! Consumer: what makes an Aegis chain an Interchain Security consumer
//! (ICS's `x/ccv/consumer`). Present only on a chain whose genesis has an
//! `app_state.consumer` section (ICS's `ConsumerGenesisState` from the
//! provider): it holds the provider's light client id, the CCV channel,
//! and the validator set the provider leases to this chain, which VSC
//! packets change and the end-block hook hands to CometBFT.
//!
//! It also reports its validators' downtime to the provider as slash
//! packets (`hooks.rs` begin block, `relay.rs`) and sends the provider its
//! share of the fees (`distribution.rs`).
//!
//! The wire protocol (ports, version, packet and ack encodings) is ICS's,
//! in `crate::ccv`; the IBC port module is `channel.rs`.

pub mod channel;
pub mod distribution;
pub mod error;
pub mod genesis;
pub mod hooks;
pub mod query;
pub mod relay;
pub mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use error::ConsumerError;
pub use state::{CcvChannelState, ConsumerRead, ConsumerValidator, ConsumerWrite};

use crate::error::AppResult;
use crate::restaking::RestakingRead;
use crate::store::StoreRead;

/// The module's name: the codespace, and the module account that signs
/// what the module does on its own (the provider client at genesis).
pub const MODULE: &str = "consumer";

/// This chain's unbonding period as IBC sees it (what a counterparty's
/// client of this chain must carry): on a consumer chain its CCV params'
/// unbonding period (the provider made its client of this chain with it),
/// otherwise the restaking withdrawal delay.
pub async fn host_unbonding_period<S: StoreRead + Send + Sync + ?Sized>(state: &S) -> AppResult<Duration> {
    if let Some(p) = state.consumer_params().await? {
        if let Some(d) = genesis::unbonding_period(&p) {
            return Ok(d);
        }
    }
    Ok(Duration::from_secs(state.restaking_params().await?.withdrawal_delay_seconds))
}
