//! A provider and one of its consumer chains, wired as Interchain Security
//! wires them, in process: [`CcvPath::setup`] registers operators on a
//! provider [`TestChain`] (stake in `uaegis` and one LST strategy),
//! registers a consumer, has every operator opt in with a consumer key
//! (`light::validator_key`) and allocate to it, runs the provider until it
//! launches the consumer, starts the consumer chain from the genesis the
//! provider stored, and opens the connection, the CCV channel (the
//! consumer initiates: ORDERED, version "1") and the reward channel the
//! consumer starts at ChanOpenAck, over the clients the two genesis states
//! created. Everything goes through signed transactions, real headers and
//! ICS23 proofs (`ibc.rs`).
//!
//! [`CcvPath::relay`] then does what a relayer does: every packet either
//! chain sent (from transactions and from block hooks, like the provider's
//! VSC packets and the consumer's slash packets) that the other has not
//! received, and every acknowledgement back, until nothing is left.
//!
//! ```ignore
//! let mut path = CcvPath::setup(CcvConfig::default()).await;
//! path.provider.exec(&path.operators[1], vec![opt_out(&path.operators[1], path.consumer_id)]).await;
//! path.provider_epoch_end().await;
//! let relayed = path.relay().await;
//! ```

use ed25519_consensus::SigningKey;
use ibc_proto::ibc::core::channel::v1 as ch;

use super::ibc::{channel_end, channels_in_init, ok, written_acks, Relayer, Side};
use super::light::validator_key;
use super::{genesis_with, test_signer, TestChain};
use crate::app::{AppGenesis, TxOutcome};
use crate::math::{mul_div_down, mul_wad_down, WAD};
use crate::signer::{pack, Signer};
use crate::slashing::SlashingParams;
use crate::types::{Address, Coin, NATIVE_DENOM};
use aegis_proto::aegis::{avs::v1 as apb, delegation::v1 as dpb, provider::v1 as ppb, restaking::v1 as rpb};

/// The liquid-staking strategy every operator also stakes in.
pub const LST: &str = "stuaegis";
/// What every genesis account holds of each denom it is funded with.
pub const FUNDS: u128 = 10_000_000_000_000;
/// Gas for a relayer's batch (client update plus many packets).
const BATCH_GAS: u64 = 100_000_000;

/// How [`CcvPath::setup`] builds the two chains.
#[derive(Clone, Debug)]
pub struct CcvConfig {
    /// Operators on the provider, each with `stake` of `uaegis` and of
    /// [`LST`] deposited (self-delegated).
    pub operators: usize,
    pub stake: u128,
    /// Per operator, the magnitudes (WAD) it allocates to the consumer in
    /// `uaegis` and in [`LST`]. Operators past the end allocate nothing
    /// (opted in, not in the set).
    pub allocations: Vec<(u128, u128)>,
    /// The consumer's power weights (basis points) of `uaegis` and [`LST`].
    pub weights: (u32, u32),
    /// Whether operators also register a provider consensus key (and so
    /// validate the provider itself, as in ICS).
    pub provider_validators: bool,
    pub consumer_chain_id: String,
    pub blocks_per_epoch: u64,
    pub power_reduction: u128,
    /// The provider's withdrawal delay: its unbonding period, and the
    /// consumer's (the consumer asks for none of its own).
    pub withdrawal_delay_seconds: u64,
    pub allocation_delay_seconds: u64,
    /// `MsgCreateConsumer`'s reward fraction (a decimal).
    pub reward_fraction: String,
    pub infractions: ppb::InfractionParameters,
    pub provider_params: crate::provider::ProviderParams,
    /// The consumer chain's slashing params (its liveness window).
    pub consumer_slashing: SlashingParams,
    /// Other accounts funded at genesis (fee payers, users).
    pub provider_accounts: Vec<(Address, Vec<Coin>)>,
    pub consumer_accounts: Vec<(Address, Vec<Coin>)>,
    /// Edit the consumer genesis the provider wrote before the consumer
    /// starts from it (a consumer team sets its own params, such as
    /// `blocks_per_distribution_transmission`).
    pub edit_consumer_genesis: Option<fn(&mut crate::ccv::ConsumerGenesis)>,
}

