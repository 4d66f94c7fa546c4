//! Transactions as files, for offline and air-gapped signing: `tx sign`,
//! `tx broadcast`, `tx encode`, `tx decode`. The file format is the Cosmos
//! SDK's JSON `Tx`, as `--generate-only` prints it.

use std::path::{Path, PathBuf};

use aegis_node::{client, keys, txdoc};
use anyhow::{anyhow, Context, Result};
use base64::Engine;
use clap::Args;

use super::common::{broadcast, print_json, signing_account, BroadcastModeArg, NodeArgs, SigningFlags};

#[derive(Args)]
pub struct SignArgs {
    /// JSON tx file ("-" for standard input), e.g. from --generate-only.
    pub file: PathBuf,
    #[command(flatten)]
    pub node: NodeArgs,
    /// Name of the signing key in the keyring.
    #[arg(long)]
    pub from: String,
    /// Chain id to sign for; checked against the node's (required with --offline).
    #[arg(long, env = "AEGIS_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Use no network: needs --chain-id, --account-number and --sequence.
    #[arg(long)]
    pub offline: bool,
    #[arg(long)]
    pub account_number: Option<u64>,
    #[arg(long)]
    pub sequence: Option<u64>,
}

#[derive(Args)]
pub struct BroadcastArgs {
    /// Signed JSON tx file ("-" for standard input), e.g. from `tx sign`.
    pub file: PathBuf,
    #[command(flatten)]
    pub node: NodeArgs,
    /// sync: wait for CheckTx (and, unless --no-wait, the block); async: return the hash at once.
    #[arg(long, value_enum, default_value = "sync")]
    pub broadcast_mode: BroadcastModeArg,
    /// Return after CheckTx instead of waiting for the block.
    #[arg(long)]
    pub no_wait: bool,
}

fn read_tx(file: &Path) -> Result<cosmos_sdk_proto::cosmos::tx::v1beta1::Tx> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading the tx from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    txdoc::from_json(&text).with_context(|| format!("{}", file.display()))
}

/// Sign a JSON tx with a keyring key; prints the signed tx as JSON.
pub async fn sign(a: SignArgs, home: &Path) -> Result<()> {
    let tx = read_tx(&a.file)?;
    let signer = keys::Keyring::open(home).signer(&a.from)?;
    let c = match a.offline {
        true => None,
        false => Some(client::GrpcClient::connect(&a.node.grpc).await?),
    };
    let flags = SigningFlags { chain_id: &a.chain_id, account_number: a.account_number, sequence: a.sequence, grpc: &a.node.grpc };
    let (chain_id, number, sequence) = signing_account(&flags, c.as_ref(), &signer.address).await?;
    print_json(txdoc::to_json(&txdoc::sign(tx, &signer, &chain_id, number, sequence)?)?);
    Ok(())
}

/// Broadcast a signed JSON tx.
pub async fn broadcast_file(a: BroadcastArgs) -> Result<()> {
    let tx = read_tx(&a.file)?;
    if tx.signatures.is_empty() {
        anyhow::bail!("{} carries no signature: sign it first with `aegisd tx sign`", a.file.display());
    }
    let c = client::GrpcClient::connect(&a.node.grpc).await?;
    broadcast(&c, txdoc::raw(&tx), a.broadcast_mode, !a.no_wait).await
}

/// JSON tx file -> base64 `TxRaw` bytes.
pub fn encode(file: &Path) -> Result<()> {
    let tx = read_tx(file)?;
    print_json(serde_json::json!({"tx_bytes": base64::engine::general_purpose::STANDARD.encode(txdoc::raw(&tx))}));
    Ok(())
}

/// Base64 `TxRaw` bytes -> JSON tx.
pub fn decode(b64: &str) -> Result<()> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|e| anyhow!("{b64:?} is not base64: {e}"))?;
    print_json(txdoc::to_json(&txdoc::from_raw(&bytes)?)?);
    Ok(())
}
