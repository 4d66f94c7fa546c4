//! Multi-denom balances, total supply, module accounts and
//! `/cosmos.bank.v1beta1.MsgSend`: the Cosmos SDK's x/bank.

pub mod error;
pub mod genesis;
pub mod msgs;
pub mod query;
pub mod state;

pub use error::BankError;
pub use state::{BankRead, BankWrite};
