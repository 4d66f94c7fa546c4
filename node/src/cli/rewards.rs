//! Rewards commands: claims, AVS reward submissions and per-AVS commission.

use std::path::Path;

use aegis_app::signer::pack;
use aegis_node::{client, render};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

use super::common::{addr, all_pages, parse_amount_denom, print_json, run_tx, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum RewardsTx {
    /// Claim the signer's staker rewards and, for an operator, its commission.
    Claim {
        #[command(flatten)]
        tx: TxArgs,
    },
    /// As the AVS's owner, escrow AMOUNT for an operator set, paid out over EPOCHS epoch ends; prints the submission id.
    SubmitAvsRewards {
        avs_id: u64,
        /// Operator set id within the AVS.
        set_id: u32,
        /// Tokens (base units) paid out over all the epochs: <amount><denom>, e.g. 1000000uaegis.
        amount: String,
        /// Number of epoch ends the amount is spread over.
        epochs: u64,
        /// Strategy whose allocations earn, with its weight: DENOM=MULTIPLIER, a whole number, e.g. uaegis=2 (repeatable; none = every strategy of the set at 1).
        #[arg(long = "strategy", value_name = "DENOM=MULTIPLIER")]
        strategies: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set the signer's (an operator's) commission on one AVS's rewards, in basis points (10000 = 100%).
    SetAvsCommission {
        avs_id: u64,
        /// Commission in basis points (10000 = 100%), e.g. 500 for 5%.
        bps: u32,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum RewardsQueryCmd {
    /// Inflation rate and blocks per year.
    Params(NodeArgs),
    /// Staker rewards and operator commission an address could claim now.
    Pending {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// AVS reward submissions still paying out.
    Submissions(NodeArgs),
    /// An operator's commission on one AVS's rewards, basis points.
    AvsCommission {
        operator: String,
        avs_id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn tx(cmd: RewardsTx, home: &Path) -> Result<()> {
    use aegis_app::rewards::msgs::{MSG_CLAIM_REWARDS_URL, MSG_SET_AVS_COMMISSION_URL, MSG_SUBMIT_AVS_REWARDS_URL};
    use aegis_proto::aegis::rewards::v1 as pb;
    match cmd {
        RewardsTx::Claim { tx } => run_tx(&tx, home, |s| vec![pack(MSG_CLAIM_REWARDS_URL, &pb::MsgClaimRewards { claimer: s.address.to_string() })]).await,
        RewardsTx::SubmitAvsRewards { avs_id, set_id, amount, epochs, strategies, tx } => {
            let (amount, denom) = parse_amount_denom(&amount)?;
            let strategies = strategies.iter().map(|m| parse_strategy_multiplier(m)).collect::<Result<Vec<_>>>()?;
            run_tx(&tx, home, |s| {
                vec![pack(
                    MSG_SUBMIT_AVS_REWARDS_URL,
                    &pb::MsgSubmitAvsRewards {
                        owner: s.address.to_string(),
                        avs_id,
                        operator_set_id: set_id,
                        amount: Some(ProtoCoin { denom, amount: amount.to_string() }),
                        epochs,
                        strategies,
                    },
                )]
            })
            .await
        }
        RewardsTx::SetAvsCommission { avs_id, bps, tx } => {
            run_tx(&tx, home, |s| {
                vec![pack(MSG_SET_AVS_COMMISSION_URL, &pb::MsgSetAvsCommission { operator: s.address.to_string(), avs_id, commission_bps: bps })]
            })
            .await
        }
    }
}

pub async fn query(cmd: RewardsQueryCmd) -> Result<()> {
    use aegis_proto::aegis::rewards::v1 as pb;
    match cmd {
        RewardsQueryCmd::Params(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.rewards().params(pb::QueryParamsRequest {}).await?.into_inner();
            print_json(serde_json::json!({"params": r.params.as_ref().map(render::rewards_params)}));
        }
        RewardsQueryCmd::Pending { address, node } => {
            let address = addr(&address)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.rewards().pending_rewards(pb::QueryPendingRewardsRequest { address }).await?.into_inner();
            print_json(render::pending_rewards(&r));
        }
        RewardsQueryCmd::Submissions(node) => {
            let q = client::GrpcClient::connect(&node.grpc).await?.rewards();
            let all = all_pages(|pagination| {
                let mut q = q.clone();
                async move {
                    let r = q.avs_reward_submissions(pb::QueryAvsRewardSubmissionsRequest { pagination }).await?.into_inner();
                    Ok((r.submissions, r.pagination))
                }
            })
            .await?;
            print_json(serde_json::json!({"submissions": all.iter().map(render::avs_reward_submission).collect::<Vec<_>>()}));
        }
        RewardsQueryCmd::AvsCommission { operator, avs_id, node } => {
            let operator = addr(&operator)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc)
                .await?
                .rewards()
                .avs_commission(pb::QueryAvsCommissionRequest { operator: operator.clone(), avs_id })
                .await?
                .into_inner();
            print_json(serde_json::json!({"operator": operator, "avs_id": avs_id.to_string(), "commission_bps": r.commission_bps}));
        }
    }
    Ok(())
}

/// `DENOM=MULTIPLIER`, e.g. `uaegis=2`.
fn parse_strategy_multiplier(s: &str) -> Result<aegis_proto::aegis::rewards::v1::StrategyMultiplier> {
    let usage = || anyhow!("strategy {s:?}: write DENOM=MULTIPLIER with a whole multiplier, e.g. uaegis=2");
    let (denom, multiplier) = s.split_once('=').ok_or_else(usage)?;
    aegis_app::types::validate_denom(denom).map_err(|e| anyhow!("strategy {s:?}: {e}"))?;
    let multiplier = multiplier.parse().map_err(|_| usage())?;
    Ok(aegis_proto::aegis::rewards::v1::StrategyMultiplier { strategy: denom.to_string(), multiplier })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_multiplier_is_a_denom_and_a_whole_weight() {
        let m = parse_strategy_multiplier("uaegis=2").unwrap();
        assert_eq!((m.strategy.as_str(), m.multiplier), ("uaegis", 2));
        for bad in ["uaegis", "uaegis=1.5", "=2", "uaegis=-1"] {
            assert!(parse_strategy_multiplier(bad).is_err(), "{bad}");
        }
    }
}
