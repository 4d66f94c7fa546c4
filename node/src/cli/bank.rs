//! Bank commands: transfers and balances.

use std::path::Path;

use aegis_app::types::{Address, Coins};
use aegis_node::client;
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

use super::common::{print_json, run_tx, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum BankTx {
    /// Send coins, e.g. `aegisd tx bank send --from faucet aegis1... 1000uaegis`.
    Send {
        to: String,
        /// Comma-separated coins in base units (tokens, not shares), e.g. 1000uaegis,5ustake.
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum BankQueryCmd {
    /// Balances of an address (all denoms, or one with --denom).
    Balances {
        address: String,
        #[arg(long)]
        denom: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn tx(cmd: BankTx, home: &Path) -> Result<()> {
    match cmd {
        BankTx::Send { to, amount, tx } => {
            let to = Address::parse(&to).map_err(|e| anyhow!("{e}"))?;
            let coins = parse_coins(&amount)?;
            if coins.is_empty() {
                bail!("nothing to send");
            }
            let coins: Vec<_> = coins.iter().cloned().collect();
            run_tx(&tx, home, |s| vec![s.msg_send(&to, &coins)]).await
        }
    }
}

pub async fn query(cmd: BankQueryCmd) -> Result<()> {
    match cmd {
        BankQueryCmd::Balances { address, denom, node } => {
            let addr = Address::parse(&address).map_err(|e| anyhow!("{e}"))?;
            let c = client::GrpcClient::connect(&node.grpc).await?;
            match denom {
                Some(d) => print_json(serde_json::json!({"denom": d, "amount": c.balance(&addr, &d).await?.to_string()})),
                None => {
                    let coins: Vec<_> = c.all_balances(&addr).await?.iter().map(|c| serde_json::json!({"denom": c.denom, "amount": c.amount.to_string()})).collect();
                    print_json(serde_json::json!({"balances": coins}));
                }
            }
            Ok(())
        }
    }
}

fn parse_coins(s: &str) -> Result<Coins> {
    let mut protos = vec![];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| anyhow!("coin {part:?} has no denom"))?;
        protos.push(ProtoCoin { denom: part[split..].to_string(), amount: part[..split].to_string() });
    }
    protos.sort_by(|a, b| a.denom.cmp(&b.denom));
    Coins::from_proto(&protos).map_err(|e| anyhow!("{e}"))
}
