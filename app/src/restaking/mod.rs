//! Restaking pools: EigenLayer's StrategyManager as chain state.
//!
//! One strategy (pool) per accepted denom; `uaegis` is the native one.
//! Deposits mint shares at the pool's rate with a virtual offset
//! (`VIRTUAL_SHARES` shares backed by `VIRTUAL_TOKENS` token that nobody
//! owns), so a first depositor who donates to the pool cannot round later
//! depositors down to nothing. Withdrawals are queued for
//! `withdrawal_delay_seconds` of block time and stay slashable until
//! completed.
//!
//! What a staker can withdraw is derived, never rewritten after a slash:
//! a staker's deposit shares times its deposit scaling factor gives its
//! *scaled* shares; scaled shares times its operator's max magnitude (WAD)
//! gives its withdrawable shares (EigenLayer's slashing-factor design). A
//! slash lowers one magnitude and so every delegator's and every escrowed
//! withdrawal's value in O(1).

pub mod error;
pub mod genesis;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

pub use error::RestakingError;
pub use params::RestakingParams;
pub use state::{RestakingRead, RestakingWrite, StakerDeposit, Strategy, Withdrawal};

use crate::types::Address;

/// Virtual shares of every pool: 10^9 per virtual token, so one token
/// deposited into an empty pool mints 10^9 shares and a donation to the
/// pool raises the price of a share by at most donation / 10^9 per share.
pub const VIRTUAL_SHARES: u128 = 1_000_000_000;
/// Virtual tokens of every pool.
pub const VIRTUAL_TOKENS: u128 = 1;

/// The account that holds a strategy's pool. It accepts MsgSend (a
/// donation raises the pool's rate, as a token transfer to an EigenLayer
/// strategy does); only the module moves tokens out.
pub fn pool_address(denom: &str) -> Address {
    Address::module(&format!("restaking/pool/{denom}"))
}