impl Default for CcvConfig {
    /// Four operators with 10^12 of each denom: 0 allocates half its
    /// `uaegis`, 1 a quarter of each, 2 a fifth of its LST, 3 a fifth of
    /// its `uaegis`; LST counts double. Powers (10^6 tokens per unit):
    /// 500,000, 750,000, 400,000, 200,000 (total 1,850,000). Consumer
    /// liveness window 10 blocks, half of them signed; jail 600 s; no
    /// slashing for downtime.
    fn default() -> Self {
        CcvConfig {
            operators: 4,
            stake: 1_000_000_000_000,
            allocations: vec![(WAD / 2, 0), (WAD / 4, WAD / 4), (0, WAD / 5), (WAD / 5, 0)],
            weights: (10_000, 20_000),
            provider_validators: true,
            consumer_chain_id: "consumer-1".into(),
            blocks_per_epoch: 4,
            power_reduction: 1_000_000,
            withdrawal_delay_seconds: 30 * 24 * 3600,
            allocation_delay_seconds: 20,
            reward_fraction: "0.25".into(),
            infractions: ppb::InfractionParameters {
                double_sign_fraction: (WAD / 20).to_string(),
                downtime_fraction: "0".into(),
                downtime_jail_seconds: 600,
            },
            provider_params: Default::default(),
            consumer_slashing: SlashingParams { signed_blocks_window: 10, min_signed_per_window: WAD / 2, ..Default::default() },
            provider_accounts: vec![],
            consumer_accounts: vec![],
            edit_consumer_genesis: None,
        }
    }
}

impl CcvConfig {
    /// The consumer power of an operator allocating these magnitudes, as
    /// the provider computes it.
    pub fn power_of(&self, native_magnitude: u128, lst_magnitude: u128) -> i64 {
        let weighted = |magnitude: u128, bps: u32| mul_div_down(mul_wad_down(self.stake, magnitude).unwrap_or(0), bps as u128, 10_000).unwrap_or(0);
        ((weighted(native_magnitude, self.weights.0) + weighted(lst_magnitude, self.weights.1)) / self.power_reduction) as i64
    }

    /// Operator `i`'s power from its configured allocations.
    pub fn power(&self, i: usize) -> i64 {
        let (n, l) = self.allocations.get(i).copied().unwrap_or((0, 0));
        self.power_of(n, l)
    }
}

/// What one [`CcvPath::relay`] delivered.
#[derive(Clone, Debug, Default)]
pub struct Relayed {
    /// Packets the provider received, each with the acknowledgement it wrote.
    pub to_provider: Vec<(ch::Packet, Vec<u8>)>,
    /// Packets the consumer received, each with its acknowledgement.
    pub to_consumer: Vec<(ch::Packet, Vec<u8>)>,
    /// Packets whose acknowledgements went back to their sender.
    pub acks_to_consumer: Vec<ch::Packet>,
    pub acks_to_provider: Vec<ch::Packet>,
}

/// A provider, its launched consumer, and the relayer between them.
pub struct CcvPath {
    pub provider: TestChain,
    pub consumer: TestChain,
    /// A = the consumer, B = the provider; `ids` names the connection and
    /// the CCV channel.
    pub relayer: Relayer,
    pub config: CcvConfig,
    pub consumer_id: u64,
    /// The consumer's owner on the provider.
    pub owner: Signer,
    pub operators: Vec<Signer>,
    /// Operator `i`'s consumer key (its provider key, if any, differs).
    pub consumer_keys: Vec<SigningKey>,
    /// The provider's height at launch (its state the consumer's genesis
    /// client trusts).
    pub launch_height: u64,
    /// The reward channel: (on the consumer, on the provider).
    pub transfer_channel: (String, String),
}

