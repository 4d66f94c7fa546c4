//! An in-process chain on real RocksDB state, for tests and benchmarks:
//! genesis, blocks of signed transactions through the same FinalizeBlock
//! and Commit path the node uses, and the invariants checked after every
//! block. Not used by the node.

pub mod ccv;
pub mod ibc;
pub mod light;

use std::path::PathBuf;

use cnidarium::Storage;

use crate::app::{App, AppGenesis, BlockInput, BlockOutput};
use crate::auth::genesis::{AuthGenesis, GenesisAccount};
use crate::auth::AuthRead;
use crate::bank::genesis::{BankGenesis, GenesisBalance, GenesisCoin};
use crate::bank::BankRead;
use crate::signer::{SignOptions, Signer};
use crate::slashing::hooks::{CommitVote, Misbehavior};
use crate::types::{Address, Coin, NATIVE_DENOM};

pub const CHAIN_ID: &str = "aegis-test";
pub const GENESIS_TIME: i64 = 1_700_000_000;

/// A deterministic test key: the secret is sha256(seed).
pub fn test_signer(seed: &str) -> Signer {
    use sha2::{Digest, Sha256};
    Signer::from_secret(&Sha256::digest(seed.as_bytes())).expect("valid secret")
}

/// Genesis funding each address with `amount` of each denom.
pub fn genesis_with(balances: &[(Address, Vec<Coin>)]) -> AppGenesis {
    AppGenesis {
        auth: AuthGenesis { accounts: balances.iter().map(|(a, _)| GenesisAccount { address: a.to_string() }).collect(), ..Default::default() },
        bank: BankGenesis {
            balances: balances
                .iter()
                .map(|(a, coins)| GenesisBalance {
                    address: a.to_string(),
                    coins: coins.iter().map(|c| GenesisCoin { denom: c.denom.clone(), amount: c.amount.to_string() }).collect(),
                })
                .collect(),
        },
        ..Default::default()
    }
}

/// What a test chain's blocks emitted that relayers and tests read back:
/// every packet sent and acknowledgement written (by block hooks and by
/// transactions alike), and the validator updates of each block that had
/// some.
#[derive(Clone, Debug, Default)]
pub struct BlockLog {
    pub sent: Vec<ibc_proto::ibc::core::channel::v1::Packet>,
    pub acks: Vec<(ibc_proto::ibc::core::channel::v1::Packet, Vec<u8>)>,
    pub validator_updates: std::collections::BTreeMap<u64, Vec<tendermint::validator::Update>>,
}

impl BlockLog {
    fn add(&mut self, height: u64, out: &BlockOutput) {
        self.sent.extend(ibc::block_sent_packets(out));
        self.acks.extend(ibc::written_acks(&out.events));
        for tx in &out.tx_results {
            self.acks.extend(ibc::written_acks(&tx.events));
        }
        if !out.validator_updates.is_empty() {
            self.validator_updates.insert(height, out.validator_updates.clone());
        }
    }
}

pub struct TestChain {
    app: Option<App>,
    dir: tempfile::TempDir,
    pub height: u64,
    pub time: i64,
    pub chain_id: String,
    /// Signed CometBFT headers of every block, for counterparties' light
    /// clients of this chain.
    pub light: light::HeaderChain,
    /// Whether each block's validator updates change the header chain's
    /// validator set (a consumer chain, whose headers are signed by the
    /// set its app reports). Other chains sign with fixed test keys.
    pub follow_validator_updates: bool,
    /// Whether a block given no votes gets the last commit's votes from
    /// the header chain, as CometBFT sends them: signed by the validators
    /// whose keys are in `light.keys`, absent for the others (a consumer
    /// chain, whose liveness tracking reads them).
    pub auto_votes: bool,
    /// Packets, acknowledgements and validator updates of every block.
    pub log: BlockLog,
}

impl TestChain {
    pub async fn new(genesis: &AppGenesis) -> Self {
        Self::with_chain_id(genesis, CHAIN_ID).await
    }

    /// A chain with its own chain id (and so its own validator keys).
    pub async fn with_chain_id(genesis: &AppGenesis, chain_id: &str) -> Self {
        Self::with_validators(genesis, chain_id, 4).await
    }

    /// A chain whose headers are signed by `n` validators of equal power
    /// (what a counterparty's light client verifies; the chain's own
    /// state does not depend on them).
    pub async fn with_validators(genesis: &AppGenesis, chain_id: &str, n: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = crate::store::open(dir.path().join("db")).await.expect("open storage");
        let mut app = App::new(storage);
        let bytes = serde_json::to_vec(genesis).unwrap();
        app.init_chain(chain_id, &bytes, (GENESIS_TIME, 0)).await.expect("genesis");
        app.storage().latest_snapshot().check_supply_invariant().await.expect("supply invariant at genesis");
        TestChain {
            app: Some(app),
            dir,
            height: 0,
            time: GENESIS_TIME,
            chain_id: chain_id.into(),
            light: light::HeaderChain::new(chain_id, n),
            follow_validator_updates: false,
            auto_votes: false,
            log: BlockLog::default(),
        }
    }

