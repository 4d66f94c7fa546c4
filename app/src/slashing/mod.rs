//! Slashing: AVS slash requests (EigenLayer's `slashOperator` with
//! Symbiotic's veto window) and the provider's own consensus faults
//! (Cosmos x/slashing and x/evidence).
//!
//! An AVS slash takes a fraction of what an operator allocated to one
//! operator set: the slashed magnitude (rounded up) comes off the
//! allocation, the operator's encumbered and max magnitudes, and so, in
//! O(1), off every delegator and every escrowed withdrawal. Slashed tokens
//! are burned or paid to the AVS's redistribution recipient. Each evidence
//! reference is used at most once per AVS, and a per-epoch cap bounds what
//! all AVSs together can take from one operator in one strategy.
//!
//! A request to a set with a veto committee gets an id and one record
//! (`slashing/slash/<id>`) that stays after it resolves: pending, then
//! vetoed, executed (with what it took) or expired (the operator stopped
//! being slashable by the set before anyone executed it).
//!
//! A provider double-sign slashes the operator's whole native stake by
//! `slash_fraction_double_sign` (every allocation piece and the
//! unallocated rest alike), tombstones it and removes it from the
//! validator set in the same block. Missing too many of the last
//! `signed_blocks_window` blocks jails it for `downtime_jail_duration` and
//! slashes `slash_fraction_downtime`; after `MsgUnjail` it is back at the
//! next epoch end.

pub mod error;
pub mod genesis;
pub mod hooks;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

pub use error::SlashingError;
pub use params::SlashingParams;
pub use state::{AvsSlash, SigningInfo, SlashStatus, SlashingRead, SlashingWrite};