pub fn owner() -> Signer {
    test_signer("ccv/owner")
}
pub fn operator(i: usize) -> Signer {
    test_signer(&format!("ccv/operator{i}"))
}
pub fn relayer_on_provider() -> Signer {
    test_signer("ccv/relayer-provider")
}
pub fn relayer_on_consumer() -> Signer {
    test_signer("ccv/relayer-consumer")
}
/// Operator `i`'s consumer key on the chain `chain_id`.
pub fn consumer_key(chain_id: &str, i: usize) -> SigningKey {
    validator_key(&format!("{chain_id}/operator{i}"))
}
/// Operator `i`'s provider consensus key.
pub fn provider_key(i: usize) -> SigningKey {
    validator_key(&format!("provider/operator{i}"))
}

/// A key's 32 bytes, and its hex as the provider stores consumer keys.
pub fn key_bytes(k: &SigningKey) -> [u8; 32] {
    k.verification_key().to_bytes()
}
pub fn key_hex(k: &SigningKey) -> String {
    hex::encode(key_bytes(k))
}
/// CometBFT's address of a key: sha256(key)[..20].
pub fn key_address(k: &SigningKey) -> [u8; 20] {
    use sha2::{Digest, Sha256};
    Sha256::digest(key_bytes(k))[..20].try_into().expect("20 bytes")
}

fn coin(denom: &str, amount: u128) -> cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
    cosmos_sdk_proto::cosmos::base::v1beta1::Coin { denom: denom.into(), amount: amount.to_string() }
}

/// Register `s` as an operator (with `consensus_key`, if any) and deposit
/// `stake` of `uaegis` and of [`LST`].
pub fn become_operator(s: &Signer, stake: u128, consensus_key: Option<&SigningKey>) -> Vec<cosmrs::Any> {
    vec![
        pack(
            "/aegis.delegation.v1.MsgRegisterOperator",
            &dpb::MsgRegisterOperator {
                operator: s.address.to_string(),
                metadata: None,
                commission_rate_bps: 500,
                max_commission_rate_bps: 5_000,
                max_commission_change_rate_bps: 100,
                consensus_pubkey: consensus_key.map(|k| key_bytes(k).to_vec()).unwrap_or_default(),
            },
        ),
        pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(NATIVE_DENOM, stake)) }),
        pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(LST, stake)) }),
    ]
}

pub fn opt_in(s: &Signer, consumer_id: u64, key: &str) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgOptIn", &ppb::MsgOptIn { operator: s.address.to_string(), consumer_id, consumer_key: key.into() })
}

pub fn opt_out(s: &Signer, consumer_id: u64) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgOptOut", &ppb::MsgOptOut { operator: s.address.to_string(), consumer_id })
}

pub fn assign_key(s: &Signer, consumer_id: u64, key: &str) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgAssignConsumerKey", &ppb::MsgAssignConsumerKey { operator: s.address.to_string(), consumer_id, consumer_key: key.into() })
}

pub fn unjail(s: &Signer, consumer_id: u64) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgUnjail", &ppb::MsgUnjail { operator: s.address.to_string(), consumer_id })
}

/// `MsgModifyAllocations` of `s` to a consumer's operator set
/// `(avs_id, 0)`: one entry per (strategy, magnitude).
pub fn allocate(s: &Signer, avs_id: u64, allocations: &[(&str, u128)]) -> cosmrs::Any {
    allocate_to(s, avs_id, 0, allocations)
}

/// `MsgModifyAllocations` of `s` to any operator set.
pub fn allocate_to(s: &Signer, avs_id: u64, set_id: u32, allocations: &[(&str, u128)]) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgModifyAllocations",
        &apb::MsgModifyAllocations {
            operator: s.address.to_string(),
            allocations: allocations
                .iter()
                .map(|(denom, magnitude)| apb::AllocateParams { avs_id, operator_set_id: set_id, strategy: denom.to_string(), magnitude: magnitude.to_string() })
                .collect(),
        },
    )
}

