//! aegisd's command line: the top-level commands, and one file per module
//! holding that module's `tx` and `query` subcommands and their handlers.
//! A new module adds its file, its `mod` line, a `TxCmd` and a `QueryCmd`
//! variant, and their arms in `run`. What the files share (node and tx
//! flags, signing and broadcasting, pagination, parsers) is in `common.rs`;
//! module files import only from there, never from each other.

mod auth;
mod avs;
mod bank;
mod common;
mod config;
mod consumer;
mod delegation;
mod ibc;
mod ibc_transfer;
mod keys;
mod loadtest;
mod node;
mod relayer;
mod restaking;
mod rewards;
mod provider;
mod slashing;
mod testnet;
mod tx;
mod txs;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use aegis_node::config::expand_home;
use aegis_node::keys::{set_default_backend, Backend};
use avs::{AvsQueryCmd, AvsTx};
use bank::{BankQueryCmd, BankTx};
use common::NodeArgs;
use config::ConfigArgs;
use consumer::{ConsumerCmd, ConsumerQueryCmd};
use delegation::{DelegationQueryCmd, DelegationTx};
use ibc::IbcQueryCmd;
use ibc_transfer::{IbcTransferQueryCmd, IbcTransferTx};
use keys::KeysCmd;
use relayer::RelayerCmd;
use restaking::{RestakingQueryCmd, RestakingTx};
use rewards::{RewardsQueryCmd, RewardsTx};
use provider::{ProviderQueryCmd, ProviderTx};
use slashing::{SlashingQueryCmd, SlashingTx};
use testnet::TestnetCmd;

#[derive(Parser)]
#[command(name = "aegisd", version, about = "Aegis: a restaking application chain (node and client)")]
pub struct Cli {
    /// Node home directory (config/, data/, keyring/).
    #[arg(long, global = true, env = "AEGIS_HOME", default_value = "~/.aegis")]
    home: PathBuf,
    /// Keyring backend: test (mnemonics in clear in <home>/keyring) or file
    /// (encrypted with a passphrase in <home>/keyring-file).
    #[arg(long, global = true, env = "AEGIS_KEYRING_BACKEND", default_value = "test", value_enum)]
    keyring_backend: Backend,
    /// Result format: json (default; for scripts) or text (readable: WAD
    /// fractions as decimals, shares with their token value, Unix times as dates).
    #[arg(long, global = true, env = "AEGIS_OUTPUT", value_enum, default_value_t = common::Output::Json)]
    output: common::Output,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a single-validator node home (CometBFT config, genesis, keys, app.toml).
    Init {
        #[arg(long, default_value = "aegis-local")]
        chain_id: String,
        /// Ports: REST API base+54, metrics +55, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
    },
    /// Run the ABCI and gRPC servers (start CometBFT next to it).
    Start,
    /// Generate local multi-validator networks.
    #[command(subcommand)]
    Testnet(TestnetCmd),
    /// Manage keys in <home>/keyring (or <home>/keyring-file with --keyring-backend file).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Print or change <home>/config/client.toml: the client's chain-id, node, grpc, keyring-backend and output.
    Config(ConfigArgs),
    /// Sign and broadcast transactions.
    #[command(subcommand)]
    Tx(TxCmd),
    /// Query chain state over gRPC.
    #[command(subcommand)]
    Query(QueryCmd),
    /// Show the node's chain id, height and sync status.
    Status(NodeArgs),
    /// Relay IBC packets between two chains.
    #[command(subcommand)]
    Relayer(RelayerCmd),
    /// Run a consumer chain's validator node: join a consumer in one command.
    #[command(subcommand)]
    Consumer(ConsumerCmd),
    /// Load a chain with pre-signed transfers and report committed tx/s from its blocks.
    Loadtest(loadtest::LoadtestArgs),
}

