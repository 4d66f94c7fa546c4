//! Accounts, sequences, signature and fee checks, gas parameters: the
//! Cosmos SDK's x/auth. Accounts are `/cosmos.auth.v1beta1.BaseAccount`
//! with secp256k1 keys; the ante handler (`msgs::ante`) runs before every
//! transaction's messages.

pub mod error;
pub mod genesis;
pub mod msgs;
pub mod params;
pub mod query;
pub mod sigcache;
pub mod state;

pub use error::AuthError;
pub use params::AuthParams;
pub use sigcache::SigCache;
pub use state::{AuthRead, AuthWrite};

/// The module account that collects transaction fees.
pub const FEE_COLLECTOR: &str = "fee_collector";