/// The provider's genesis for `cfg`.
pub fn provider_genesis(cfg: &CcvConfig) -> AppGenesis {
    use crate::avs::{genesis::AvsGenesis, AvsParams};
    use crate::delegation::{genesis::DelegationGenesis, DelegationParams};
    use crate::restaking::{genesis::{GenesisStrategy, RestakingGenesis}, RestakingParams};
    use crate::rewards::{genesis::RewardsGenesis, RewardsParams};
    let mut funded = vec![(owner().address, vec![Coin::new(NATIVE_DENOM, FUNDS)]), (relayer_on_provider().address, vec![Coin::new(NATIVE_DENOM, FUNDS)])];
    funded.extend((0..cfg.operators).map(|i| (operator(i).address, vec![Coin::new(LST, FUNDS), Coin::new(NATIVE_DENOM, FUNDS)])));
    funded.extend(cfg.provider_accounts.iter().cloned());
    let mut g = genesis_with(&funded);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: cfg.withdrawal_delay_seconds, authority: owner().address },
        strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: None }],
    };
    g.delegation = DelegationGenesis { params: DelegationParams { blocks_per_epoch: cfg.blocks_per_epoch, max_validators: 100, power_reduction: cfg.power_reduction }, ..Default::default() };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    g.avs = AvsGenesis {
        params: AvsParams {
            default_allocation_delay_seconds: cfg.allocation_delay_seconds,
            deallocation_delay_seconds: cfg.withdrawal_delay_seconds,
            allocation_configuration_delay_seconds: cfg.allocation_delay_seconds,
            max_strategies_per_set: 4,
        },
    };
    g.provider = crate::provider::genesis::ProviderGenesis { params: cfg.provider_params.clone() };
    g
}

fn consumer_parameters(cfg: &CcvConfig, spawn_time: i64) -> ppb::ConsumerParameters {
    ppb::ConsumerParameters {
        chain_id: cfg.consumer_chain_id.clone(),
        metadata: Some(ppb::ConsumerMetadata { name: "test consumer".into(), description: String::new(), metadata: String::new() }),
        spawn_time,
        power_shaping: Some(ppb::PowerShaping::default()),
        strategies: vec![ppb::StrategyWeight { denom: NATIVE_DENOM.into(), weight_bps: cfg.weights.0 }, ppb::StrategyWeight { denom: LST.into(), weight_bps: cfg.weights.1 }],
        reward_fraction: cfg.reward_fraction.clone(),
        infractions: Some(cfg.infractions.clone()),
        unbonding_period_seconds: 0,
        commission_bps: 0,
        proof_specs: String::new(),
    }
}

fn must(out: &TxOutcome, what: &str) {
    ok(out, what)
}