#[derive(Subcommand)]
enum TxCmd {
    /// Bank transfers.
    #[command(subcommand)]
    Bank(BankTx),
    /// Deposit into restaking strategies and withdraw through the escrow.
    #[command(subcommand)]
    Restaking(RestakingTx),
    /// Register and update operators; delegate, undelegate, redelegate.
    #[command(subcommand)]
    Delegation(DelegationTx),
    /// Claim rewards; pay AVS rewards to an operator set; set an operator's commission on an AVS.
    #[command(subcommand)]
    Rewards(RewardsTx),
    /// Register AVSs and operator sets; operators join sets and allocate stake to them.
    #[command(subcommand)]
    Avs(AvsTx),
    /// Slash an operator as a set's slasher; veto or execute pending slashes; unjail.
    #[command(subcommand)]
    Slashing(SlashingTx),
    /// Send tokens to another chain over an IBC transfer channel (ICS-20).
    #[command(subcommand)]
    IbcTransfer(IbcTransferTx),
    /// Consumer chains: register, update, remove (owner); opt in with a key and stake, opt out, assign keys (operator).
    #[command(subcommand)]
    Provider(ProviderTx),
    /// Sign a JSON tx (from --generate-only) with a keyring key; prints the signed JSON.
    Sign(tx::SignArgs),
    /// Broadcast a signed JSON tx.
    Broadcast(tx::BroadcastArgs),
    /// JSON tx file -> base64 TxRaw bytes.
    Encode {
        /// JSON tx file ("-" for standard input).
        file: PathBuf,
    },
    /// Base64 TxRaw bytes -> JSON tx.
    Decode {
        tx_bytes: String,
    },
}