    /// A consumer chain: `genesis` has an `app_state.consumer` section, and
    /// its headers are signed by the validators InitChain reports (the
    /// consumer genesis's initial set) with `keys` (the test holds the key
    /// of every validator it wants to sign; a key not in the set of a
    /// height signs nothing there). Each block's validator updates change
    /// the header chain's set with CometBFT's timing.
    pub async fn consumer(genesis: &AppGenesis, chain_id: &str, keys: Vec<ed25519_consensus::SigningKey>) -> Result<Self, crate::error::AppError> {
        Self::consumer_at(genesis, chain_id, keys, GENESIS_TIME).await
    }

    /// As [`TestChain::consumer`], with its genesis time (a consumer
    /// starts after its provider, whose consensus state it must trust).
    pub async fn consumer_at(genesis: &AppGenesis, chain_id: &str, keys: Vec<ed25519_consensus::SigningKey>, genesis_time: i64) -> Result<Self, crate::error::AppError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = crate::store::open(dir.path().join("db")).await.expect("open storage");
        let mut app = App::new(storage);
        let bytes = serde_json::to_vec(genesis).unwrap();
        app.init_chain(chain_id, &bytes, (genesis_time, 0)).await?;
        let validators = app.genesis_validators().await.map_err(crate::error::AppError::from)?;
        let set = tendermint::validator::Set::new(validators.iter().map(|u| tendermint::validator::Info::new(u.pub_key, u.power)).collect(), None);
        Ok(TestChain {
            app: Some(app),
            dir,
            height: 0,
            time: genesis_time,
            chain_id: chain_id.into(),
            light: light::HeaderChain::with_set(chain_id, keys, set),
            follow_validator_updates: true,
            auto_votes: true,
            log: BlockLog::default(),
        })
    }

    pub fn app(&self) -> &App {
        self.app.as_ref().expect("app present")
    }

    pub fn app_mut(&mut self) -> &mut App {
        self.app.as_mut().expect("app present")
    }

    pub fn storage(&self) -> &Storage {
        self.app().storage()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("db")
    }

    /// Execute and commit one block (block time advances 5 s per block),
    /// then check the invariants.
    pub async fn block(&mut self, txs: Vec<Vec<u8>>) -> BlockOutput {
        let out = self.finalize(txs).await;
        self.app_mut().commit().await.expect("commit");
        self.check_invariants().await;
        out
    }

    /// FinalizeBlock only: the block is staged, not committed.
    pub async fn finalize(&mut self, txs: Vec<Vec<u8>>) -> BlockOutput {
        self.finalize_with(txs, vec![], vec![]).await
    }

    /// FinalizeBlock with the last commit's votes and evidence, as CometBFT
    /// would send them.
    pub async fn finalize_with(&mut self, txs: Vec<Vec<u8>>, votes: Vec<CommitVote>, misbehavior: Vec<Misbehavior>) -> BlockOutput {
        self.height += 1;
        self.time += 5;
        let (height, time) = (self.height, self.time);
        let app_hash = self.app_hash().await;
        self.light.produce(height, (time, 0), &app_hash);
        let next_validators_hash = self.light.next_validators_hash(height);
        let votes = if votes.is_empty() && self.auto_votes { self.last_commit_votes(height) } else { votes };
        let out = self
            .app_mut()
            .finalize_block(BlockInput { height, time_seconds: time, time_nanos: 0, txs, votes, misbehavior, next_validators_hash })
            .await
            .expect("finalize block");
        if self.follow_validator_updates {
            self.light.apply_updates(height, &out.validator_updates);
        }
        self.log.add(height, &out);
        out
    }

    /// The votes CometBFT would send with block `height`: block
    /// `height - 1`'s commit as the header chain signed it, in its
    /// validator set's order, with each validator's power. None for the
    /// first block.
    pub fn last_commit_votes(&self, height: u64) -> Vec<CommitVote> {
        use tendermint::block::CommitSig;
        let Some(sh) = self.light.headers.get(&height.saturating_sub(1)) else { return vec![] };
        let set = self.light.validators_at(height - 1);
        set.validators()
            .iter()
            .zip(sh.commit.signatures.iter())
            .map(|(v, sig)| CommitVote {
                address: v.address.as_bytes().try_into().expect("20-byte address"),
                signed: !matches!(sig, CommitSig::BlockIdFlagAbsent),
                power: v.power.value() as i64,
            })
            .collect()
    }

    /// Execute and commit a block with votes and evidence; check invariants.
    pub async fn block_with(&mut self, txs: Vec<Vec<u8>>, votes: Vec<CommitVote>, misbehavior: Vec<Misbehavior>) -> BlockOutput {
        let out = self.finalize_with(txs, votes, misbehavior).await;
        self.app_mut().commit().await.expect("commit");
        self.check_invariants().await;
        out
    }

    /// Advance block time by `seconds` without a block (the next block's
    /// time is the current time + 5 + `seconds`).
    pub fn skip_time(&mut self, seconds: i64) {
        self.time += seconds;
    }

    pub async fn check_invariants(&self) {
        let snap = self.storage().latest_snapshot();
        snap.check_supply_invariant().await.unwrap_or_else(|e| panic!("after block {}: {e}", self.height));
        crate::restaking::state::check_restaking_invariants(&snap).await.unwrap_or_else(|e| panic!("after block {}: {e}", self.height));
        crate::rewards::state::check_rewards_invariant(&snap).await.unwrap_or_else(|e| panic!("after block {}: {e}", self.height));
        crate::avs::state::check_avs_invariants(&snap).await.unwrap_or_else(|e| panic!("after block {}: {e}", self.height));
        crate::provider::state::check_provider_invariants(&snap).await.unwrap_or_else(|e| panic!("after block {}: {e}", self.height));
    }

    /// Drop the in-memory app and reopen the store from disk, as a restarted
    /// node would (anything finalized but not committed is gone).
    pub async fn restart(&mut self) {
        let storage = self.app.take().expect("app present").into_storage();
        storage.release().await;
        let storage = crate::store::open(self.db_path()).await.expect("reopen storage");
        self.height = if storage.latest_version() == u64::MAX { 0 } else { storage.latest_version() };
        self.app = Some(App::new(storage));
    }

    pub async fn balance(&self, addr: &Address, denom: &str) -> u128 {
        self.storage().latest_snapshot().balance(addr, denom).await.unwrap().0
    }

    pub async fn supply(&self, denom: &str) -> u128 {
        self.storage().latest_snapshot().supply(denom).await.unwrap().0
    }

    /// (account number, sequence) of an existing account.
    pub async fn account(&self, addr: &Address) -> Option<(u64, u64)> {
        self.storage().latest_snapshot().account(addr).await.unwrap().map(|a| (a.account_number, a.sequence))
    }

    pub async fn app_hash(&self) -> Vec<u8> {
        self.app().last_committed().await.unwrap().1
    }

    /// Sign `msgs` from `from` with its current account number and
    /// sequence, no fee and a generous gas limit.
    pub async fn sign(&self, from: &Signer, msgs: Vec<cosmrs::Any>) -> Vec<u8> {
        self.sign_with_gas(from, msgs, 5_000_000).await
    }

    /// As [`TestChain::sign`], with the given gas limit (a relayer's batch
    /// of hundreds of packets needs more than the default).
    pub async fn sign_with_gas(&self, from: &Signer, msgs: Vec<cosmrs::Any>, gas_limit: u64) -> Vec<u8> {
        let (number, sequence) = self.account(&from.address).await.expect("signer exists");
        let opts = SignOptions { fee: 0, gas_limit, ..SignOptions::new(&self.chain_id, number, sequence) };
        from.sign(msgs, &opts).unwrap()
    }

    /// Run one block holding one tx of `msgs` from `from`; the outcome.
    pub async fn exec(&mut self, from: &Signer, msgs: Vec<cosmrs::Any>) -> crate::app::TxOutcome {
        let tx = self.sign(from, msgs).await;
        self.block(vec![tx]).await.tx_results.remove(0)
    }

    /// The slash hook the slashing module will call, applied on its own as
    /// a committed version (a block with nothing else in it): lower
    /// `operator`'s max magnitude in `denom`. Returns the tokens burned.
    pub async fn slash(&mut self, operator: &Address, denom: &str, new_magnitude: u128) -> u128 {
        use crate::restaking::RestakingWrite;
        let mut delta = cnidarium::StateDelta::new(self.storage().latest_snapshot());
        let burned = delta.slash_magnitude(operator, denom, new_magnitude, None).await.expect("slash");
        self.storage().commit(delta).await.expect("commit slash");
        self.height += 1;
        self.check_invariants().await;
        burned
    }

    /// Sign a MsgSend from `from` with its current account number and sequence.
    pub async fn send_tx(&self, from: &Signer, to: &Address, amount: u128) -> Vec<u8> {
        let (number, sequence) = self.account(&from.address).await.expect("sender exists");
        from.sign(vec![from.msg_send(to, &[Coin::new(NATIVE_DENOM, amount)])], &SignOptions::new(&self.chain_id, number, sequence)).unwrap()
    }
}
