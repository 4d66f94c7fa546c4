//! Native staking rewards: Cosmos x/distribution with EigenLayer-style
//! accumulators. Each block, the inflation provision plus collected fees
//! go to the provider's validators by voting power; each operator keeps its
//! commission and the rest raises its reward-per-scaled-share accumulator
//! for native stake. A staker's reward is its scaled native shares times
//! the accumulator's rise since it last settled, so distribution is
//! O(validators) per block and a claim is O(1). Slashes lower everyone's
//! shares by the same factor and leave scaled shares alone, so they do not
//! disturb the accumulator.
//!
//! AVS rewards: an AVS escrows an amount for one of its operator sets over
//! a number of epochs; at each epoch end that epoch's share goes to the
//! set's operators by allocated stake, each keeps its commission for that
//! AVS, and the rest raises its accumulator of each rewarded strategy in
//! the reward's denom. `MsgClaimRewards` pays every denom at once.

pub mod error;
pub mod genesis;
pub mod hooks;
pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

pub use error::RewardsError;
pub use params::RewardsParams;
pub use state::{RewardsRead, RewardsWrite};

/// Module account holding distributed but unclaimed rewards.
pub const DISTRIBUTION: &str = "distribution";
/// Module account escrowing AVS reward submissions until their epochs.
pub const AVS_REWARDS_ESCROW: &str = "avs_rewards";
