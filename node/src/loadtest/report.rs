//! What a load run measured, computed from the chain's blocks: committed
//! throughput over block header times (never the client's clock), blocks
//! used, txs per block, failures by code, mempool refusals, the client's
//! broadcast rate and broadcast-to-commit latency.

use std::collections::BTreeMap;

use serde::Serialize;

/// A block that held load txs (or lies between two that did).
#[derive(Clone, Debug, Default)]
pub struct SeenBlock {
    /// Header time, Unix nanoseconds.
    pub time_ns: i128,
    /// Every tx in the block, load or not.
    pub txs: u64,
    /// The load txs in it: (index in the load, codespace, code).
    pub load: Vec<(usize, String, u32)>,
}

/// The raw observations of a run.
pub struct Observed {
    pub blocks: BTreeMap<u64, SeenBlock>,
    /// Header time of the block before the first load block.
    pub time_before_first_ns: Option<i128>,
    /// Header time of the block after the last load block (its commit time:
    /// CometBFT's BFT time is the median of the precommits of the block before).
    pub time_after_last_ns: Option<i128>,
    /// When each load tx's batch was sent (Unix ns; 0 if never).
    pub sent_at_ns: Vec<i128>,
    pub refused: BTreeMap<String, u64>,
    pub accepted: u64,
    pub broadcast_secs: f64,
    pub sign_secs: f64,
    pub timed_out: bool,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct PerBlock {
    pub height: u64,
    pub load_txs: u64,
    pub txs: u64,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct MinAvgMax {
    pub min: u64,
    pub avg: f64,
    pub max: u64,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Serialize, Debug)]
pub struct Sender {
    pub address: String,
    pub account_number: u64,
    pub start_sequence: u64,
    pub txs: u64,
    pub balance_before: String,
}

#[derive(Serialize, Debug)]
pub struct Report {
    pub chain_id: String,
    pub rpc: String,
    pub msg: String,
    pub mode: String,
    pub txs: u64,
    pub accounts: usize,
    pub batch: usize,
    pub concurrency: usize,
    pub sign_seconds: f64,
    pub broadcast_seconds: f64,
    /// Txs sent per second of the client's clock: if it is near the
    /// committed rate, the client is the bottleneck.
    pub broadcast_tx_per_s: f64,
    pub accepted: u64,
    /// Mempool refusals (CheckTx non-zero, sync mode) and RPC errors, by reason.
    pub refused: BTreeMap<String, u64>,
    /// Load txs found in blocks, whatever their code.
    pub committed: u64,
    pub succeeded: u64,
    /// "codespace/code" -> count.
    pub failed_by_code: BTreeMap<String, u64>,
    pub not_committed: u64,
    pub timed_out: bool,
    pub first_height: u64,
    pub last_height: u64,
    pub blocks: u64,
    /// Header time of the last load block minus that of the block before the first.
    pub window_seconds: f64,
    pub committed_tx_per_s: f64,
    pub txs_per_block: MinAvgMax,
    /// Milliseconds from the batch's send to the commit of the tx's block.
    pub latency_ms: Option<Latency>,
    pub per_block: Vec<PerBlock>,
    pub senders: Vec<Sender>,
}

/// The value at `q` (0..=1) of sorted `v`: nearest rank.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The block figures of `o`: (committed, succeeded, failures by code,
/// first and last height, per-block counts from first to last, window s,
/// latencies in ms, sorted).
pub struct BlockFigures {
    pub committed: u64,
    pub succeeded: u64,
    pub failed_by_code: BTreeMap<String, u64>,
    pub first_height: u64,
    pub last_height: u64,
    pub per_block: Vec<PerBlock>,
    pub window_seconds: f64,
    pub latencies_ms: Vec<f64>,
}

pub fn block_figures(o: &Observed) -> BlockFigures {
    let with_load: Vec<u64> = o.blocks.iter().filter(|(_, b)| !b.load.is_empty()).map(|(h, _)| *h).collect();
    let (first, last) = (with_load.first().copied().unwrap_or(0), with_load.last().copied().unwrap_or(0));
    let mut f = BlockFigures {
        committed: 0,
        succeeded: 0,
        failed_by_code: BTreeMap::new(),
        first_height: first,
        last_height: last,
        per_block: vec![],
        window_seconds: 0.0,
        latencies_ms: vec![],
    };
    if with_load.is_empty() {
        return f;
    }
    for h in first..=last {
        let b = o.blocks.get(&h).cloned().unwrap_or_default();
        f.per_block.push(PerBlock { height: h, load_txs: b.load.len() as u64, txs: b.txs });
        for (i, codespace, code) in &b.load {
            f.committed += 1;
            match code {
                0 => f.succeeded += 1,
                c => *f.failed_by_code.entry(format!("{codespace}/{c}")).or_default() += 1,
            }
            if let (Some(commit), Some(sent)) = (o.blocks.get(&(h + 1)).map(|n| n.time_ns).or((h == last).then_some(o.time_after_last_ns).flatten()), o.sent_at_ns.get(*i)) {
                if *sent > 0 {
                    f.latencies_ms.push((commit - sent) as f64 / 1e6);
                }
            }
        }
    }
    if let Some(before) = o.time_before_first_ns {
        f.window_seconds = (o.blocks[&last].time_ns - before) as f64 / 1e9;
    }
    f.latencies_ms.sort_by(|a, b| a.total_cmp(b));
    f
}

impl Report {
    pub fn txs_per_block(per_block: &[PerBlock]) -> MinAvgMax {
        let counts: Vec<u64> = per_block.iter().map(|b| b.load_txs).collect();
        match counts.is_empty() {
            true => MinAvgMax { min: 0, avg: 0.0, max: 0 },
            false => MinAvgMax {
                min: *counts.iter().min().unwrap(),
                avg: counts.iter().sum::<u64>() as f64 / counts.len() as f64,
                max: *counts.iter().max().unwrap(),
            },
        }
    }

