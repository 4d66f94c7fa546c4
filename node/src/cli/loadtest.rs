//! `aegisd loadtest`: flags, the progress line on stderr, and the report
//! (the table with `--output text`, JSON otherwise, like every command).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use aegis_node::keys;
use aegis_node::loadtest::{self, LoadConfig, Mode, MsgKind, Progress};
use anyhow::{anyhow, Result};
use clap::Args;

use super::common::{output, parse_amount_denom, NodeArgs, Output};

#[derive(Args, Clone)]
pub struct LoadtestArgs {
    /// CometBFT RPC of the node to load (broadcasts and block data); default:
    /// the home's client.toml `node`, else what `aegisd init` listens on.
    #[arg(long, env = "AEGIS_NODE", default_value = "http://127.0.0.1:26657")]
    rpc: String,
    #[command(flatten)]
    node: NodeArgs,
    /// Chain id to sign for (default: the node's); checked against the node's.
    #[arg(long, env = "AEGIS_CHAIN_ID")]
    chain_id: Option<String>,
    /// Bech32 prefix of the chain's account addresses.
    #[arg(long, default_value = "aegis")]
    bech32_prefix: String,
    /// Denom sent (or deposited) and paid in fees.
    #[arg(long, default_value = "uaegis")]
    denom: String,
    /// Funder: a key in the keyring at --home; needed only when accounts lack funds.
    #[arg(long)]
    from: Option<String>,
    /// Sender accounts, derived from --seed (the same seed reuses funded accounts).
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// Seed of the sender accounts' keys.
    #[arg(long, default_value = "loadtest")]
    seed: String,
    /// Transactions to send, spread evenly over the accounts.
    #[arg(long, default_value_t = 20_000)]
    txs: u64,
    /// sync: wait for each tx's CheckTx; async: hand txs to the mempool.
    #[arg(long, value_enum, default_value = "async")]
    mode: Mode,
    /// Txs per JSON-RPC batch request (CometBFT refuses batches above its
    /// `[rpc] max_request_batch_size`, 10 by default).
    #[arg(long, default_value_t = 10)]
    batch: usize,
    /// Batch requests in flight at once (each account's txs stay on one).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Gas limit of each tx.
    #[arg(long, default_value_t = 200_000)]
    gas: u64,
    /// Fee of each tx, e.g. 5000uaegis (default: 5000 of --denom).
    #[arg(long)]
    fees: Option<String>,
    /// Message in each tx: a bank send to the next account, or an Aegis restaking deposit.
    #[arg(long, value_enum, default_value = "send")]
    msg: MsgKind,
    /// What each message sends or deposits, in --denom.
    #[arg(long, default_value_t = 1)]
    amount: u128,
    /// Seconds to wait for the txs' blocks after the last is sent.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Also write the report as JSON to this file (whatever --output says).
    #[arg(long)]
    save: Option<std::path::PathBuf>,
}

impl LoadtestArgs {
    fn config(&self) -> Result<LoadConfig> {
        let fee = match &self.fees {
            None => 5000,
            Some(f) => {
                let (amount, denom) = parse_amount_denom(f)?;
                if denom != self.denom {
                    return Err(anyhow!("--fees {f}: pay fees in --denom {}", self.denom));
                }
                amount
            }
        };
        Ok(LoadConfig {
            // client.toml writes CometBFT's own form, tcp://host:port.
            rpc: match self.rpc.strip_prefix("tcp://") {
                Some(hostport) => format!("http://{hostport}"),
                None => self.rpc.clone(),
            },
            grpc: self.node.grpc.clone(),
            chain_id: self.chain_id.clone().filter(|c| !c.is_empty()),
            bech32_prefix: self.bech32_prefix.clone(),
            denom: self.denom.clone(),
            seed: self.seed.clone(),
            accounts: self.accounts,
            txs: self.txs,
            mode: self.mode,
            batch: self.batch,
            concurrency: self.concurrency,
            gas: self.gas,
            fee,
            amount: self.amount,
            msg: self.msg,
            timeout_secs: self.timeout,
        })
    }
}

pub async fn run(args: LoadtestArgs, home: &Path) -> Result<()> {
    let cfg = args.config()?;
    let funder = args.from.as_deref().map(|k| keys::Keyring::open(home).signer(k)).transpose()?;
    let progress = Arc::new(Progress::default());
    let ticker = tokio::spawn(show_progress(progress.clone(), cfg.txs));
    let r = loadtest::run(&cfg, funder.as_ref(), progress, &|line| eprintln!("loadtest: {line}")).await;
    ticker.abort();
    let r = r?;
    if let Some(path) = &args.save {
        std::fs::write(path, serde_json::to_string_pretty(&r)?).map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    }
    match output() {
        Output::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        Output::Text => print!("{}", r.text()),
    }
    Ok(())
}

/// Once a second on stderr: sent and committed so far, the height; on a
/// terminal one line rewritten in place.
async fn show_progress(p: Arc<Progress>, n: u64) {
    let (tty, t0) = (std::io::stderr().is_terminal(), Instant::now());
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        let (sent, committed, height) = (p.sent.load(Ordering::Relaxed), p.committed.load(Ordering::Relaxed), p.height.load(Ordering::Relaxed));
        if sent == 0 && committed == 0 {
            continue;
        }
        let line = format!("loadtest: {:.0}s sent {sent}/{n} committed {committed}/{n} height {height}", t0.elapsed().as_secs_f64());
        match tty {
            true => eprint!("\r{line}   "),
            false => eprintln!("{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        a: LoadtestArgs,
    }

    #[test]
    fn loadtest_defaults_are_the_standard_profile_and_fees_must_be_in_the_denom() {
        let c = Cmd::try_parse_from(["aegisd"]).unwrap().a.config().unwrap();
        assert_eq!((c.txs, c.accounts, c.batch, c.mode, c.msg, c.gas, c.fee, c.amount), (20_000, 100, 10, Mode::Async, MsgKind::Send, 200_000, 5000, 1));
        assert_eq!((c.rpc.as_str(), c.bech32_prefix.as_str(), c.denom.as_str()), ("http://127.0.0.1:26657", "aegis", "uaegis"));
        let c = Cmd::try_parse_from(["aegisd", "--rpc", "tcp://127.0.0.1:26667"]).unwrap().a.config().unwrap();
        assert_eq!(c.rpc, "http://127.0.0.1:26667");
        let c = Cmd::try_parse_from(["aegisd", "--denom", "uatom", "--bech32-prefix", "cosmos", "--fees", "7uatom", "--mode", "sync"]).unwrap().a.config().unwrap();
        assert_eq!((c.fee, c.mode), (7, Mode::Sync));
        let e = Cmd::try_parse_from(["aegisd", "--fees", "7uatom"]).unwrap().a.config().unwrap_err().to_string();
        assert_eq!(e, "--fees 7uatom: pay fees in --denom uaegis");
    }
}
