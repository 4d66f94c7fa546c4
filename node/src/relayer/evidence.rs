//! Consumer double-signs, relayed as evidence. On a CCV path the relayer
//! reads the consumer's blocks for CometBFT's `DuplicateVoteEvidence` (a
//! consumer's own app cannot punish its validators: their stake is on the
//! provider) and submits each to the provider as ICS's
//! `MsgSubmitConsumerDoubleVoting`, with the infraction block's header as
//! ICS asks (Aegis checks the votes against its own key records and needs
//! only the header's chain id), as Hermes's `evidence` command does.
//!
//! Stateless like the rest of the relayer: on start it looks back
//! `evidence_lookback_blocks` consumer blocks, then follows new ones. The
//! provider refuses evidence against an operator it already tombstoned on
//! that consumer (`provider` code 19), so evidence submitted before a
//! restart, or by someone else, is simply recognised as judged.

use std::collections::BTreeSet;

use anyhow::{anyhow, Context, Result};
use ibc_proto::ibc::core::client::v1::Height;
use ibc_proto::ibc::lightclients::tendermint::v1::Header as RawTmHeader;
use ibc_proto::interchain_security::ccv::provider::v1::MsgSubmitConsumerDoubleVoting;
use sha2::{Digest, Sha256};
use tendermint_proto::types::{evidence::Sum, DuplicateVoteEvidence, Evidence};
use tendermint_rpc::{Client, HttpClient, Paging};
use tracing::{info, warn};

use super::chain::{AbciRefusal, Chain};
use aegis_app::provider::msgs::MSG_SUBMIT_CONSUMER_DOUBLE_VOTING_URL;
use aegis_app::signer::pack;

/// How the provider says an operator is already tombstoned on that
/// consumer: the evidence was judged before.
pub const ALREADY_JUDGED: (&str, u32) = ("provider", 19);

/// Headers fetched per `/blockchain` call (CometBFT's maximum).
const METAS_PER_CALL: u64 = 20;

/// Whether a header's evidence hash is that of a non-empty list (an empty
/// list hashes to sha256 of nothing).
fn has_evidence(h: &tendermint::block::Header) -> bool {
    let empty = Sha256::digest([]);
    h.evidence_hash.is_some_and(|e| e.as_bytes() != &empty[..])
}

/// The duplicate-vote evidence in block `height` (light-client-attack
/// evidence is not a consumer double-vote and is skipped).
pub async fn duplicate_votes_at(rpc: &HttpClient, height: u64) -> Result<Vec<DuplicateVoteEvidence>> {
    let b = rpc.block(tendermint::block::Height::try_from(height)?).await.with_context(|| format!("block {height}"))?;
    Ok(b.block
        .evidence
        .into_vec()
        .into_iter()
        .filter_map(|e| match e {
            tendermint::evidence::Evidence::DuplicateVote(d) => Some(DuplicateVoteEvidence::from(*d)),
            tendermint::evidence::Evidence::LightClientAttack(_) => None,
        })
        .collect())
}

/// Duplicate-vote evidence from CometBFT's JSON, as `/block` shows it: one
/// `{"type":"tendermint/DuplicateVoteEvidence","value":{...}}`, or a list.
pub fn parse_json(text: &str) -> Result<Vec<DuplicateVoteEvidence>> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let items = match v {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let e: Evidence = serde_json::from_value(item).with_context(|| format!("evidence {i} is not CometBFT evidence JSON"))?;
            match e.sum {
                Some(Sum::DuplicateVoteEvidence(d)) => Ok(d),
                _ => Err(anyhow!("evidence {i} is not a tendermint/DuplicateVoteEvidence")),
            }
        })
        .collect()
}

/// The header of the consumer's block `height` with the validator set that
/// signed it (its proposer set, as ICS's decoding wants), as an IBC
/// tendermint header: what ICS takes as the infraction block header.
pub async fn infraction_header(rpc: &HttpClient, revision: u64, height: u64) -> Result<RawTmHeader> {
    let h = tendermint::block::Height::try_from(height)?;
    let commit = rpc.commit(h).await.with_context(|| format!("commit at {height}"))?;
    let vals = rpc.validators(h, Paging::All).await.with_context(|| format!("validators at {height}"))?.validators;
    let proposer = commit.signed_header.header.proposer_address;
    let set = tendermint::validator::Set::with_proposer(vals, proposer).map_err(|e| anyhow!("validators at {height}: {e}"))?;
    let raw_set = tendermint_proto::types::ValidatorSet::from(set);
    Ok(RawTmHeader {
        signed_header: Some(commit.signed_header.into()),
        validator_set: Some(raw_set.clone()),
        trusted_height: Some(Height { revision_number: revision, revision_height: height.saturating_sub(1) }),
        trusted_validators: Some(raw_set),
    })
}

