//! Commands that generate local networks.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TestnetCmd {
    /// Write N validator homes, a shared genesis and endpoints.json.
    Generate {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        #[arg(long)]
        output: PathBuf,
        #[arg(long, default_value = "aegis-devnet")]
        chain_id: String,
        /// Node i uses metrics base+55+10i, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Withdrawal escrow (and so unbonding period, and AVS deallocation delay), seconds.
        #[arg(long, default_value_t = aegis_node::testnet::DEVNET_WITHDRAWAL_DELAY_SECONDS)]
        withdrawal_delay_seconds: u64,
    },
}

pub fn run(cmd: TestnetCmd) -> Result<()> {
    match cmd {
        TestnetCmd::Generate { validators, output, chain_id, base_port, withdrawal_delay_seconds } => {
            aegis_node::testnet::generate(validators, &output, &chain_id, base_port, withdrawal_delay_seconds)
        }
    }
}
