//! AVS commands: AVSs, operator sets, registration, allocations, and the
//! stake at risk.

use std::path::Path;

use aegis_app::signer::pack;
use aegis_node::{client, render};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;

use super::common::{addr, addrs, all_pages, denoms, parse_wad_fraction, print_json, run_tx, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum AvsTx {
    /// Register an AVS owned by the signer; prints its id.
    Register {
        /// URI of the AVS's off-chain metadata document.
        #[arg(long)]
        metadata_uri: String,
        /// Account that receives slashed tokens (default: they are burned).
        #[arg(long, value_name = "ADDR")]
        redistribution_recipient: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Change an AVS's metadata URI, redistribution recipient or owner (the signer must own it).
    Update {
        avs_id: u64,
        #[arg(long)]
        metadata_uri: Option<String>,
        /// New recipient of slashed tokens; "" burns them from now on.
        #[arg(long, value_name = "ADDR")]
        redistribution_recipient: Option<String>,
        /// Hand the AVS to another account.
        #[arg(long, value_name = "ADDR")]
        new_owner: Option<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Create operator set SET_ID of an AVS the signer owns.
    CreateOperatorSet {
        avs_id: u64,
        set_id: u32,
        /// Comma-separated denoms of the strategies whose stake the set accepts, e.g. uaegis,stuaegis.
        #[arg(long, value_delimiter = ',', required = true)]
        strategies: Vec<String>,
        /// The only account allowed to slash the set's operators.
        #[arg(long, value_name = "ADDR")]
        slasher: String,
        /// Comma-separated addresses that can veto slashes; slashes then wait --veto-window.
        #[arg(long, value_delimiter = ',', value_name = "ADDRS", requires_all = ["veto_threshold", "veto_window"])]
        veto_committee: Vec<String>,
        /// Distinct committee vetoes that cancel a slash.
        #[arg(long, value_name = "N", requires = "veto_committee")]
        veto_threshold: Option<u32>,
        /// How long a slash waits for vetoes, in seconds.
        #[arg(long, value_name = "SECONDS", requires = "veto_committee")]
        veto_window: Option<u64>,
        /// Comma-separated operators that may register (default: any operator).
        #[arg(long, value_delimiter = ',', value_name = "ADDRS")]
        allowlist: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Register the signer (an operator) for an operator set.
    RegisterOperator {
        avs_id: u64,
        set_id: u32,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Deregister the signer from an operator set (it stays slashable for the deallocation delay).
    DeregisterOperator {
        avs_id: u64,
        set_id: u32,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set the signer's allocations: the fraction of its stake in a strategy each set may slash.
    Allocate {
        /// AVS_ID/SET_ID/STRATEGY=MAGNITUDE, the magnitude a decimal fraction of the operator's stake from 0 to 1
        /// (not WAD; queries show it as WAD, 10^18 = 1), e.g. 1/1/uaegis=0.5 (repeatable).
        /// Increases count after the allocation delay; decreases stay slashable for the deallocation delay.
        #[arg(long = "allocation", value_name = "AVS_ID/SET_ID/STRATEGY=MAGNITUDE", required = true)]
        allocations: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set how long the signer's allocation increases wait before they count (applies after the configuration delay).
    SetAllocationDelay {
        /// Delay in seconds of block time.
        seconds: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum AvsQueryCmd {
    /// Allocation delays and the most strategies per operator set.
    Params(NodeArgs),
    /// One AVS: owner, metadata URI, redistribution recipient, number of sets.
    Avs {
        id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every AVS.
    Avss(NodeArgs),
    /// One operator set: strategies, slasher, veto committee, allowlist, members.
    OperatorSet {
        avs_id: u64,
        set_id: u32,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The operators registered for a set.
    Members {
        avs_id: u64,
        set_id: u32,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An operator's allocations (WAD magnitudes, pending changes) and its allocation delay.
    Allocations {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An operator's stake, allocations, pending slashes and worst-case loss per strategy.
    OperatorRisk {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// A staker's tokens at risk to each AVS through its operator.
    StakerExposure {
        staker: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn tx(cmd: AvsTx, home: &Path) -> Result<()> {
    use aegis_app::avs::msgs::{
        MSG_CREATE_OPERATOR_SET_URL, MSG_DEREGISTER_FROM_OPERATOR_SET_URL, MSG_MODIFY_ALLOCATIONS_URL, MSG_REGISTER_AVS_URL, MSG_REGISTER_FOR_OPERATOR_SET_URL,
        MSG_SET_ALLOCATION_DELAY_URL, MSG_UPDATE_AVS_URL,
    };
    use aegis_proto::aegis::avs::v1 as pb;
    match cmd {
        AvsTx::Register { metadata_uri, redistribution_recipient, tx } => {
            let redistribution_recipient = redistribution_recipient.as_deref().map(addr).transpose()?.map(|a| a.to_string()).unwrap_or_default();
            run_tx(&tx, home, |s| vec![pack(MSG_REGISTER_AVS_URL, &pb::MsgRegisterAvs { owner: s.address.to_string(), metadata_uri, redistribution_recipient })])
                .await
        }
        AvsTx::Update { avs_id, metadata_uri, redistribution_recipient, new_owner, tx } => {
            if metadata_uri.is_none() && redistribution_recipient.is_none() && new_owner.is_none() {
                bail!("nothing to update: give --metadata-uri, --redistribution-recipient or --new-owner");
            }
            let redistribution_recipient = match redistribution_recipient.as_deref() {
                Some("") => Some(String::new()),
                Some(a) => Some(addr(a)?.to_string()),
                None => None,
            };
            let new_owner = new_owner.as_deref().map(addr).transpose()?.map(|a| a.to_string());
            run_tx(&tx, home, |s| {
                vec![pack(MSG_UPDATE_AVS_URL, &pb::MsgUpdateAvs { owner: s.address.to_string(), avs_id, metadata_uri, redistribution_recipient, new_owner })]
            })
            .await
        }
        AvsTx::CreateOperatorSet { avs_id, set_id, strategies, slasher, veto_committee, veto_threshold, veto_window, allowlist, tx } => {
            let msg = |owner: String| -> Result<pb::MsgCreateOperatorSet> {
                Ok(pb::MsgCreateOperatorSet {
                    owner,
                    avs_id,
                    operator_set_id: set_id,
                    strategies: denoms(&strategies)?,
                    slasher: addr(&slasher)?.to_string(),
                    veto_committee: addrs(&veto_committee)?,
                    veto_threshold: veto_threshold.unwrap_or(0),
                    veto_window_seconds: veto_window.unwrap_or(0),
                    allowlist: addrs(&allowlist)?,
                })
            };
            // Checked before the keyring is opened: a typo fails fast.
            msg(String::new())?;
            run_tx(&tx, home, |s| vec![pack(MSG_CREATE_OPERATOR_SET_URL, &msg(s.address.to_string()).expect("checked above"))]).await
        }
        AvsTx::RegisterOperator { avs_id, set_id, tx } => {
            run_tx(&tx, home, |s| {
                vec![pack(MSG_REGISTER_FOR_OPERATOR_SET_URL, &pb::MsgRegisterForOperatorSet { operator: s.address.to_string(), avs_id, operator_set_id: set_id })]
            })
            .await
        }
        AvsTx::DeregisterOperator { avs_id, set_id, tx } => {
            run_tx(&tx, home, |s| {
                vec![pack(
                    MSG_DEREGISTER_FROM_OPERATOR_SET_URL,
                    &pb::MsgDeregisterFromOperatorSet { operator: s.address.to_string(), avs_id, operator_set_id: set_id },
                )]
            })
            .await
        }
        AvsTx::Allocate { allocations, tx } => {
            let allocations = allocations.iter().map(|a| parse_allocation(a)).collect::<Result<Vec<_>>>()?;
            run_tx(&tx, home, |s| vec![pack(MSG_MODIFY_ALLOCATIONS_URL, &pb::MsgModifyAllocations { operator: s.address.to_string(), allocations })]).await
        }
        AvsTx::SetAllocationDelay { seconds, tx } => {
            run_tx(&tx, home, |s| vec![pack(MSG_SET_ALLOCATION_DELAY_URL, &pb::MsgSetAllocationDelay { operator: s.address.to_string(), delay_seconds: seconds })])
                .await
        }
    }
}

pub async fn query(cmd: AvsQueryCmd) -> Result<()> {
    use aegis_proto::aegis::avs::v1 as pb;
    match cmd {
        AvsQueryCmd::Params(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.avs().params(pb::QueryParamsRequest {}).await?.into_inner();
            print_json(serde_json::json!({"params": r.params.as_ref().map(render::avs_params)}));
        }
        AvsQueryCmd::Avs { id, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.avs().avs(pb::QueryAvsRequest { avs_id: id }).await?.into_inner();
            print_json(serde_json::json!({"avs": r.avs.as_ref().map(render::avs)}));
        }
        AvsQueryCmd::Avss(node) => {
            let q = client::GrpcClient::connect(&node.grpc).await?.avs();
            let all = all_pages(|pagination| {
                let mut q = q.clone();
                async move { q.avss(pb::QueryAvssRequest { pagination }).await.map(|r| r.into_inner()).map(|r| (r.avss, r.pagination)) }
            })
            .await?;
            print_json(serde_json::json!({"avss": all.iter().map(render::avs).collect::<Vec<_>>()}));
        }
        AvsQueryCmd::OperatorSet { avs_id, set_id, node } => {
            let r = client::GrpcClient::connect(&node.grpc)
                .await?
                .avs()
                .operator_set(pb::QueryOperatorSetRequest { avs_id, operator_set_id: set_id })
                .await?
                .into_inner();
            print_json(serde_json::json!({"operator_set": r.operator_set.as_ref().map(render::operator_set)}));
        }
        AvsQueryCmd::Members { avs_id, set_id, node } => {
            let q = client::GrpcClient::connect(&node.grpc).await?.avs();
            let operators = all_pages(|pagination| {
                let mut q = q.clone();
                async move {
                    let r = q.operator_set_members(pb::QueryOperatorSetMembersRequest { avs_id, operator_set_id: set_id, pagination }).await?.into_inner();
                    Ok((r.operators, r.pagination))
                }
            })
            .await?;
            print_json(serde_json::json!({"avs_id": avs_id.to_string(), "operator_set_id": set_id, "operators": operators}));
        }
        AvsQueryCmd::Allocations { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.avs().allocations(pb::QueryAllocationsRequest { operator: operator.clone() }).await?.into_inner();
            print_json(render::allocations(&operator, &r));
        }
        AvsQueryCmd::OperatorRisk { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.avs().operator_risk(pb::QueryOperatorRiskRequest { operator }).await?.into_inner();
            print_json(render::operator_risk(&r));
        }
        AvsQueryCmd::StakerExposure { staker, node } => {
            let staker = addr(&staker)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.avs().staker_exposure(pb::QueryStakerExposureRequest { staker: staker.clone() }).await?.into_inner();
            print_json(render::staker_exposure(&staker, &r));
        }
    }
    Ok(())
}

/// `AVS_ID/SET_ID/STRATEGY=MAGNITUDE`, e.g. `1/1/uaegis=0.5`.
fn parse_allocation(s: &str) -> Result<aegis_proto::aegis::avs::v1::AllocateParams> {
    let usage = || anyhow!("allocation {s:?}: write AVS_ID/SET_ID/STRATEGY=MAGNITUDE, e.g. 1/1/uaegis=0.5");
    let (target, magnitude) = s.split_once('=').ok_or_else(usage)?;
    let [avs_id, set_id, strategy] = target.split('/').collect::<Vec<_>>()[..] else {
        return Err(usage());
    };
    let avs_id = avs_id.parse().map_err(|_| usage())?;
    let operator_set_id = set_id.parse().map_err(|_| usage())?;
    aegis_app::types::validate_denom(strategy).map_err(|e| anyhow!("allocation {s:?}: {e}"))?;
    let magnitude = parse_wad_fraction(magnitude).map_err(|e| anyhow!("allocation {s:?}: {e}"))?;
    Ok(aegis_proto::aegis::avs::v1::AllocateParams { avs_id, operator_set_id, strategy: strategy.to_string(), magnitude: magnitude.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_spec_names_the_set_strategy_and_wad_magnitude() {
        let a = parse_allocation("1/2/stuaegis=0.5").unwrap();
        assert_eq!((a.avs_id, a.operator_set_id, a.strategy.as_str(), a.magnitude.as_str()), (1, 2, "stuaegis", "500000000000000000"));
        for bad in ["1/2/uaegis", "1/uaegis=0.5", "1/2/3/uaegis=0.5", "x/2/uaegis=0.5", "1/-2/uaegis=0.5", "1/2/=0.5"] {
            assert!(parse_allocation(bad).is_err(), "{bad}");
        }
        let err = parse_allocation("1/1/uaegis=1.5").unwrap_err().to_string();
        assert!(err.contains("1/1/uaegis=1.5") && err.contains("above 1"), "{err}");
    }
}
