//! `aegisd loadtest`: a load generator for any Cosmos SDK-format chain
//! under CometBFT. It derives sender accounts from a seed, has a funder
//! top them up, signs every tx offline before timing, broadcasts them in
//! JSON-RPC batches over CometBFT's RPC from a few concurrent lanes, and
//! measures what the chain committed from its blocks: throughput over
//! block header times, not the client's clock (see `report`).
//!
//! Each account's txs go through one lane in sequence order, and CometBFT
//! checks a batch's txs in order, so no tx reaches CheckTx before its
//! predecessor from the same account.

pub mod accounts;
pub mod report;
pub mod rpc;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aegis_app::signer::Signer;
use anyhow::{bail, Result};

use accounts::{Account, LoadTx};
use report::{Observed, Report, SeenBlock};
use rpc::{BroadcastAnswer, CometRpc};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `broadcast_tx_sync`: each tx waits for CheckTx; refusals are counted.
    Sync,
    /// `broadcast_tx_async`: handed to the mempool, CheckTx not awaited.
    Async,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MsgKind {
    /// Bank MsgSend of --amount to the next account (any Cosmos SDK chain).
    Send,
    /// Aegis restaking MsgDeposit of --amount into the --denom strategy.
    Deposit,
}

#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub rpc: String,
    pub grpc: String,
    pub chain_id: Option<String>,
    pub bech32_prefix: String,
    pub denom: String,
    pub seed: String,
    pub accounts: usize,
    pub txs: u64,
    pub mode: Mode,
    pub batch: usize,
    pub concurrency: usize,
    pub gas: u64,
    /// Fee per tx, in `denom`.
    pub fee: u128,
    /// What each tx sends or deposits, in `denom`.
    pub amount: u128,
    pub msg: MsgKind,
    /// Seconds to wait for the txs to commit after the last is sent.
    pub timeout_secs: u64,
}

/// Live counters for the progress line.
#[derive(Default)]
pub struct Progress {
    pub sent: AtomicU64,
    pub committed: AtomicU64,
    pub height: AtomicU64,
}

fn now_ns() -> i128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0)
}

/// Run the load described by `cfg`; `log` receives the phase lines and
/// `progress` is updated while it runs.
pub async fn run(cfg: &LoadConfig, funder: Option<&Signer>, progress: Arc<Progress>, log: &dyn Fn(String)) -> Result<Report> {
    if cfg.accounts == 0 || cfg.txs == 0 || cfg.batch == 0 || cfg.concurrency == 0 {
        bail!("--accounts, --txs, --batch and --concurrency must be at least 1");
    }
    let rpc = CometRpc::new(&cfg.rpc)?;
    let (node_chain, _) = rpc.status().await?;
    let chain_id = match &cfg.chain_id {
        Some(c) if *c != node_chain => bail!("--chain-id {c:?} does not match the node's chain id {node_chain:?} (at {})", cfg.rpc),
        _ => node_chain,
    };
    let ch = crate::client::GrpcClient::connect(&cfg.grpc).await?.channel();
    let accounts = accounts::prepare(cfg, &rpc, &ch, &chain_id, funder, log).await?;

    let started = Instant::now();
    let per_account = tokio::task::block_in_place(|| accounts::sign_all(cfg, &accounts, &chain_id))?;
    let sign_secs = started.elapsed().as_secs_f64();
    log(format!("signed {} txs in {sign_secs:.2} s", cfg.txs));
    let lanes = lanes(per_account, cfg.concurrency.min(cfg.accounts));
    let (start_height, n) = (rpc.status().await?.1, cfg.txs as usize);

    let mut index = HashMap::with_capacity(n);
    let mut flat: Vec<Vec<(usize, LoadTx)>> = vec![];
    for lane in lanes {
        let mut l = vec![];
        for tx in lane {
            index.insert(tx.hash, index.len());
            l.push((index.len() - 1, tx));
        }
        flat.push(l);
    }
    let shared = Arc::new(Shared { sent_at: Mutex::new(vec![0; n]), refused: Mutex::new(BTreeMap::new()), accepted: AtomicU64::new(0), done: AtomicBool::new(false) });
    let method = match cfg.mode {
        Mode::Sync => "broadcast_tx_sync",
        Mode::Async => "broadcast_tx_async",
    };
    let t0 = Instant::now();
    let senders: Vec<_> = flat
        .into_iter()
        .map(|lane| {
            let (rpc, shared, progress, batch) = (rpc.clone(), shared.clone(), progress.clone(), cfg.batch);
            tokio::spawn(async move { send_lane(&rpc, method, lane, batch, &shared, &progress).await })
        })
        .collect();
    let scan = scan(&rpc, start_height + 1, &index, n, cfg.timeout_secs, &shared, &progress);
    let broadcast = async {
        for s in senders {
            s.await?;
        }
        let secs = t0.elapsed().as_secs_f64();
        shared.done.store(true, Ordering::SeqCst);
        log(format!("broadcast {n} txs in {secs:.2} s; waiting for the blocks"));
        anyhow::Ok(secs)
    };
    let (broadcast_secs, (blocks, timed_out)) = tokio::try_join!(broadcast, scan)?;

    let mut o = Observed {
        blocks,
        time_before_first_ns: None,
        time_after_last_ns: None,
        sent_at_ns: std::mem::take(&mut *shared.sent_at.lock().unwrap()),
        refused: std::mem::take(&mut *shared.refused.lock().unwrap()),
        accepted: shared.accepted.load(Ordering::SeqCst),
        broadcast_secs,
        sign_secs,
        timed_out,
    };
    let with_load: Vec<u64> = o.blocks.iter().filter(|(_, b)| !b.load.is_empty()).map(|(h, _)| *h).collect();
    if let (Some(first), Some(last)) = (with_load.first(), with_load.last()) {
        o.time_before_first_ns = Some(rpc.block(first - 1).await?.time_ns);
        o.time_after_last_ns = next_block_time(&rpc, last + 1).await?;
    }
    Ok(report(cfg, &chain_id, &accounts, o))
}

