//! Operators and delegation: EigenLayer's DelegationManager with the
//! Cosmos x/staking rules validators expect (commission with a max and a
//! max daily change, an ed25519 consensus key), and the provider chain's
//! validator set, recomputed at each epoch end from delegated native stake.
//!
//! An operator's stake per strategy is one record (`OperatorStake`): the
//! exact sum of its delegators' scaled shares, the scaled shares escrowed
//! in withdrawals queued from it, and its max magnitude. Nothing here
//! iterates stakers.

pub mod error;
pub mod genesis;
pub mod hooks;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

pub use error::DelegationError;
pub use params::DelegationParams;
pub use state::{DelegationRead, DelegationWrite, Operator, OperatorMetadata, OperatorStake, ValidatorEntry, ValidatorSet};
