//! Real CometBFT headers for an in-process test chain: each block gets a
//! header carrying the chain's actual app hash and time, signed (ed25519,
//! CometBFT's canonical vote bytes) by the test validators. A counterparty's
//! 07-tendermint client verifies them exactly as it verifies a live chain's.

use std::collections::BTreeMap;

use ed25519_consensus::SigningKey;
use sha2::{Digest, Sha256};
use tendermint::account;
use tendermint::block::{self, header::Version, parts, Commit, CommitSig, Header, Round};
use tendermint::chain;
use tendermint::validator::{Info, Set};
use tendermint::vote::{self, Vote};
use tendermint::{Hash, PublicKey, Signature, Time};

/// A validator key made from a seed (sha256(seed) is the secret).
pub fn validator_key(seed: &str) -> SigningKey {
    let secret: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    SigningKey::from(secret)
}

pub fn validator_set(keys: &[SigningKey], power: u64) -> Set {
    let infos = keys
        .iter()
        .map(|k| Info::new(PublicKey::from_raw_ed25519(k.verification_key().as_bytes()).expect("ed25519 key"), vote::Power::from(power as u32)))
        .collect();
    Set::new(infos, None)
}

/// The headers a test chain has produced, and the keys that sign them.
pub struct HeaderChain {
    pub chain_id: String,
    pub keys: Vec<SigningKey>,
    /// The validator set of the latest header produced (the initial set
    /// before the first).
    pub validators: Set,
    pub headers: BTreeMap<u64, block::signed_header::SignedHeader>,
    last_block_id: Option<block::Id>,
    /// Validator set from each height on where it changed (1 = genesis).
    sets: BTreeMap<u64, Set>,
}

/// A CometBFT validator set from (ed25519 key, power) pairs.
pub fn set_of(validators: &[([u8; 32], i64)]) -> Set {
    let infos = validators
        .iter()
        .map(|(k, p)| Info::new(PublicKey::from_raw_ed25519(k).expect("ed25519 key"), vote::Power::try_from(*p).expect("power")))
        .collect();
    Set::new(infos, None)
}

fn key_address(k: &SigningKey) -> account::Id {
    account::Id::from(PublicKey::from_raw_ed25519(k.verification_key().as_bytes()).expect("ed25519 key"))
}

impl HeaderChain {
    /// `n` validators of equal power 10, keys from `<chain_id>/val<i>`.
    pub fn new(chain_id: &str, n: usize) -> Self {
        let keys: Vec<SigningKey> = (0..n).map(|i| validator_key(&format!("{chain_id}/val{i}"))).collect();
        let validators = validator_set(&keys, 10);
        Self::with_set(chain_id, keys, validators)
    }

    /// Headers of `validators` (the genesis set), signed by whichever of
    /// `keys` are in the set of each height.
    pub fn with_set(chain_id: &str, keys: Vec<SigningKey>, validators: Set) -> Self {
        let sets = BTreeMap::from([(1, validators.clone())]);
        HeaderChain { chain_id: chain_id.into(), keys, validators, headers: BTreeMap::new(), last_block_id: None, sets }
    }

    /// The validator set of block `height`.
    pub fn validators_at(&self, height: u64) -> Set {
        self.sets.range(..=height.max(1)).next_back().map(|(_, s)| s.clone()).expect("a set from height 1")
    }

    /// Hash of the set of the latest header produced.
    pub fn validators_hash(&self) -> Vec<u8> {
        self.validators.hash().as_bytes().to_vec()
    }

    /// Hash of the set of block `height + 1`: header `height`'s
    /// `next_validators_hash`.
    pub fn next_validators_hash(&self, height: u64) -> Vec<u8> {
        self.validators_at(height + 1).hash().as_bytes().to_vec()
    }

