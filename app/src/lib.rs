//! aegis-app: the deterministic Aegis state machine. No sockets, no wall
//! clock, no randomness: block time comes from the header and every map
//! iterated is ordered.

// gRPC handlers return tonic::Status, a large error type by design of tonic's API.
#![allow(clippy::result_large_err)]

pub mod abci;
pub mod app;
pub mod auth;
pub mod avs;
pub mod bank;
pub mod ccv;
pub mod consumer;
pub mod delegation;
pub mod error;
pub mod ibc;
pub mod math;
pub mod provider;
pub mod query;
pub mod restaking;
pub mod rewards;
pub mod router;
pub mod signer;
pub mod slashing;
pub mod store;
#[doc(hidden)]
pub mod testkit;
pub mod tx;
pub mod types;

pub use app::{App, AppGenesis};
pub use error::{AppError, AppResult};