impl CcvPath {
    /// Both chains, launched and connected (see the module's docs). The
    /// CCV channel is open on both ends; the consumer calls it established
    /// only once the first VSC packet arrives (as ICS does), see
    /// [`CcvPath::establish_ccv_channel`].
    pub async fn setup(config: CcvConfig) -> CcvPath {
        let cfg = config.clone();
        let mut provider = TestChain::new(&provider_genesis(&cfg)).await;
        let operators: Vec<Signer> = (0..cfg.operators).map(operator).collect();
        let consumer_keys: Vec<SigningKey> = (0..cfg.operators).map(|i| consumer_key(&cfg.consumer_chain_id, i)).collect();
        for (i, op) in operators.iter().enumerate() {
            let pk = cfg.provider_validators.then(|| provider_key(i));
            must(&provider.exec(op, become_operator(op, cfg.stake, pk.as_ref())).await, "register an operator");
        }
        let create = pack(
            "/aegis.provider.v1.MsgCreateConsumer",
            &ppb::MsgCreateConsumer { owner: owner().address.to_string(), parameters: Some(consumer_parameters(&cfg, provider.time)) },
        );
        let out = provider.exec(&owner(), vec![create]).await;
        must(&out, "create the consumer");
        let consumer_id: u64 = super::ibc::attr(&out.events, "create_consumer", "consumer_id").parse().expect("a consumer id");
        for (i, op) in operators.iter().enumerate() {
            let mut msgs = vec![opt_in(op, consumer_id, &key_hex(&consumer_keys[i]))];
            let (n, l) = cfg.allocations.get(i).copied().unwrap_or((0, 0));
            let allocations: Vec<(&str, u128)> = [(NATIVE_DENOM, n), (LST, l)].into_iter().filter(|(_, m)| *m > 0).collect();
            if !allocations.is_empty() {
                msgs.push(allocate(op, consumer_id, &allocations));
            }
            must(&provider.exec(op, msgs).await, "opt in and allocate");
        }
        provider.skip_time(cfg.allocation_delay_seconds as i64);
        let launched = |p: &TestChain| {
            let s = p.storage().latest_snapshot();
            async move { crate::provider::ProviderRead::consumer(&s, consumer_id).await.unwrap().expect("the consumer exists") }
        };
        for _ in 0..3 {
            to_epoch_end(&mut provider, cfg.blocks_per_epoch).await;
            if launched(&provider).await.phase == crate::provider::state::Phase::Launched {
                break;
            }
        }
        let c = launched(&provider).await;
        assert_eq!(c.phase, crate::provider::state::Phase::Launched, "the consumer did not launch");
        let snapshot = provider.storage().latest_snapshot();
        let mut genesis = crate::provider::ProviderRead::consumer_genesis(&snapshot, consumer_id).await.unwrap().expect("a consumer genesis");
        if let Some(edit) = cfg.edit_consumer_genesis {
            edit(&mut genesis);
        }

        let mut funded = vec![(relayer_on_consumer().address, vec![Coin::new(NATIVE_DENOM, FUNDS)])];
        funded.extend(cfg.consumer_accounts.iter().cloned());
        let mut g = genesis_with(&funded);
        g.consumer = Some(genesis);
        g.slashing = crate::slashing::genesis::SlashingGenesis { params: cfg.consumer_slashing.clone() };
        let mut consumer = TestChain::consumer_at(&g, &cfg.consumer_chain_id, consumer_keys.clone(), provider.time).await.expect("the consumer genesis is accepted");

        let client_on_provider = c.client_id.clone().expect("a launched consumer has a client");
        let unbonding = std::time::Duration::from_secs(cfg.withdrawal_delay_seconds);
        let mut relayer = Relayer::with_clients(
            relayer_on_consumer(),
            relayer_on_provider(),
            unbonding,
            (crate::consumer::genesis::PROVIDER_CLIENT_ID, c.launch_height),
            (&client_on_provider, 1),
        );
        relayer.connect(&mut consumer, &mut provider).await;
        relayer.open_channel_between(&mut consumer, &mut provider, crate::ccv::CONSUMER_PORT, crate::ccv::PROVIDER_PORT, crate::ccv::VERSION, ch::Order::Ordered).await;
        let mut transfer_channel = (String::new(), String::new());
        for (port, chan) in channels_in_init(&consumer).await {
            if port == "transfer" {
                let on_provider = relayer.complete_channel_handshake(&mut consumer, &mut provider, &port, &chan).await;
                transfer_channel = (chan, on_provider);
            }
        }
        CcvPath { provider, consumer, relayer, config, consumer_id, owner: owner(), operators, consumer_keys, launch_height: c.launch_height, transfer_channel }
    }

    /// The consumer's CCV channel id, and the provider's.
    pub fn ccv_channels(&self) -> (String, String) {
        (self.relayer.ids.chan_on_a.clone(), self.relayer.ids.chan_on_b.clone())
    }

    /// Run provider blocks until one that ends an epoch has executed.
    pub async fn provider_epoch_end(&mut self) {
        to_epoch_end(&mut self.provider, self.config.blocks_per_epoch).await;
    }

    /// Operator `i`'s consumer key bytes.
    pub fn key(&self, i: usize) -> [u8; 32] {
        key_bytes(&self.consumer_keys[i])
    }