    /// The human form: a table of the figures and one line per block.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let mut row = |k: &str, v: String| s.push_str(&format!("{k:<28} {v}\n"));
        row("chain", format!("{} at {}", self.chain_id, self.rpc));
        row("load", format!("{} x {} from {} accounts, {} batches of {}, {} concurrent", self.txs, self.msg, self.accounts, self.mode, self.batch, self.concurrency));
        row("signing (before timing)", format!("{:.2} s", self.sign_seconds));
        row("broadcast", format!("{:.2} s, {:.0} tx/s (client clock)", self.broadcast_seconds, self.broadcast_tx_per_s));
        row("accepted by the node", self.accepted.to_string());
        row("refused (mempool / RPC)", refused_text(&self.refused));
        row("committed", format!("{} ({} ok, {} not committed{})", self.committed, self.succeeded, self.not_committed, if self.timed_out { ", timed out" } else { "" }));
        row("failed by code", refused_text(&self.failed_by_code));
        row("blocks", format!("{} (heights {} - {})", self.blocks, self.first_height, self.last_height));
        row("block time window", format!("{:.3} s", self.window_seconds));
        row("COMMITTED TX/S", format!("{:.1}", self.committed_tx_per_s));
        row("load txs per block", format!("min {} avg {:.1} max {}", self.txs_per_block.min, self.txs_per_block.avg, self.txs_per_block.max));
        if let Some(l) = &self.latency_ms {
            row("latency to commit (ms)", format!("p50 {:.0} p90 {:.0} p99 {:.0} max {:.0}", l.p50, l.p90, l.p99, l.max));
        }
        s.push_str("\nheight    load txs  all txs\n");
        for b in &self.per_block {
            s.push_str(&format!("{:<9} {:>8} {:>8}\n", b.height, b.load_txs, b.txs));
        }
        s
    }
}

fn refused_text(m: &BTreeMap<String, u64>) -> String {
    match m.is_empty() {
        true => "0".into(),
        false => m.iter().map(|(k, v)| format!("{v} x {k}")).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(time_s: i128, txs: u64, load: &[(usize, u32)]) -> SeenBlock {
        SeenBlock { time_ns: time_s * 1_000_000_000, txs, load: load.iter().map(|(i, c)| (*i, if *c == 0 { String::new() } else { "sdk".into() }, *c)).collect() }
    }

    #[test]
    fn throughput_spans_the_block_before_the_first_to_the_last_and_counts_empty_blocks_between() {
        let mut blocks = BTreeMap::new();
        blocks.insert(10, block(100, 3, &[(0, 0), (1, 0)]));
        blocks.insert(11, block(101, 0, &[]));
        blocks.insert(12, block(102, 2, &[(2, 0), (3, 5)]));
        blocks.insert(13, block(103, 0, &[]));
        let o = Observed {
            blocks,
            time_before_first_ns: Some(99_000_000_000),
            time_after_last_ns: Some(103_000_000_000),
            sent_at_ns: vec![100_500_000_000, 100_500_000_000, 101_000_000_000, 0],
            refused: BTreeMap::new(),
            accepted: 4,
            broadcast_secs: 1.0,
            sign_secs: 0.1,
            timed_out: false,
        };
        let f = block_figures(&o);
        assert_eq!((f.committed, f.succeeded, f.first_height, f.last_height), (4, 3, 10, 12));
        assert_eq!(f.failed_by_code, BTreeMap::from([("sdk/5".to_string(), 1)]));
        assert_eq!(f.window_seconds, 3.0);
        assert_eq!(f.per_block.iter().map(|b| (b.height, b.load_txs, b.txs)).collect::<Vec<_>>(), vec![(10, 2, 3), (11, 0, 0), (12, 2, 2)]);
        // Committed at the next block's time: 101 - 100.5, twice; 103 - 101.
        assert_eq!(f.latencies_ms, vec![500.0, 500.0, 2000.0]);
        assert_eq!(Report::txs_per_block(&f.per_block), MinAvgMax { min: 0, avg: 4.0 / 3.0, max: 2 });
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.9), percentile(&v, 0.99), percentile(&v, 1.0)), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
