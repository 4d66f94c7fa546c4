//! Slashing commands: slashes by a set's slasher, vetoes, execution,
//! unjailing, and validator signing info.

use std::path::Path;

use aegis_app::signer::pack;
use aegis_node::{client, render};
use anyhow::{anyhow, Result};
use clap::Subcommand;

use super::common::{addr, all_pages, denoms, parse_wad_fraction, print_json, run_tx, NodeArgs, TxArgs};

#[derive(Subcommand)]
pub enum SlashingTx {
    /// As an operator set's slasher, slash a fraction of what OPERATOR allocated to the set (pending if the set has a veto committee).
    Slash {
        /// Operator address (aegis1...).
        operator: String,
        avs_id: u64,
        set_id: u32,
        /// Comma-separated strategy denoms to slash, e.g. uaegis,stuaegis.
        #[arg(long, value_delimiter = ',', required = true)]
        strategies: Vec<String>,
        /// Fraction of the allocation to slash, a decimal from 0 to 1 (not WAD; queries show it as WAD, 10^18 = 1), e.g. 0.5.
        #[arg(long)]
        fraction: String,
        /// Why the operator is slashed.
        #[arg(long)]
        description: String,
        /// Reference to the evidence; each is applied at most once per AVS.
        #[arg(long, value_name = "REF")]
        evidence: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// As a veto committee member, vote to cancel a pending slash.
    Veto {
        slash_id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Apply a pending slash whose veto window has passed (anyone may).
    Execute {
        slash_id: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Return the signer's jailed validator at the next epoch once its jail time has passed.
    Unjail {
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
pub enum SlashingQueryCmd {
    /// Liveness window, jail duration, slash fractions and the per-epoch slash cap.
    Params(NodeArgs),
    /// One pending slash (a resolved one answers NotFound saying what happened to it; see `slash`).
    PendingSlash {
        id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every pending slash.
    PendingSlashes(NodeArgs),
    /// One slash request by id, whatever happened to it: pending, vetoed (with its vetoes), executed (with what it took) or expired.
    Slash {
        id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Slash requests by id, optionally only those with a status, against an operator or requested by an AVS.
    Slashes {
        /// Only slashes with this status.
        #[arg(long, value_parser = ["pending", "vetoed", "executed", "expired"])]
        status: Option<String>,
        /// Only slashes against this operator (aegis1...).
        #[arg(long)]
        operator: Option<String>,
        /// Only slashes requested by this AVS.
        #[arg(long = "avs", value_name = "AVS_ID")]
        avs_id: Option<u64>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An operator's validator liveness and jail status.
    SigningInfo {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub async fn tx(cmd: SlashingTx, home: &Path) -> Result<()> {
    use aegis_app::slashing::msgs::{MSG_EXECUTE_SLASH_URL, MSG_SLASH_OPERATOR_URL, MSG_UNJAIL_URL, MSG_VETO_SLASH_URL};
    use aegis_proto::aegis::slashing::v1 as pb;
    match cmd {
        SlashingTx::Slash { operator, avs_id, set_id, strategies, fraction, description, evidence, tx } => {
            let operator = addr(&operator)?.to_string();
            let strategies = denoms(&strategies)?;
            let wad_to_slash = parse_wad_fraction(&fraction).map_err(|e| anyhow!("--fraction: {e}"))?.to_string();
            run_tx(&tx, home, |s| {
                vec![pack(
                    MSG_SLASH_OPERATOR_URL,
                    &pb::MsgSlashOperator {
                        slasher: s.address.to_string(),
                        operator,
                        avs_id,
                        operator_set_id: set_id,
                        strategies,
                        wad_to_slash,
                        description,
                        evidence_ref: evidence,
                    },
                )]
            })
            .await
        }
        SlashingTx::Veto { slash_id, tx } => run_tx(&tx, home, |s| vec![pack(MSG_VETO_SLASH_URL, &pb::MsgVetoSlash { member: s.address.to_string(), slash_id })]).await,
        SlashingTx::Execute { slash_id, tx } => {
            run_tx(&tx, home, |s| vec![pack(MSG_EXECUTE_SLASH_URL, &pb::MsgExecuteSlash { executor: s.address.to_string(), slash_id })]).await
        }
        SlashingTx::Unjail { tx } => run_tx(&tx, home, |s| vec![pack(MSG_UNJAIL_URL, &pb::MsgUnjail { operator: s.address.to_string() })]).await,
    }
}

pub async fn query(cmd: SlashingQueryCmd) -> Result<()> {
    use aegis_proto::aegis::slashing::v1 as pb;
    match cmd {
        SlashingQueryCmd::Params(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.slashing().params(pb::QueryParamsRequest {}).await?.into_inner();
            print_json(serde_json::json!({"params": r.params.as_ref().map(render::slashing_params)}));
        }
        SlashingQueryCmd::PendingSlash { id, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.slashing().pending_slash(pb::QueryPendingSlashRequest { slash_id: id }).await?.into_inner();
            print_json(serde_json::json!({"slash": r.slash.as_ref().map(render::pending_slash)}));
        }
        SlashingQueryCmd::PendingSlashes(node) => {
            let q = client::GrpcClient::connect(&node.grpc).await?.slashing();
            let all = all_pages(|pagination| {
                let mut q = q.clone();
                async move { q.pending_slashes(pb::QueryPendingSlashesRequest { pagination }).await.map(|r| r.into_inner()).map(|r| (r.slashes, r.pagination)) }
            })
            .await?;
            print_json(serde_json::json!({"slashes": all.iter().map(render::pending_slash).collect::<Vec<_>>()}));
        }
        SlashingQueryCmd::Slash { id, node } => {
            let r = client::GrpcClient::connect(&node.grpc).await?.slashing().slash(pb::QuerySlashRequest { slash_id: id }).await?.into_inner();
            print_json(serde_json::json!({"slash": r.slash.as_ref().map(render::slash)}));
        }
        SlashingQueryCmd::Slashes { status, operator, avs_id, node } => {
            let status = match status.as_deref() {
                None => pb::SlashStatus::Unspecified,
                Some("pending") => pb::SlashStatus::Pending,
                Some("vetoed") => pb::SlashStatus::Vetoed,
                Some("executed") => pb::SlashStatus::Executed,
                Some("expired") => pb::SlashStatus::Expired,
                Some(other) => return Err(anyhow!("--status {other}: use pending, vetoed, executed or expired")),
            } as i32;
            let operator = operator.as_deref().map(addr).transpose()?.map(|a| a.to_string()).unwrap_or_default();
            let avs_id = match avs_id {
                Some(0) => return Err(anyhow!("--avs 0: AVS ids start at 1")),
                Some(id) => id,
                None => 0,
            };
            let q = client::GrpcClient::connect(&node.grpc).await?.slashing();
            let all = all_pages(|pagination| {
                let mut q = q.clone();
                let operator = operator.clone();
                async move { q.slashes(pb::QuerySlashesRequest { status, operator, avs_id, pagination }).await.map(|r| r.into_inner()).map(|r| (r.slashes, r.pagination)) }
            })
            .await?;
            print_json(serde_json::json!({"slashes": all.iter().map(render::slash).collect::<Vec<_>>()}));
        }
        SlashingQueryCmd::SigningInfo { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.slashing().signing_info(pb::QuerySigningInfoRequest { operator }).await?.into_inner();
            print_json(serde_json::json!({"info": r.info.as_ref().map(render::signing_info)}));
        }
    }
    Ok(())
}