    /// The consumer's validator set as its module holds it (the set
    /// CometBFT will have two blocks after the last change), by key.
    pub async fn consumer_set(&self) -> Vec<([u8; 32], i64)> {
        let snap = self.consumer.storage().latest_snapshot();
        crate::consumer::ConsumerRead::consumer_validators(&snap).await.unwrap().into_iter().map(|v| (v.pubkey, v.power)).collect()
    }

    /// The consumer's CometBFT validator set at `height` (its header
    /// chain's), by key.
    pub fn consumer_cometbft_set(&self, height: u64) -> Vec<([u8; 32], i64)> {
        let mut set: Vec<([u8; 32], i64)> = self
            .consumer
            .light
            .validators_at(height)
            .validators()
            .iter()
            .map(|v| (v.pub_key.to_bytes().try_into().expect("ed25519"), v.power.value() as i64))
            .collect();
        set.sort();
        set
    }

    /// Operator `i`'s consumer node stops signing: its commit signatures
    /// are absent from the consumer's headers and from the votes the next
    /// blocks get (keep offline power under 1/3, or the provider's client
    /// of the consumer cannot follow).
    pub fn take_offline(&mut self, i: usize) {
        let key = self.consumer_keys[i].verification_key();
        self.consumer.light.keys.retain(|k| k.verification_key() != key);
    }

    /// Operator `i`'s consumer node signs again.
    pub fn bring_online(&mut self, i: usize) {
        if !self.consumer.light.keys.iter().any(|k| k.verification_key() == self.consumer_keys[i].verification_key()) {
            self.consumer.light.keys.push(self.consumer_keys[i].clone());
        }
    }

    /// One consumer block holding a transaction from `from` that pays
    /// `fee` uaegis (a 1uaegis send to itself): fees for the consumer's
    /// reward distribution. `from` must be funded (`consumer_accounts`).
    pub async fn pay_consumer_fee(&mut self, from: &Signer, fee: u128) {
        let (number, sequence) = self.consumer.account(&from.address).await.expect("a funded consumer account");
        let opts = crate::signer::SignOptions { fee, gas_limit: 200_000, ..crate::signer::SignOptions::new(&self.consumer.chain_id, number, sequence) };
        let tx = from.sign(vec![from.msg_send(&from.address, &[Coin::new(NATIVE_DENOM, 1)])], &opts).expect("sign");
        must(&self.consumer.block(vec![tx]).await.tx_results[0], "a fee-paying transaction");
    }

    /// Make the provider send a VSC packet, so that the consumer
    /// establishes the CCV channel (ICS does at the first VSC packet, and
    /// sends nothing to the provider before): operator 0 lowers its first
    /// allocation by 1/1000 of its stake (a decrease takes its power at
    /// once), then an epoch end and a relay. Returns what was relayed.
    pub async fn establish_ccv_channel(&mut self) -> Relayed {
        let (n, l) = self.config.allocations.first().copied().expect("operator 0 allocates");
        let (denom, magnitude) = if n > 0 { (NATIVE_DENOM, n) } else { (LST, l) };
        let op = operator(0);
        let new = magnitude - WAD / 1000;
        must(&self.provider.exec(&op, vec![allocate(&op, self.consumer_id, &[(denom, new)])]).await, "lower operator 0's allocation");
        if let Some(a) = self.config.allocations.first_mut() {
            if n > 0 {
                a.0 = new
            } else {
                a.1 = new
            }
        }
        self.provider_epoch_end().await;
        self.relay().await
    }