    /// CometBFT's timing: the updates FinalizeBlock returned at `height`
    /// make the set of `height + 2` (power 0 removes a validator).
    pub fn apply_updates(&mut self, height: u64, updates: &[tendermint::validator::Update]) {
        if updates.is_empty() {
            return;
        }
        let mut powers: BTreeMap<account::Id, Info> = self.validators_at(height + 1).validators().iter().map(|v| (v.address, v.clone())).collect();
        for u in updates {
            let info = Info::new(u.pub_key, u.power);
            if u.power.value() == 0 {
                powers.remove(&info.address);
            } else {
                powers.insert(info.address, info);
            }
        }
        self.sets.insert(height + 2, Set::new(powers.into_values().collect(), None));
    }

    /// Build the header of block `height` (carrying the app hash after
    /// `height - 1`), sign it with every key, and remember it.
    pub fn produce(&mut self, height: u64, time: (i64, u32), app_hash: &[u8]) -> block::signed_header::SignedHeader {
        let keys = self.keys.clone();
        let validators = self.validators_at(height);
        let next = self.validators_at(height + 1);
        let sh = self.make(height, time, app_hash, &validators, &next, &keys);
        self.validators = validators;
        self.last_block_id = Some(sh.commit.block_id);
        self.headers.insert(height, sh.clone());
        sh
    }

    /// A header with the given sets, signed by `signers` (which need not be
    /// validators of it: that is how tests forge headers).
    pub fn make(
        &self,
        height: u64,
        time: (i64, u32),
        app_hash: &[u8],
        validators: &Set,
        next_validators: &Set,
        signers: &[SigningKey],
    ) -> block::signed_header::SignedHeader {
        make_signed_header(&self.chain_id, height, time, app_hash, validators, next_validators, signers, self.last_block_id)
    }
}

#[allow(clippy::too_many_arguments)]
pub fn make_signed_header(
    chain_id: &str,
    height: u64,
    time: (i64, u32),
    app_hash: &[u8],
    validators: &Set,
    next_validators: &Set,
    signers: &[SigningKey],
    last_block_id: Option<block::Id>,
) -> block::signed_header::SignedHeader {
    let time = Time::from_unix_timestamp(time.0, time.1).expect("valid time");
    let empty = Hash::Sha256(Sha256::digest(b"").into());
    let header = Header {
        version: Version { block: 11, app: 1 },
        chain_id: chain::Id::try_from(chain_id.to_string()).expect("chain id"),
        height: block::Height::try_from(height).expect("height"),
        time,
        last_block_id,
        last_commit_hash: Some(empty),
        data_hash: Some(empty),
        validators_hash: validators.hash(),
        next_validators_hash: next_validators.hash(),
        consensus_hash: empty,
        app_hash: tendermint::AppHash::try_from(app_hash.to_vec()).expect("app hash"),
        last_results_hash: Some(empty),
        evidence_hash: Some(empty),
        proposer_address: validators.validators()[0].address,
    };
    let block_id = block::Id { hash: header.hash(), part_set_header: parts::Header::new(1, header.hash()).expect("part set header") };
    let signatures = validators
        .validators()
        .iter()
        .enumerate()
        .map(|(i, v)| match signers.iter().find(|k| key_address(k) == v.address) {
            None => CommitSig::BlockIdFlagAbsent,
            Some(k) => {
                let vote = Vote {
                    vote_type: vote::Type::Precommit,
                    height: header.height,
                    round: Round::default(),
                    block_id: Some(block_id),
                    timestamp: Some(time),
                    validator_address: v.address,
                    validator_index: vote::ValidatorIndex::try_from(i as u32).expect("index"),
                    signature: None,
                    extension: vec![],
                    extension_signature: None,
                };
                let bytes = vote.into_signable_vec(header.chain_id.clone());
                let sig = k.sign(&bytes);
                CommitSig::BlockIdFlagCommit { validator_address: v.address, timestamp: time, signature: Signature::new(sig.to_bytes()).expect("signature") }
            }
        })
        .collect();
    let commit = Commit { height: header.height, round: Round::default(), block_id, signatures };
    block::signed_header::SignedHeader::new(header, commit).expect("consistent signed header")
}