/// The time of block `h`, waiting up to 10 s for it.
async fn next_block_time(rpc: &CometRpc, h: u64) -> Result<Option<i128>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while rpc.status().await?.1 < h {
        if Instant::now() > deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Some(rpc.block(h).await?.time_ns))
}

fn report(cfg: &LoadConfig, chain_id: &str, accounts: &[Account], o: Observed) -> Report {
    let f = report::block_figures(&o);
    let blocks = f.per_block.len() as u64;
    let l = &f.latencies_ms;
    Report {
        chain_id: chain_id.into(),
        rpc: cfg.rpc.clone(),
        msg: format!("{:?}", cfg.msg).to_lowercase(),
        mode: format!("{:?}", cfg.mode).to_lowercase(),
        txs: cfg.txs,
        accounts: cfg.accounts,
        batch: cfg.batch,
        concurrency: cfg.concurrency.min(cfg.accounts),
        sign_seconds: o.sign_secs,
        broadcast_seconds: o.broadcast_secs,
        broadcast_tx_per_s: if o.broadcast_secs > 0.0 { cfg.txs as f64 / o.broadcast_secs } else { 0.0 },
        accepted: o.accepted,
        refused: o.refused.clone(),
        committed: f.committed,
        succeeded: f.succeeded,
        failed_by_code: f.failed_by_code.clone(),
        not_committed: cfg.txs - f.committed,
        timed_out: o.timed_out,
        first_height: f.first_height,
        last_height: f.last_height,
        blocks,
        window_seconds: f.window_seconds,
        committed_tx_per_s: if f.window_seconds > 0.0 { f.committed as f64 / f.window_seconds } else { 0.0 },
        txs_per_block: Report::txs_per_block(&f.per_block),
        latency_ms: (!l.is_empty()).then(|| report::Latency {
            p50: report::percentile(l, 0.5),
            p90: report::percentile(l, 0.9),
            p99: report::percentile(l, 0.99),
            max: *l.last().unwrap(),
        }),
        per_block: f.per_block,
        senders: accounts
            .iter()
            .map(|a| report::Sender { address: a.address.clone(), account_number: a.account_number, start_sequence: a.sequence, txs: a.txs, balance_before: a.balance.to_string() })
            .collect(),
    }
}

struct Shared {
    sent_at: Mutex<Vec<i128>>,
    refused: Mutex<BTreeMap<String, u64>>,
    accepted: AtomicU64,
    done: AtomicBool,
}

/// Spread the accounts over `c` lanes (account i on lane i % c); a lane
/// sends round by round, each round one tx of each of its accounts, so
/// every account's txs keep their sequence order.
fn lanes(per_account: Vec<Vec<LoadTx>>, c: usize) -> Vec<Vec<LoadTx>> {
    let mut by_lane: Vec<Vec<std::vec::IntoIter<LoadTx>>> = (0..c).map(|_| vec![]).collect();
    for (i, txs) in per_account.into_iter().enumerate() {
        by_lane[i % c].push(txs.into_iter());
    }
    by_lane
        .into_iter()
        .map(|mut its| {
            let mut out = vec![];
            loop {
                let before = out.len();
                out.extend(its.iter_mut().filter_map(Iterator::next));
                if out.len() == before {
                    return out;
                }
            }
        })
        .collect()
}