    /// Relay until nothing is pending: packets each way (those the
    /// destination has not received and can still receive), then their
    /// acknowledgements, in rounds, since delivering one thing may send
    /// another (an epoch end during a relay, an ack that frees the next
    /// slash packet). Each batch is one client update plus its messages,
    /// in one transaction; a batch that fails panics with its error.
    pub async fn relay(&mut self) -> Relayed {
        let mut report = Relayed::default();
        for _ in 0..50 {
            let mut busy = false;
            let to_provider = self.pending_packets(true).await;
            if !to_provider.is_empty() {
                busy = true;
                let msgs = self.relayer.recv_batch(&mut self.consumer, &mut self.provider, Side::A, &to_provider).await;
                let out = exec_batch(&mut self.provider, &self.relayer.on_b, msgs, "receive on the provider").await;
                report.to_provider.extend(written_acks(&out.events));
            }
            let to_consumer = self.pending_packets(false).await;
            if !to_consumer.is_empty() {
                busy = true;
                let msgs = self.relayer.recv_batch(&mut self.provider, &mut self.consumer, Side::B, &to_consumer).await;
                let out = exec_batch(&mut self.consumer, &self.relayer.on_a, msgs, "receive on the consumer").await;
                report.to_consumer.extend(written_acks(&out.events));
            }
            let acks = self.pending_acks(true).await;
            if !acks.is_empty() {
                busy = true;
                let msgs = self.relayer.ack_batch(&mut self.provider, &mut self.consumer, Side::B, &acks).await;
                exec_batch(&mut self.consumer, &self.relayer.on_a, msgs, "acknowledge on the consumer").await;
                report.acks_to_consumer.extend(acks.into_iter().map(|(p, _)| p));
            }
            let acks = self.pending_acks(false).await;
            if !acks.is_empty() {
                busy = true;
                let msgs = self.relayer.ack_batch(&mut self.consumer, &mut self.provider, Side::A, &acks).await;
                exec_batch(&mut self.provider, &self.relayer.on_b, msgs, "acknowledge on the provider").await;
                report.acks_to_provider.extend(acks.into_iter().map(|(p, _)| p));
            }
            if !busy {
                return report;
            }
        }
        panic!("the relay did not settle after 50 rounds");
    }

    /// Time out every packet on an UNORDERED channel of the path that the
    /// destination's latest block has passed the timeout of without
    /// receiving it (a reward transfer, say): the sender refunds it.
    /// Returns how many were timed out.
    pub async fn relay_timeouts(&mut self) -> usize {
        let mut n = 0;
        for to_provider in [true, false] {
            let (src, dst) = if to_provider { (&self.consumer, &self.provider) } else { (&self.provider, &self.consumer) };
            let deadline = (dst.time + 5) as u64 * 1_000_000_000;
            let mut expired = Vec::new();
            for p in candidates(src, dst, &self.relayer, to_provider).await {
                let ordered = channel_end(src, &p.source_port, &p.source_channel).await.is_some_and(|c| c.ordering == ch::Order::Ordered as i32);
                if !ordered && p.timeout_timestamp != 0 && p.timeout_timestamp <= deadline {
                    expired.push(p);
                }
            }
            if expired.is_empty() {
                continue;
            }
            n += expired.len();
            if to_provider {
                let msgs = self.relayer.timeout_batch(&mut self.provider, &mut self.consumer, Side::B, &expired).await;
                exec_batch(&mut self.consumer, &self.relayer.on_a, msgs, "time out on the consumer").await;
            } else {
                let msgs = self.relayer.timeout_batch(&mut self.consumer, &mut self.provider, Side::A, &expired).await;
                exec_batch(&mut self.provider, &self.relayer.on_b, msgs, "time out on the provider").await;
            }
        }
        n
    }

    /// Packets the source sent on this path that the destination can
    /// still receive and has not.
    async fn pending_packets(&self, to_provider: bool) -> Vec<ch::Packet> {
        let (src, dst) = if to_provider { (&self.consumer, &self.provider) } else { (&self.provider, &self.consumer) };
        // The destination's block that receives them is at least this late.
        let arrival = (dst.time.max(src.time + 5) + 5) as u64 * 1_000_000_000;
        candidates(src, dst, &self.relayer, to_provider).await.into_iter().filter(|p| p.timeout_timestamp == 0 || p.timeout_timestamp > arrival).collect()
    }

