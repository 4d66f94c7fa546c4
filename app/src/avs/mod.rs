//! AVSs, operator sets and stake allocation: EigenLayer's AllocationManager
//! and AVSDirectory as chain state.
//!
//! An AVS (id assigned by the chain, owned by an account) creates operator
//! sets; each names the strategies it accepts, the one account allowed to
//! slash it, an optional veto committee and an optional operator allowlist.
//! Operators register for sets and allocate, per strategy, a magnitude (a
//! WAD fraction of their stake) to each. The sum of an operator's
//! allocations in a strategy (its *encumbered* magnitude, counting pending
//! increases) never exceeds its max magnitude. An increase counts after the
//! operator's allocation delay; a decrease, or a deregistration, stays
//! slashable for `deallocation_delay_seconds`. Pending changes sit in a
//! time-ordered queue that the block hook drains as they mature, so every
//! stored allocation is current and reads need no lazy evaluation.

pub mod error;
pub mod genesis;
pub mod hooks;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

pub use error::AvsError;
pub use params::AvsParams;
pub use state::{Allocation, Avs, AvsRead, AvsWrite, OperatorSet, Registration};