#[derive(Subcommand)]
enum QueryCmd {
    /// Balances.
    #[command(subcommand)]
    Bank(BankQueryCmd),
    /// Strategies, deposits and queued withdrawals.
    #[command(subcommand)]
    Restaking(RestakingQueryCmd),
    /// Operators, delegations and the validator set.
    #[command(subcommand)]
    Delegation(DelegationQueryCmd),
    /// Rewards parameters, pending rewards, AVS reward submissions and commissions.
    #[command(subcommand)]
    Rewards(RewardsQueryCmd),
    /// AVSs, operator sets, allocations and the stake at risk.
    #[command(subcommand)]
    Avs(AvsQueryCmd),
    /// Pending slashes, validator signing info and slashing parameters.
    #[command(subcommand)]
    Slashing(SlashingQueryCmd),
    /// IBC light clients, connections, channels and packets.
    #[command(subcommand)]
    Ibc(IbcQueryCmd),
    /// ICS-20 denom traces and escrow accounts.
    #[command(subcommand)]
    IbcTransfer(IbcTransferQueryCmd),
    /// Consumer chains, their genesis and validator sets; an operator's opt-ins.
    #[command(subcommand)]
    Provider(ProviderQueryCmd),
    /// A consumer chain's CCV status (ask a node of the consumer chain).
    #[command(subcommand)]
    Consumer(ConsumerQueryCmd),
    /// A committed tx by hash: code, height, gas, events and messages.
    Tx {
        hash: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Committed txs matching events, e.g. --query "message.sender='aegis1...'".
    Txs(txs::TxsArgs),
    /// A block's header and tx hashes (the latest if no height is given).
    Block {
        height: Option<u64>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An account's number, sequence and public key.
    Account {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

impl Cli {
    /// Whether this command runs a long-lived server (whose logs must not
    /// end it when a pipe closes) rather than a client command.
    pub fn is_server(&self) -> bool {
        matches!(self.cmd, Cmd::Start | Cmd::Relayer(RelayerCmd::Start { .. }))
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    let home = expand_home(&cli.home);
    // Generated homes always get test keyrings (their mnemonics are printed
    // or written to endpoints.json anyway).
    set_default_backend(if matches!(cli.cmd, Cmd::Init { .. } | Cmd::Testnet(_)) { Backend::Test } else { cli.keyring_backend });
    common::set_output(cli.output);
    match cli.cmd {
        Cmd::Init { chain_id, base_port } => aegis_node::testnet::init(&home, &chain_id, base_port),
        Cmd::Start => aegis_node::start::start(&home).await,
        Cmd::Testnet(cmd) => testnet::run(cmd),
        Cmd::Keys(cmd) => keys::run(cmd, &home),
        Cmd::Config(args) => config::run(args, &home),
        Cmd::Tx(TxCmd::Bank(cmd)) => bank::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Restaking(cmd)) => restaking::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Delegation(cmd)) => delegation::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Rewards(cmd)) => rewards::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Avs(cmd)) => avs::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Slashing(cmd)) => slashing::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::IbcTransfer(cmd)) => ibc_transfer::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Provider(cmd)) => provider::tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Sign(a)) => tx::sign(a, &home).await,
        Cmd::Tx(TxCmd::Broadcast(a)) => tx::broadcast_file(a).await,
        Cmd::Tx(TxCmd::Encode { file }) => tx::encode(&file),
        Cmd::Tx(TxCmd::Decode { tx_bytes }) => tx::decode(&tx_bytes),
        Cmd::Query(QueryCmd::Tx { hash, node }) => txs::tx(hash, node).await,
        Cmd::Query(QueryCmd::Txs(a)) => txs::txs(a).await,
        Cmd::Query(QueryCmd::Block { height, node }) => txs::block(height, node).await,
        Cmd::Query(QueryCmd::Bank(cmd)) => bank::query(cmd).await,
        Cmd::Query(QueryCmd::Restaking(cmd)) => restaking::query(cmd).await,
        Cmd::Query(QueryCmd::Delegation(cmd)) => delegation::query(cmd).await,
        Cmd::Query(QueryCmd::Rewards(cmd)) => rewards::query(cmd).await,
        Cmd::Query(QueryCmd::Avs(cmd)) => avs::query(cmd).await,
        Cmd::Query(QueryCmd::Slashing(cmd)) => slashing::query(cmd).await,
        Cmd::Query(QueryCmd::Ibc(cmd)) => ibc::query(cmd).await,
        Cmd::Query(QueryCmd::IbcTransfer(cmd)) => ibc_transfer::query(cmd).await,
        Cmd::Query(QueryCmd::Provider(cmd)) => provider::query(cmd).await,
        Cmd::Query(QueryCmd::Consumer(cmd)) => consumer::query(cmd).await,
        Cmd::Query(QueryCmd::Account { address, node }) => auth::account(address, node).await,
        Cmd::Status(node) => node::status(node).await,
        Cmd::Relayer(cmd) => relayer::run(cmd).await,
        Cmd::Consumer(cmd) => consumer::run(cmd, &home).await,
        Cmd::Loadtest(args) => loadtest::run(args, &home).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn output_format_and_testnet_directory_are_separate_flags() {
        let cli = Cli::try_parse_from(["aegisd", "testnet", "generate", "--output-dir", "/tmp/net", "--output", "text"]).unwrap();
        assert_eq!(cli.output, common::Output::Text);
        match cli.cmd {
            Cmd::Testnet(testnet::TestnetCmd::Generate { output_dir, .. }) => assert_eq!(output_dir, PathBuf::from("/tmp/net")),
            _ => panic!("not testnet generate"),
        }
        let err = Cli::try_parse_from(["aegisd", "--output", "yaml", "keys", "list"]).err().unwrap().to_string();
        assert!(err.contains("invalid value 'yaml' for '--output <OUTPUT>'"), "{err}");
        assert_eq!(Cli::try_parse_from(["aegisd", "keys", "list"]).unwrap().output, common::Output::Json);
    }

    #[test]
    fn only_long_running_servers_keep_ignoring_broken_pipes() {
        let server = |args: &[&str]| Cli::try_parse_from(args).unwrap().is_server();
        assert!(server(&["aegisd", "start"]));
        assert!(server(&["aegisd", "relayer", "start", "--config", "r.toml"]));
        assert!(!server(&["aegisd", "relayer", "create-path", "--config", "r.toml"]));
        assert!(!server(&["aegisd", "keys", "list"]));
        assert!(!server(&["aegisd", "query", "restaking", "params"]));
    }
}