/// ICS's `MsgSubmitConsumerDoubleVoting`.
pub fn submit_msg(submitter: &str, consumer_id: u64, evidence: DuplicateVoteEvidence, header: Option<RawTmHeader>) -> cosmrs::Any {
    pack(
        MSG_SUBMIT_CONSUMER_DOUBLE_VOTING_URL,
        &MsgSubmitConsumerDoubleVoting {
            submitter: submitter.into(),
            duplicate_vote_evidence: Some(evidence),
            infraction_block_header: header,
            consumer_id: consumer_id.to_string(),
        },
    )
}

/// Height and CometBFT address (hex) of the votes: one infraction.
fn infraction(e: &DuplicateVoteEvidence) -> (i64, String) {
    let v = e.vote_a.as_ref();
    (v.map_or(0, |v| v.height), v.map_or_else(String::new, |v| hex::encode_upper(&v.validator_address)))
}

/// Follows the consumer's blocks and submits the evidence they carry.
pub struct Watcher {
    lookback: u64,
    /// The next consumer height to read (0 until the first poll).
    next: u64,
    /// Infractions submitted or found judged by this process.
    done: BTreeSet<(i64, String)>,
}

impl Watcher {
    pub fn new(lookback: u64) -> Self {
        Watcher { lookback, next: 0, done: BTreeSet::new() }
    }

    /// Read the consumer's blocks up to its latest and submit what
    /// evidence they hold. An error leaves the blocks not yet read for the
    /// next poll.
    pub async fn poll(&mut self, consumer: &Chain, provider: &mut Chain, consumer_id: u64) -> Result<()> {
        let latest = consumer.latest_height().await?;
        if self.next == 0 {
            self.next = latest.saturating_sub(self.lookback).max(1);
        }
        while self.next <= latest {
            let hi = (self.next + METAS_PER_CALL - 1).min(latest);
            let r = consumer.rpc.blockchain(tendermint::block::Height::try_from(self.next)?, tendermint::block::Height::try_from(hi)?).await?;
            let mut with_evidence: Vec<u64> = r.block_metas.iter().filter(|m| has_evidence(&m.header)).map(|m| m.header.height.value()).collect();
            with_evidence.sort_unstable();
            for h in with_evidence {
                for e in duplicate_votes_at(&consumer.rpc, h).await? {
                    self.submit(consumer, provider, consumer_id, h, e).await?;
                }
            }
            self.next = hi + 1;
        }
        Ok(())
    }

    async fn submit(&mut self, consumer: &Chain, provider: &mut Chain, consumer_id: u64, block: u64, e: DuplicateVoteEvidence) -> Result<()> {
        let (height, address) = infraction(&e);
        if !self.done.insert((height, address.clone())) {
            return Ok(());
        }
        let header = infraction_header(&consumer.rpc, consumer.revision, height.max(1) as u64).await?;
        let msg = submit_msg(&provider.signer.address.to_string(), consumer_id, e, Some(header));
        let outcome = match provider.send(vec![msg]).await {
            Ok(tx) if tx.tx_result.code.is_ok() => {
                info!(consumer = %consumer.id, %address, height, block, provider_height = %tx.height, "double vote submitted as evidence");
                metrics::counter!("aegis_relayer_evidence_submitted_total", "consumer" => consumer.id.clone()).increment(1);
                return Ok(());
            }
            Ok(tx) => (tx.tx_result.codespace, tx.tx_result.code.value(), tx.tx_result.log),
            Err(err) => match err.downcast_ref::<AbciRefusal>() {
                // The simulation's answer: the app refused the evidence.
                Some(r) => (r.codespace.clone(), r.code, r.log.clone()),
                None => {
                    // Not an answer about the evidence (the node is
                    // unreachable, say): try again next poll.
                    let context = format!("submitting the double vote of {address} at consumer height {height}");
                    self.done.remove(&(height, address));
                    return Err(err.context(context));
                }
            },
        };
        if (outcome.0.as_str(), outcome.1) == ALREADY_JUDGED {
            info!(consumer = %consumer.id, %address, height, block, "double vote already judged on the provider (operator tombstoned there)");
        } else {
            // A refusal is deterministic: submitting again would not change it.
            warn!(consumer = %consumer.id, %address, height, block, codespace = %outcome.0, code = outcome.1, log = %outcome.2, "the provider refused the evidence");
        }
        Ok(())
    }
}