    /// Acknowledgements written on the destination (the provider if
    /// `from_provider`) whose packets are still committed on their sender.
    async fn pending_acks(&self, from_provider: bool) -> Vec<(ch::Packet, Vec<u8>)> {
        let (written_on, sender) = if from_provider { (&self.provider, &self.consumer) } else { (&self.consumer, &self.provider) };
        let conn = if from_provider { &self.relayer.ids.conn_on_b } else { &self.relayer.ids.conn_on_a };
        let mut out = Vec::new();
        for (p, ack) in &written_on.log.acks {
            if !on_connection(written_on, &p.destination_port, &p.destination_channel, conn).await {
                continue;
            }
            if committed(sender, p).await && !out.iter().any(|(q, _): &(ch::Packet, Vec<u8>)| q == p) {
                out.push((p.clone(), ack.clone()));
            }
        }
        out
    }
}

/// Packets `src` sent on the path's connection, still committed there and
/// not received by `dst`.
async fn candidates(src: &TestChain, dst: &TestChain, relayer: &Relayer, from_consumer: bool) -> Vec<ch::Packet> {
    let conn = if from_consumer { &relayer.ids.conn_on_a } else { &relayer.ids.conn_on_b };
    let mut out: Vec<ch::Packet> = Vec::new();
    for p in &src.log.sent {
        if out.contains(p) || !on_connection(src, &p.source_port, &p.source_channel, conn).await || !committed(src, p).await {
            continue;
        }
        if !received(dst, p).await {
            out.push(p.clone());
        }
    }
    out
}

async fn on_connection(chain: &TestChain, port: &str, channel: &str, conn: &str) -> bool {
    channel_end(chain, port, channel).await.is_some_and(|c| c.connection_hops.first().map(String::as_str) == Some(conn))
}

async fn raw(chain: &TestChain, key: &str) -> Option<Vec<u8>> {
    crate::ibc::state::read_raw(&chain.storage().latest_snapshot(), key).await.expect("read")
}

/// Whether the packet's commitment is still on its sender.
async fn committed(sender: &TestChain, p: &ch::Packet) -> bool {
    raw(sender, &format!("ibc/commitments/ports/{}/channels/{}/sequences/{}", p.source_port, p.source_channel, p.sequence)).await.is_some()
}

/// Whether `dst` has received the packet (its next receive sequence on an
/// ordered channel, its receipt on an unordered one).
async fn received(dst: &TestChain, p: &ch::Packet) -> bool {
    let Some(end) = channel_end(dst, &p.destination_port, &p.destination_channel).await else { return false };
    if end.ordering == ch::Order::Ordered as i32 {
        let next = raw(dst, &format!("ibc/nextSequenceRecv/ports/{}/channels/{}", p.destination_port, p.destination_channel)).await;
        let next = next.map(|b| u64::from_be_bytes(b.as_slice().try_into().expect("8 bytes"))).unwrap_or(1);
        p.sequence < next
    } else {
        raw(dst, &format!("ibc/receipts/ports/{}/channels/{}/sequences/{}", p.destination_port, p.destination_channel, p.sequence)).await.is_some()
    }
}

/// One block on `chain` holding one transaction of `msgs` from `signer`;
/// its events. Panics with the error if the transaction fails.
async fn exec_batch(chain: &mut TestChain, signer: &Signer, msgs: Vec<cosmrs::Any>, what: &str) -> TxOutcome {
    let tx = chain.sign_with_gas(signer, msgs, BATCH_GAS).await;
    let out = chain.block(vec![tx]).await.tx_results.remove(0);
    ok(&out, what);
    out
}

/// Blocks until one whose height ends an epoch has executed.
pub async fn to_epoch_end(chain: &mut TestChain, blocks_per_epoch: u64) {
    loop {
        chain.block(vec![]).await;
        if chain.height.is_multiple_of(blocks_per_epoch) {
            return;
        }
    }
}

/// An ICS-20 denom trace's `ibc/<HASH>` on the chain that received it over
/// `channel` (its receiving end) from `base` on the other chain.
pub fn voucher(channel: &str, base: &str) -> String {
    format!("ibc/{}", crate::ibc::transfer::denom_hash(&format!("transfer/{channel}/{base}")))
}