async fn send_lane(rpc: &CometRpc, method: &str, lane: Vec<(usize, LoadTx)>, batch: usize, shared: &Shared, progress: &Progress) {
    for chunk in lane.chunks(batch) {
        let sent = now_ns();
        {
            let mut at = shared.sent_at.lock().unwrap();
            for (i, _) in chunk {
                at[*i] = sent;
            }
        }
        let bytes: Vec<&[u8]> = chunk.iter().map(|(_, t)| t.bytes.as_slice()).collect();
        let answers = match rpc.broadcast_batch(method, &bytes).await {
            Ok(a) => a,
            // The whole request refused (e.g. a batch above CometBFT's
            // `[rpc] max_request_batch_size`, 10 by default): said as it is.
            Err(e) => {
                *shared.refused.lock().unwrap().entry(format!("request failed: {e:#}")).or_default() += chunk.len() as u64;
                progress.sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                continue;
            }
        };
        let mut refused = shared.refused.lock().unwrap();
        for a in answers {
            match a {
                BroadcastAnswer::Accepted => {
                    shared.accepted.fetch_add(1, Ordering::Relaxed);
                }
                BroadcastAnswer::Rejected { codespace, code, log } => *refused.entry(format!("CheckTx {codespace}/{code}: {}", reason(&log))).or_default() += 1,
                BroadcastAnswer::RpcError(e) => *refused.entry(format!("RPC error: {}", reason(&e))).or_default() += 1,
            }
        }
        progress.sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
}

/// A refusal's reason with the numbers that differ per tx (sequences,
/// sizes) written N, so that refusals of one kind count together.
fn reason(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(160) {
        match c.is_ascii_digit() {
            true if out.ends_with('N') => {}
            true => out.push('N'),
            false => out.push(c),
        }
    }
    out
}


/// Scan every block from `from` on for the load's txs until all `n` are
/// found, or none is left to come (broadcast done, every refusal known or
/// the mempool empty), or `timeout_secs` passed since the broadcast ended.
/// Returns the blocks from `from` up to the last scanned, and whether it timed out.
async fn scan(rpc: &CometRpc, from: u64, index: &HashMap<[u8; 32], usize>, n: usize, timeout_secs: u64, shared: &Shared, progress: &Progress) -> Result<(BTreeMap<u64, SeenBlock>, bool)> {
    use sha2::{Digest, Sha256};
    let (mut blocks, mut next, mut found) = (BTreeMap::new(), from, 0usize);
    let (mut done_at, mut drained_polls): (Option<Instant>, u32) = (None, 0);
    loop {
        let done = shared.done.load(Ordering::SeqCst);
        // Asked before the height: an empty mempool then means every
        // block holding load txs is at or below the height read next.
        // Three polls in a row, so txs still in CheckTx are not missed.
        drained_polls = if done && rpc.unconfirmed_txs().await? == 0 { drained_polls + 1 } else { 0 };
        let drained = drained_polls >= 3;
        let latest = rpc.status().await?.1;
        while next <= latest {
            let b = rpc.block(next).await?;
            let load: Vec<(usize, usize)> = b.txs.iter().enumerate().filter_map(|(pos, tx)| index.get(&<[u8; 32]>::from(Sha256::digest(tx))).map(|i| (pos, *i))).collect();
            let mut seen = SeenBlock { time_ns: b.time_ns, txs: b.txs.len() as u64, load: vec![] };
            if !load.is_empty() {
                // CometBFT stores a block before executing it: its results
                // come a moment later.
                let results = match rpc.block_results(next).await {
                    Ok(r) => r,
                    Err(e) if format!("{e:#}").contains("could not find results") => break,
                    Err(e) => return Err(e),
                };
                for (pos, i) in load {
                    let (codespace, code) = results.get(pos).cloned().unwrap_or_default();
                    seen.load.push((i, codespace, code));
                }
                found += seen.load.len();
            }
            blocks.insert(next, seen);
            progress.height.store(next, Ordering::Relaxed);
            progress.committed.store(found as u64, Ordering::Relaxed);
            next += 1;
        }
        let refused: u64 = shared.refused.lock().unwrap().values().sum();
        if found == n || (next > latest && ((done && found as u64 + refused >= n as u64) || drained)) {
            return Ok((blocks, false));
        }
        if done {
            let at = *done_at.get_or_insert_with(Instant::now);
            if at.elapsed() > Duration::from_secs(timeout_secs) {
                return Ok((blocks, true));
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_of_one_kind_share_a_reason() {
        assert_eq!(super::reason("account sequence mismatch, expected 12, got 7"), "account sequence mismatch, expected N, got N");
        assert_eq!(super::reason("tx already exists in cache"), "tx already exists in cache");
    }
}
