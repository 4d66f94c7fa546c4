//! Restaking commands: deposits into strategies, withdrawals through the
//! escrow, and the strategies' state.

use std::path::Path;

use aegis_app::signer::pack;
use aegis_node::{client, keys, render};
use anyhow::{bail, Result};
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

use super::common::{addr, parse_amount_denom, print_json, run_tx, submit, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum RestakingTx {
    /// Deposit tokens into the strategy of their denom, e.g. `deposit 1000000uaegis`; prints the shares minted
    /// (10^9 shares per token into an empty pool; fewer once the pool has earned or been slashed).
    Deposit {
        /// Tokens (base units, not shares): <amount><denom>, e.g. 1000000uaegis.
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Queue deposit shares (not tokens) for withdrawal (escrowed for the withdrawal delay); prints the withdrawal id.
    /// A deposit into an empty pool mints 10^9 shares per token; `query restaking deposits <address>` shows your
    /// shares and the tokens they are worth.
    QueueWithdrawal {
        /// Deposit SHARES (not tokens) per strategy, <shares><denom> each, e.g. 1000000000000000uaegis
        /// (10^9 shares per token at deposit: that is 1000000 tokens of a pool that never changed rate).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        shares: Vec<String>,
        /// Queue all deposit shares of every strategy the signer holds.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Complete a queued withdrawal once its delay has passed (tokens, or shares with --as-shares).
    CompleteWithdrawal {
        /// Withdrawal id (see `query restaking withdrawals`).
        id: u64,
        /// Receive deposit shares (delegated to the current operator) instead of tokens.
        #[arg(long)]
        as_shares: bool,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum RestakingQueryCmd {
    /// Withdrawal delay and the authority that may create strategies.
    Params(NodeArgs),
    /// Every strategy with its shares, TVL, exchange rate and cap.
    Strategies(NodeArgs),
    /// One strategy, by denom.
    Strategy {
        denom: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A staker's deposit shares and withdrawable tokens in every strategy, and its operator.
    Deposits {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A staker's queued withdrawals.
    Withdrawals {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn tx(cmd: RestakingTx, home: &Path) -> Result<()> {
    use aegis_app::restaking::msgs::{MSG_COMPLETE_WITHDRAWAL_URL, MSG_DEPOSIT_URL, MSG_QUEUE_WITHDRAWAL_URL};
    use aegis_proto::aegis::restaking::v1 as pb;
    match cmd {
        RestakingTx::Deposit { amount, tx } => {
            let (amount, denom) = parse_amount_denom(&amount)?;
            run_tx(&tx, home, |s| {
                vec![pack(MSG_DEPOSIT_URL, &pb::MsgDeposit { staker: s.address.to_string(), amount: Some(ProtoCoin { denom, amount: amount.to_string() }) })]
            })
            .await
        }
        RestakingTx::QueueWithdrawal { shares, all, tx } => {
            let signer = keys::Keyring::open(home).signer(&tx.from)?;
            let c = client::GrpcClient::connect(&tx.node.grpc).await?;
            let withdrawals: Vec<pb::WithdrawalRequest> = if all {
                let r = c.restaking().staker_deposits(pb::QueryStakerDepositsRequest { staker: signer.address.to_string() }).await?.into_inner();
                r.deposits.into_iter().filter(|d| d.deposit_shares != "0").map(|d| pb::WithdrawalRequest { denom: d.denom, shares: d.deposit_shares }).collect()
            } else {
                shares.iter().map(|s| parse_amount_denom(s).map(|(n, denom)| pb::WithdrawalRequest { denom, shares: n.to_string() })).collect::<Result<_>>()?
            };
            if withdrawals.is_empty() {
                bail!("{} holds no deposit shares", signer.address);
            }
            let msg = pack(MSG_QUEUE_WITHDRAWAL_URL, &pb::MsgQueueWithdrawal { staker: signer.address.to_string(), withdrawals });
            submit(&tx, &c, &signer, vec![msg]).await
        }
        RestakingTx::CompleteWithdrawal { id, as_shares, tx } => {
            run_tx(&tx, home, |s| {
                vec![pack(
                    MSG_COMPLETE_WITHDRAWAL_URL,
                    &pb::MsgCompleteWithdrawal { staker: s.address.to_string(), withdrawal_id: id, receive_as_tokens: !as_shares },
                )]
            })
            .await
        }
    }
}

pub async fn query(cmd: RestakingQueryCmd) -> Result<()> {
    use aegis_proto::aegis::restaking::v1 as pb;
    use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
    match cmd {
        RestakingQueryCmd::Params(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.restaking().params(pb::QueryParamsRequest {}).await?.into_inner();
            print_json(serde_json::json!({"params": r.params.as_ref().map(render::restaking_params)}));
        }
        RestakingQueryCmd::Strategies(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.restaking().strategies(pb::QueryStrategiesRequest {}).await?.into_inner();
            print_json(serde_json::json!({"strategies": r.strategies.iter().map(render::strategy).collect::<Vec<_>>()}));
        }
        RestakingQueryCmd::Strategy { denom, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.restaking().strategy(pb::QueryStrategyRequest { denom }).await?.into_inner();
            print_json(serde_json::json!({"strategy": r.strategy.as_ref().map(render::strategy)}));
        }
        RestakingQueryCmd::Deposits { address, node } => {
            let staker = addr(&address)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.restaking().staker_deposits(pb::QueryStakerDepositsRequest { staker }).await?.into_inner();
            print_json(render::staker_deposits(&r));
        }
        RestakingQueryCmd::Withdrawals { address, node } => {
            let staker = addr(&address)?.to_string();
            let mut q = client::GrpcClient::connect(&node.grpc).await?.restaking();
            let mut all = vec![];
            let mut key = vec![];
            loop {
                let page = PageRequest { key: key.clone(), limit: 100, ..Default::default() };
                let r = q.queued_withdrawals(pb::QueryQueuedWithdrawalsRequest { staker: staker.clone(), pagination: Some(page) }).await?.into_inner();
                all.extend(r.withdrawals.iter().map(render::withdrawal));
                key = r.pagination.map(|p| p.next_key).unwrap_or_default();
                if key.is_empty() {
                    break;
                }
            }
            print_json(serde_json::json!({"withdrawals": all}));
        }
    }
    Ok(())
}
