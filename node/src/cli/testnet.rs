//! Commands that generate local networks.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TestnetCmd {
    /// Write N validator homes, a shared genesis and endpoints.json.
    Generate {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Directory to write the network into (`--output` is the result format).
        #[arg(long, value_name = "DIR")]
        output_dir: PathBuf,
        #[arg(long, default_value = "aegis-devnet")]
        chain_id: String,
        /// Node i uses REST API base+54+10i, metrics +55, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Withdrawal escrow (and so unbonding period, and AVS deallocation delay), seconds.
        #[arg(long, default_value_t = aegis_node::testnet::DEVNET_WITHDRAWAL_DELAY_SECONDS)]
        withdrawal_delay_seconds: u64,
        /// Blocks per epoch (validator-set changes, consumer validator sets and reward rounds at epoch ends).
        #[arg(long, default_value_t = aegis_node::testnet::DEVNET_BLOCKS_PER_EPOCH, conflicts_with = "consumer")]
        blocks_per_epoch: u64,
        /// A consumer chain's nodes: homes, consensus keys (to opt in with) and a genesis
        /// template with a funded faucet and relayer; `set-consumer-genesis` completes it.
        #[arg(long, conflicts_with = "withdrawal_delay_seconds")]
        consumer: bool,
    },
    /// Complete a consumer network's genesis (every node in --output-dir) with the provider's
    /// consumer genesis (`aegisd query provider consumer-genesis` output) and its initial validators.
    SetConsumerGenesis {
        /// The consumer network's directory (`testnet generate --consumer --output-dir`).
        #[arg(long, value_name = "DIR")]
        output_dir: PathBuf,
        /// File holding the consumer genesis JSON; - reads stdin.
        #[arg(long)]
        ccv: PathBuf,
    },
}

pub fn run(cmd: TestnetCmd) -> Result<()> {
    match cmd {
        TestnetCmd::Generate { validators, output_dir: output, chain_id, base_port, consumer: true, .. } => {
            aegis_node::testnet::consumer::generate(validators, &output, &chain_id, base_port)
        }
        TestnetCmd::Generate { validators, output_dir: output, chain_id, base_port, withdrawal_delay_seconds, blocks_per_epoch, consumer: false } => {
            aegis_node::testnet::generate(validators, &output, &chain_id, base_port, withdrawal_delay_seconds, blocks_per_epoch)
        }
        TestnetCmd::SetConsumerGenesis { output_dir: output, ccv } => {
            let text = if ccv.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("reading the consumer genesis from stdin")?;
                s
            } else {
                std::fs::read_to_string(&ccv).with_context(|| format!("reading {}", ccv.display()))?
            };
            aegis_node::testnet::consumer::set_genesis(&output, &text)
        }
    }
}
