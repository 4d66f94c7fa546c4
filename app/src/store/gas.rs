//! Gas: a per-transaction meter charged per store access, per byte, per
//! signature and per message, with the Cosmos SDK's default costs.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

use serde::{Deserialize, Serialize};

use crate::error::{AppResult, SdkError};

/// Gas prices of each kind of work (auth params; Cosmos SDK defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GasCosts {
    pub read_flat: u64,
    pub read_per_byte: u64,
    pub write_flat: u64,
    pub write_per_byte: u64,
    pub delete: u64,
    pub iter_next_flat: u64,
    pub tx_size_per_byte: u64,
    pub sig_verify_secp256k1: u64,
    pub per_message: u64,
}

impl Default for GasCosts {
    fn default() -> Self {
        GasCosts {
            read_flat: 1000,
            read_per_byte: 3,
            write_flat: 2000,
            write_per_byte: 30,
            delete: 1000,
            iter_next_flat: 30,
            tx_size_per_byte: 10,
            sig_verify_secp256k1: 1000,
            per_message: 500,
        }
    }
}

/// A shared handle on one transaction's gas account. Cloning shares it, so
/// nested state forks all charge the same meter.
#[derive(Clone, Debug)]
pub struct GasMeter(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    limit: u64,
    used: AtomicU64,
    costs: GasCosts,
}

impl GasMeter {
    pub fn new(limit: u64, costs: GasCosts) -> Self {
        GasMeter(Arc::new(Inner { limit, used: AtomicU64::new(0), costs }))
    }

    pub fn limit(&self) -> u64 {
        self.0.limit
    }

    /// Gas used so far; may exceed the limit by the last failed charge,
    /// which is what the Cosmos SDK reports as gas used on out-of-gas.
    pub fn used(&self) -> u64 {
        self.0.used.load(Ordering::Relaxed)
    }

    pub fn costs(&self) -> &GasCosts {
        &self.0.costs
    }

    pub fn consume(&self, amount: u64, descriptor: &'static str) -> AppResult<()> {
        let prev = self.0.used.load(Ordering::Relaxed);
        let next = prev.saturating_add(amount);
        self.0.used.store(next, Ordering::Relaxed);
        if next > self.0.limit {
            return Err(SdkError::OutOfGas { limit: self.0.limit, needed: next, descriptor }.into());
        }
        Ok(())
    }

    pub fn charge_read(&self, bytes: u64) -> AppResult<()> {
        let c = &self.0.costs;
        self.consume(c.read_flat.saturating_add(bytes.saturating_mul(c.read_per_byte)), "store read")
    }

    pub fn charge_write(&self, bytes: u64) -> AppResult<()> {
        let c = &self.0.costs;
        self.consume(c.write_flat.saturating_add(bytes.saturating_mul(c.write_per_byte)), "store write")
    }

    pub fn charge_iter(&self, bytes: u64) -> AppResult<()> {
        let c = &self.0.costs;
        self.consume(c.iter_next_flat.saturating_add(bytes.saturating_mul(c.read_per_byte)), "store iteration")
    }

    pub fn charge_delete(&self) -> AppResult<()> {
        self.consume(self.0.costs.delete, "store delete")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_reports_out_of_gas_with_limit_and_need() {
        let m = GasMeter::new(5000, GasCosts::default());
        m.charge_read(10).unwrap(); // 1000 + 30
        assert_eq!(m.used(), 1030);
        m.charge_write(10).unwrap(); // 2000 + 300
        assert_eq!(m.used(), 3330);
        let e = m.charge_write(10).unwrap_err();
        assert_eq!((e.codespace, e.code), ("sdk", 11));
        assert_eq!(e.message, "out of gas: gas limit 5000, gas needed at least 5630 (store write)");
    }
}
