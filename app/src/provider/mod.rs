//! Consumer chains: Interchain Security's provider as an AVS. A consumer
//! chain is an AVS (same id) whose one operator set (0) is its validator
//! set: operators opt in, allocate stake to it like to any AVS, and get
//! voting power on the consumer from what they allocate, weighted per
//! strategy. At its spawn time the provider freezes the initial set and
//! serves the consumer genesis (ICS's `ConsumerGenesisState`); each epoch
//! end it recomputes the sets of the consumers something changed for and
//! sends them over ICS's CCV channel (port `provider`) as VSC packets.

pub mod channel;
pub mod error;
pub mod genesis;
pub mod hooks;
pub mod infractions;
pub mod msgs;
pub mod params;
pub mod query;
pub mod rewards;
pub mod state;
pub mod valset;

pub use error::ProviderError;
pub use params::ProviderParams;
pub use state::{Consumer, ProviderRead, ProviderWrite};
