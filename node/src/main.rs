//! aegisd: the Aegis node (`start`) and its command-line client.

use aegis_node::{client, config, keys, render, start, testnet};

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use aegis_app::auth::params::MinGasPrice;
use aegis_app::math::WAD;
use aegis_app::signer::pack;
use aegis_proto::aegis::delegation::v1::OperatorMetadata;
use aegis_app::types::{Address, Coins};
use anyhow::{anyhow, bail, Result};
use clap::{Args, Parser, Subcommand};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

#[derive(Parser)]
#[command(name = "aegisd", version, about = "Aegis: a restaking application chain (node and client)")]
struct Cli {
    /// Node home directory (config/, data/, keyring/).
    #[arg(long, global = true, env = "AEGIS_HOME", default_value = "~/.aegis")]
    home: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a single-validator node home (CometBFT config, genesis, keys, app.toml).
    Init {
        #[arg(long, default_value = "aegis-local")]
        chain_id: String,
        /// Ports: metrics base+55, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
    },
    /// Run the ABCI and gRPC servers (start CometBFT next to it).
    Start,
    /// Generate local multi-validator networks.
    #[command(subcommand)]
    Testnet(TestnetCmd),
    /// Manage keys in <home>/keyring.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Sign and broadcast transactions.
    #[command(subcommand)]
    Tx(TxCmd),
    /// Query chain state over gRPC.
    #[command(subcommand)]
    Query(QueryCmd),
    /// Show the node's chain id, height and sync status.
    Status(NodeArgs),
}

#[derive(Subcommand)]
enum TestnetCmd {
    /// Write N validator homes, a shared genesis and endpoints.json.
    Generate {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        #[arg(long)]
        output: PathBuf,
        #[arg(long, default_value = "aegis-devnet")]
        chain_id: String,
        /// Node i uses metrics base+55+10i, p2p +56, RPC +57, ABCI +58, gRPC +59.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
    },
}

#[derive(Subcommand)]
enum KeysCmd {
    /// Create a key; prints its mnemonic once. With --recover, reads a mnemonic from stdin.
    Add {
        name: String,
        #[arg(long)]
        recover: bool,
    },
    /// Import a key from a BIP39 mnemonic read from stdin.
    Import { name: String },
    /// Print a key's mnemonic (keep it secret).
    Export { name: String },
    /// List keys and addresses.
    List,
    /// Show a key's address.
    Show { name: String },
}

#[derive(Args, Clone)]
struct NodeArgs {
    /// gRPC endpoint of a node.
    #[arg(long, env = "AEGIS_GRPC", default_value = "http://127.0.0.1:9090")]
    grpc: String,
}

#[derive(Args, Clone)]
struct TxArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Name of the signing key in the keyring.
    #[arg(long)]
    from: String,
    /// Gas limit; simulated (x1.3) when omitted.
    #[arg(long)]
    gas: Option<u64>,
    /// Price per gas; the fee is gas limit x price, rounded up.
    #[arg(long, default_value = "0.025uaegis")]
    gas_prices: String,
    /// Note stored in the transaction.
    #[arg(long, default_value = "")]
    memo: String,
    /// Return after CheckTx instead of waiting for the block.
    #[arg(long)]
    no_wait: bool,
}

#[derive(Subcommand)]
enum TxCmd {
    /// Bank transfers.
    #[command(subcommand)]
    Bank(BankTx),
    /// Deposit into restaking strategies and withdraw through the escrow.
    #[command(subcommand)]
    Restaking(RestakingTx),
    /// Register and update operators; delegate, undelegate, redelegate.
    #[command(subcommand)]
    Delegation(DelegationTx),
    /// Claim rewards; pay AVS rewards to an operator set; set an operator's commission on an AVS.
    #[command(subcommand)]
    Rewards(RewardsTx),
    /// Register AVSs and operator sets; operators join sets and allocate stake to them.
    #[command(subcommand)]
    Avs(AvsTx),
    /// Slash an operator as a set's slasher; veto or execute pending slashes; unjail.
    #[command(subcommand)]
    Slashing(SlashingTx),
}

#[derive(Subcommand)]
enum RestakingTx {
    /// Deposit tokens into the strategy of their denom, e.g. `deposit 1000000uaegis`; prints the shares minted.
    Deposit {
        /// <amount><denom>, e.g. 1000000uaegis.
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Queue deposit shares for withdrawal (escrowed for the withdrawal delay); prints the withdrawal id.
    QueueWithdrawal {
        /// Deposit shares per strategy, <shares><denom> each, e.g. 1000000000000000uaegis.
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

#[derive(Args, Clone, Default)]
struct MetadataArgs {
    /// Operator name shown to delegators.
    #[arg(long)]
    moniker: Option<String>,
    /// Operator website.
    #[arg(long)]
    website: Option<String>,
    /// Free-text description.
    #[arg(long)]
    details: Option<String>,
    /// URI of an off-chain metadata document (JSON).
    #[arg(long)]
    metadata_uri: Option<String>,
}

impl MetadataArgs {
    fn is_empty(&self) -> bool {
        self.moniker.is_none() && self.website.is_none() && self.details.is_none() && self.metadata_uri.is_none()
    }

    /// `base` with the fields given on the command line replaced.
    fn merged(&self, base: OperatorMetadata) -> OperatorMetadata {
        OperatorMetadata {
            moniker: self.moniker.clone().unwrap_or(base.moniker),
            website: self.website.clone().unwrap_or(base.website),
            details: self.details.clone().unwrap_or(base.details),
            metadata_uri: self.metadata_uri.clone().unwrap_or(base.metadata_uri),
        }
    }
}

#[derive(Subcommand)]
enum DelegationTx {
    /// Register the signer as an operator (it is self-delegated); with a consensus key it can become a validator.
    RegisterOperator {
        #[command(flatten)]
        metadata: MetadataArgs,
        /// Commission on rewards, basis points (10000 = 100%).
        #[arg(long)]
        commission_rate_bps: u32,
        /// Highest commission rate ever allowed, basis points.
        #[arg(long)]
        max_commission_rate_bps: u32,
        /// Largest change of the rate in one update (one update per 24 h), basis points.
        #[arg(long)]
        max_commission_change_rate_bps: u32,
        /// CometBFT priv_validator_key.json whose ed25519 public key becomes the consensus key.
        #[arg(long)]
        consensus_key_file: Option<PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Update the signer's operator metadata (given fields only), commission rate, or set its consensus key.
    UpdateOperator {
        #[command(flatten)]
        metadata: MetadataArgs,
        /// New commission rate, basis points.
        #[arg(long)]
        commission_rate_bps: Option<u32>,
        /// CometBFT priv_validator_key.json; only if the operator has no consensus key yet.
        #[arg(long)]
        consensus_key_file: Option<PathBuf>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Delegate all of the signer's shares to an operator.
    Delegate {
        /// Operator address (aegis1...).
        operator: String,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Queue all of the signer's shares for withdrawal and end its delegation; prints the withdrawal id.
    Undelegate {
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Undelegate, then delegate to another operator; prints the withdrawal id to complete with --as-shares.
    Redelegate {
        /// New operator address (aegis1...).
        operator: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
enum RewardsTx {
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
        /// <amount><denom>, e.g. 1000000uaegis.
        amount: String,
        /// Number of epoch ends the amount is spread over.
        epochs: u64,
        /// Strategy whose allocations earn, with its weight: DENOM=MULTIPLIER, e.g. uaegis=2 (repeatable; none = every strategy of the set at 1).
        #[arg(long = "strategy", value_name = "DENOM=MULTIPLIER")]
        strategies: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set the signer's (an operator's) commission on one AVS's rewards, in basis points (10000 = 100%).
    SetAvsCommission {
        avs_id: u64,
        bps: u32,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
enum AvsTx {
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
        /// AVS_ID/SET_ID/STRATEGY=MAGNITUDE, the magnitude a fraction from 0 to 1, e.g. 1/1/uaegis=0.5 (repeatable).
        /// Increases count after the allocation delay; decreases stay slashable for the deallocation delay.
        #[arg(long = "allocation", value_name = "AVS_ID/SET_ID/STRATEGY=MAGNITUDE", required = true)]
        allocations: Vec<String>,
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Set how long the signer's allocation increases wait before they count (applies after the configuration delay).
    SetAllocationDelay {
        seconds: u64,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
enum SlashingTx {
    /// As an operator set's slasher, slash a fraction of what OPERATOR allocated to the set (pending if the set has a veto committee).
    Slash {
        /// Operator address (aegis1...).
        operator: String,
        avs_id: u64,
        set_id: u32,
        /// Comma-separated strategy denoms to slash, e.g. uaegis,stuaegis.
        #[arg(long, value_delimiter = ',', required = true)]
        strategies: Vec<String>,
        /// Fraction of the allocation to slash, from 0 to 1, e.g. 0.5.
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
enum BankTx {
    /// Send coins, e.g. `aegisd tx bank send --from faucet aegis1... 1000uaegis`.
    Send {
        to: String,
        /// Comma-separated coins, e.g. 1000uaegis,5ustake.
        amount: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

#[derive(Subcommand)]
enum QueryCmd {
    /// Balances.
    #[command(subcommand)]
    Bank(BankQueryCmd),
    /// Strategies, deposits and queued withdrawals.
    #[command(subcommand)]
    Restaking(RestakingQueryCmd),
    /// Operators, delegations and the validator set.
    #[command(subcommand)]
    Delegation(DelegationQueryCmd),
    /// Rewards parameters, pending rewards, AVS reward submissions and commissions.
    #[command(subcommand)]
    Rewards(RewardsQueryCmd),
    /// AVSs, operator sets, allocations and the stake at risk.
    #[command(subcommand)]
    Avs(AvsQueryCmd),
    /// Pending slashes, validator signing info and slashing parameters.
    #[command(subcommand)]
    Slashing(SlashingQueryCmd),
    /// An account's number, sequence and public key.
    Account {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Subcommand)]
enum BankQueryCmd {
    /// Balances of an address (all denoms, or one with --denom).
    Balances {
        address: String,
        #[arg(long)]
        denom: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Subcommand)]
enum RestakingQueryCmd {
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

#[derive(Subcommand)]
enum DelegationQueryCmd {
    /// Blocks per epoch, max validators, power reduction.
    Params(NodeArgs),
    /// One operator: metadata, commission, consensus key, stake, voting power.
    Operator {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every operator.
    Operators(NodeArgs),
    /// The stakers delegated to an operator.
    Delegators {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The operator a staker delegates to (empty if none).
    Delegation {
        address: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The provider's validator set chosen at the last epoch end.
    Validators(NodeArgs),
}

#[derive(Subcommand)]
enum RewardsQueryCmd {
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

#[derive(Subcommand)]
enum AvsQueryCmd {
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

#[derive(Subcommand)]
enum SlashingQueryCmd {
    /// Liveness window, jail duration, slash fractions and the per-epoch slash cap.
    Params(NodeArgs),
    /// One pending slash.
    PendingSlash {
        id: u64,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every pending slash.
    PendingSlashes(NodeArgs),
    /// An operator's validator liveness and jail status.
    SigningInfo {
        operator: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// "<amount><denom>" -> (amount, denom).
fn parse_amount_denom(s: &str) -> Result<(u128, String)> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| anyhow!("{s:?} has no denom: write <amount><denom>, e.g. 1000uaegis"))?;
    let (amount, denom) = s.split_at(split);
    let amount: u128 = amount.parse().map_err(|_| anyhow!("{s:?}: write <amount><denom>, e.g. 1000uaegis"))?;
    aegis_app::types::validate_denom(denom).map_err(|e| anyhow!("{s:?}: {e}"))?;
    Ok((amount, denom.to_string()))
}

/// The ed25519 public key of a CometBFT priv_validator_key.json.
fn read_consensus_key(path: &std::path::Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let pk = &v["pub_key"];
    if pk["type"] != "tendermint/PubKeyEd25519" {
        bail!("{}: pub_key.type is {}, want tendermint/PubKeyEd25519", path.display(), pk["type"]);
    }
    let b64 = pk["value"].as_str().ok_or_else(|| anyhow!("{}: no pub_key.value", path.display()))?;
    let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).map_err(|e| anyhow!("{}: pub_key.value: {e}", path.display()))?;
    if key.len() != 32 {
        bail!("{}: ed25519 public keys are 32 bytes, got {}", path.display(), key.len());
    }
    Ok(key)
}

fn addr(s: &str) -> Result<Address> {
    Address::parse(s).map_err(|e| anyhow!("{e}"))
}

/// Each address checked, in its canonical form.
fn addrs(list: &[String]) -> Result<Vec<String>> {
    list.iter().map(|a| addr(a).map(|a| a.to_string())).collect()
}

fn denoms(list: &[String]) -> Result<Vec<String>> {
    list.iter().map(|d| aegis_app::types::validate_denom(d).map(|_| d.clone()).map_err(|e| anyhow!("{d:?}: {e}"))).collect()
}

/// A fraction from 0 to 1 written in decimal ("0.5", "1", "0.000000000000000001")
/// as a WAD integer (10^18 = 1), exactly: at most 18 decimals, nothing above 1.
fn parse_wad_fraction(s: &str) -> Result<u128> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || (s.contains('.') && frac.is_empty()) {
        bail!("{s:?} is not a decimal fraction: write e.g. 0.5, 0.25 or 1");
    }
    if frac.len() > 18 {
        bail!("{s:?} has {} decimals; at most 18 (the smallest step is 0.000000000000000001)", frac.len());
    }
    let above_one = || anyhow!("{s:?} is above 1: a fraction is between 0 and 1");
    let whole = match int.trim_start_matches('0') {
        "" => 0,
        "1" => 1,
        _ => return Err(above_one()),
    };
    let frac: u128 = format!("{frac:0<18}").parse().expect("18 digits fit u128");
    let wad = whole * WAD + frac;
    if wad > WAD {
        return Err(above_one());
    }
    Ok(wad)
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

/// `DENOM=MULTIPLIER`, e.g. `uaegis=2`.
fn parse_strategy_multiplier(s: &str) -> Result<aegis_proto::aegis::rewards::v1::StrategyMultiplier> {
    let usage = || anyhow!("strategy {s:?}: write DENOM=MULTIPLIER with a whole multiplier, e.g. uaegis=2");
    let (denom, multiplier) = s.split_once('=').ok_or_else(usage)?;
    aegis_app::types::validate_denom(denom).map_err(|e| anyhow!("strategy {s:?}: {e}"))?;
    let multiplier = multiplier.parse().map_err(|_| usage())?;
    Ok(aegis_proto::aegis::rewards::v1::StrategyMultiplier { strategy: denom.to_string(), multiplier })
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

fn read_stdin_mnemonic() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s.trim().to_string())
}

fn print_json(v: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
}

async fn run_tx(tx: &TxArgs, home: &std::path::Path, msgs: impl FnOnce(&aegis_app::signer::Signer) -> Vec<cosmrs::Any>) -> Result<()> {
    let signer = keys::Keyring::open(home).signer(&tx.from)?;
    let c = client::GrpcClient::connect(&tx.node.grpc).await?;
    let msgs = msgs(&signer);
    submit(tx, &c, &signer, msgs).await
}

/// Sign, broadcast and (unless --no-wait) wait for the block; print the
/// result with the decoded message responses.
async fn submit(tx: &TxArgs, c: &client::GrpcClient, signer: &aegis_app::signer::Signer, msgs: Vec<cosmrs::Any>) -> Result<()> {
    let gas_price = MinGasPrice::parse(&tx.gas_prices).map_err(|e| anyhow!("--gas-prices: {e}"))?;
    let wait = (!tx.no_wait).then_some(Duration::from_secs(30));
    let r = c.sign_and_broadcast(signer, msgs, tx.gas, &gas_price, &tx.memo, wait).await?;
    if r.height == 0 {
        // CheckTx's answer: rejected, or accepted with --no-wait.
        print_json(serde_json::json!({"txhash": r.txhash, "code": r.code, "codespace": r.codespace, "raw_log": r.raw_log}));
        if r.code != 0 {
            bail!("rejected by CheckTx: {} (code {} in {})", r.raw_log, r.code, r.codespace);
        }
        return Ok(());
    }
    let responses: Vec<_> = client::msg_responses(&r)?.iter().map(render::msg_response).collect();
    print_json(serde_json::json!({
        "txhash": r.txhash, "height": r.height, "code": r.code, "codespace": r.codespace,
        "raw_log": r.raw_log, "gas_wanted": r.gas_wanted, "gas_used": r.gas_used, "responses": responses,
    }));
    if r.code != 0 {
        bail!("tx failed: {} (code {} in {})", r.raw_log, r.code, r.codespace);
    }
    Ok(())
}

async fn restaking_tx(cmd: RestakingTx, home: &std::path::Path) -> Result<()> {
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

async fn delegation_tx(cmd: DelegationTx, home: &std::path::Path) -> Result<()> {
    use aegis_app::delegation::msgs::{MSG_DELEGATE_URL, MSG_REDELEGATE_URL, MSG_REGISTER_OPERATOR_URL, MSG_UNDELEGATE_URL, MSG_UPDATE_OPERATOR_URL};
    use aegis_proto::aegis::delegation::v1 as pb;
    match cmd {
        DelegationTx::RegisterOperator { metadata, commission_rate_bps, max_commission_rate_bps, max_commission_change_rate_bps, consensus_key_file, tx } => {
            let consensus_pubkey = consensus_key_file.as_deref().map(read_consensus_key).transpose()?.unwrap_or_default();
            run_tx(&tx, home, |s| {
                vec![pack(
                    MSG_REGISTER_OPERATOR_URL,
                    &pb::MsgRegisterOperator {
                        operator: s.address.to_string(),
                        metadata: Some(metadata.merged(OperatorMetadata::default())),
                        commission_rate_bps,
                        max_commission_rate_bps,
                        max_commission_change_rate_bps,
                        consensus_pubkey,
                    },
                )]
            })
            .await
        }
        DelegationTx::UpdateOperator { metadata, commission_rate_bps, consensus_key_file, tx } => {
            let consensus_pubkey = consensus_key_file.as_deref().map(read_consensus_key).transpose()?.unwrap_or_default();
            let signer = keys::Keyring::open(home).signer(&tx.from)?;
            let c = client::GrpcClient::connect(&tx.node.grpc).await?;
            // Metadata is replaced as a whole on chain: start from the current one.
            let metadata = if metadata.is_empty() {
                None
            } else {
                let current = c.delegation().operator(pb::QueryOperatorRequest { operator: signer.address.to_string() }).await?.into_inner();
                Some(metadata.merged(current.operator.and_then(|o| o.metadata).unwrap_or_default()))
            };
            if metadata.is_none() && commission_rate_bps.is_none() && consensus_pubkey.is_empty() {
                bail!("nothing to update: give metadata flags, --commission-rate-bps or --consensus-key-file");
            }
            let msg = pack(MSG_UPDATE_OPERATOR_URL, &pb::MsgUpdateOperator { operator: signer.address.to_string(), metadata, commission_rate_bps, consensus_pubkey });
            submit(&tx, &c, &signer, vec![msg]).await
        }
        DelegationTx::Delegate { operator, tx } => {
            let operator = addr(&operator)?.to_string();
            run_tx(&tx, home, |s| vec![pack(MSG_DELEGATE_URL, &pb::MsgDelegate { staker: s.address.to_string(), operator })]).await
        }
        DelegationTx::Undelegate { tx } => run_tx(&tx, home, |s| vec![pack(MSG_UNDELEGATE_URL, &pb::MsgUndelegate { staker: s.address.to_string() })]).await,
        DelegationTx::Redelegate { operator, tx } => {
            let new_operator = addr(&operator)?.to_string();
            run_tx(&tx, home, |s| vec![pack(MSG_REDELEGATE_URL, &pb::MsgRedelegate { staker: s.address.to_string(), new_operator })]).await
        }
    }
}

async fn avs_tx(cmd: AvsTx, home: &std::path::Path) -> Result<()> {
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

async fn slashing_tx(cmd: SlashingTx, home: &std::path::Path) -> Result<()> {
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

async fn rewards_tx(cmd: RewardsTx, home: &std::path::Path) -> Result<()> {
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

/// Every item of a paginated query, fetched 100 at a time: `fetch` sends
/// one request for a page and returns its items and page response.
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(Option<PageRequest>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<PageResponse>), tonic::Status>>,
{
    let (mut all, mut key) = (vec![], vec![]);
    loop {
        let (items, page) = fetch(Some(PageRequest { key: key.clone(), limit: 100, ..Default::default() })).await?;
        all.extend(items);
        key = page.map(|p| p.next_key).unwrap_or_default();
        if key.is_empty() {
            return Ok(all);
        }
    }
}

async fn avs_query(cmd: AvsQueryCmd) -> Result<()> {
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

async fn slashing_query(cmd: SlashingQueryCmd) -> Result<()> {
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
        SlashingQueryCmd::SigningInfo { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.slashing().signing_info(pb::QuerySigningInfoRequest { operator }).await?.into_inner();
            print_json(serde_json::json!({"info": r.info.as_ref().map(render::signing_info)}));
        }
    }
    Ok(())
}

async fn restaking_query(cmd: RestakingQueryCmd) -> Result<()> {
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

async fn delegation_query(cmd: DelegationQueryCmd) -> Result<()> {
    use aegis_proto::aegis::delegation::v1 as pb;
    use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
    let page = |key: &[u8]| Some(PageRequest { key: key.to_vec(), limit: 100, ..Default::default() });
    match cmd {
        DelegationQueryCmd::Params(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().params(pb::QueryParamsRequest {}).await?.into_inner();
            print_json(serde_json::json!({"params": r.params.as_ref().map(render::delegation_params)}));
        }
        DelegationQueryCmd::Operator { address, node } => {
            let operator = addr(&address)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().operator(pb::QueryOperatorRequest { operator }).await?.into_inner();
            print_json(serde_json::json!({"operator": r.operator.as_ref().map(render::operator)}));
        }
        DelegationQueryCmd::Operators(node) => {
            let mut q = client::GrpcClient::connect(&node.grpc).await?.delegation();
            let (mut all, mut key) = (vec![], vec![]);
            loop {
                let r = q.operators(pb::QueryOperatorsRequest { pagination: page(&key) }).await?.into_inner();
                all.extend(r.operators.iter().map(render::operator));
                key = r.pagination.map(|p| p.next_key).unwrap_or_default();
                if key.is_empty() {
                    break;
                }
            }
            print_json(serde_json::json!({"operators": all}));
        }
        DelegationQueryCmd::Delegators { operator, node } => {
            let operator = addr(&operator)?.to_string();
            let mut q = client::GrpcClient::connect(&node.grpc).await?.delegation();
            let (mut all, mut key) = (vec![], vec![]);
            loop {
                let r = q.operator_delegators(pb::QueryOperatorDelegatorsRequest { operator: operator.clone(), pagination: page(&key) }).await?.into_inner();
                all.extend(r.delegators);
                key = r.pagination.map(|p| p.next_key).unwrap_or_default();
                if key.is_empty() {
                    break;
                }
            }
            print_json(serde_json::json!({"operator": operator, "delegators": all}));
        }
        DelegationQueryCmd::Delegation { address, node } => {
            let staker = addr(&address)?.to_string();
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().delegation(pb::QueryDelegationRequest { staker: staker.clone() }).await?.into_inner();
            print_json(serde_json::json!({"staker": staker, "operator": r.operator}));
        }
        DelegationQueryCmd::Validators(node) => {
            let r = client::GrpcClient::connect(&node.grpc).await?.delegation().validator_set(pb::QueryValidatorSetRequest {}).await?.into_inner();
            print_json(render::validator_set(&r));
        }
    }
    Ok(())
}

async fn rewards_query(cmd: RewardsQueryCmd) -> Result<()> {
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

async fn run(cli: Cli) -> Result<()> {
    let home = config::expand_home(&cli.home);
    match cli.cmd {
        Cmd::Init { chain_id, base_port } => testnet::init(&home, &chain_id, base_port),
        Cmd::Start => start::start(&home).await,
        Cmd::Testnet(TestnetCmd::Generate { validators, output, chain_id, base_port }) => testnet::generate(validators, &output, &chain_id, base_port),
        Cmd::Keys(k) => {
            let kr = keys::Keyring::open(&home);
            match k {
                KeysCmd::Add { name, recover } => {
                    let mnemonic = if recover {
                        read_stdin_mnemonic()?
                    } else {
                        let mut entropy = [0u8; 32];
                        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy);
                        aegis_app::signer::Signer::generate_mnemonic(entropy)
                    };
                    let s = kr.store(&name, &mnemonic)?;
                    if recover {
                        print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
                    } else {
                        print_json(serde_json::json!({"name": name, "address": s.address.to_string(), "mnemonic": mnemonic}));
                        eprintln!("Write the mnemonic down: it is the only way to recover this key.");
                    }
                    Ok(())
                }
                KeysCmd::Import { name } => {
                    let s = kr.store(&name, &read_stdin_mnemonic()?)?;
                    print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
                    Ok(())
                }
                KeysCmd::Export { name } => {
                    eprintln!("Anyone with this mnemonic controls the account.");
                    println!("{}", kr.mnemonic(&name)?);
                    Ok(())
                }
                KeysCmd::List => {
                    let keys: Vec<_> = kr.list()?.into_iter().map(|(n, a)| serde_json::json!({"name": n, "address": a})).collect();
                    print_json(serde_json::Value::Array(keys));
                    Ok(())
                }
                KeysCmd::Show { name } => {
                    println!("{}", kr.signer(&name)?.address);
                    Ok(())
                }
            }
        }
        Cmd::Tx(TxCmd::Bank(BankTx::Send { to, amount, tx })) => {
            let to = Address::parse(&to).map_err(|e| anyhow!("{e}"))?;
            let coins = parse_coins(&amount)?;
            if coins.is_empty() {
                bail!("nothing to send");
            }
            let coins: Vec<_> = coins.iter().cloned().collect();
            run_tx(&tx, &home, |s| vec![s.msg_send(&to, &coins)]).await
        }
        Cmd::Tx(TxCmd::Restaking(cmd)) => restaking_tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Delegation(cmd)) => delegation_tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Rewards(cmd)) => rewards_tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Avs(cmd)) => avs_tx(cmd, &home).await,
        Cmd::Tx(TxCmd::Slashing(cmd)) => slashing_tx(cmd, &home).await,
        Cmd::Query(QueryCmd::Restaking(cmd)) => restaking_query(cmd).await,
        Cmd::Query(QueryCmd::Delegation(cmd)) => delegation_query(cmd).await,
        Cmd::Query(QueryCmd::Rewards(cmd)) => rewards_query(cmd).await,
        Cmd::Query(QueryCmd::Avs(cmd)) => avs_query(cmd).await,
        Cmd::Query(QueryCmd::Slashing(cmd)) => slashing_query(cmd).await,
        Cmd::Query(QueryCmd::Bank(BankQueryCmd::Balances { address, denom, node })) => {
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
        Cmd::Query(QueryCmd::Account { address, node }) => {
            let addr = Address::parse(&address).map_err(|e| anyhow!("{e}"))?;
            let c = client::GrpcClient::connect(&node.grpc).await?;
            let acc = c.account(&addr).await?.ok_or_else(|| anyhow!("account {addr} not found"))?;
            let pk = acc.pub_key.map(|k| {
                let key = <cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as prost::Message>::decode(k.value.as_slice()).map(|p| p.key).unwrap_or_default();
                serde_json::json!({"@type": k.type_url, "key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)})
            });
            print_json(serde_json::json!({"address": acc.address, "account_number": acc.account_number.to_string(), "sequence": acc.sequence.to_string(), "pub_key": pk}));
            Ok(())
        }
        Cmd::Status(node) => {
            use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{service_client::ServiceClient, GetLatestBlockRequest, GetNodeInfoRequest, GetSyncingRequest};
            let c = client::GrpcClient::connect(&node.grpc).await?;
            let mut tm = ServiceClient::new(c_channel(&c));
            let info = tm.get_node_info(GetNodeInfoRequest {}).await?.into_inner();
            let syncing = tm.get_syncing(GetSyncingRequest {}).await?.into_inner().syncing;
            let block = tm.get_latest_block(GetLatestBlockRequest {}).await?.into_inner();
            let header = block.block.and_then(|b| b.header);
            let n = info.default_node_info.unwrap_or_default();
            print_json(serde_json::json!({
                "chain_id": n.network, "moniker": n.moniker, "node_id": n.default_node_id,
                "latest_block_height": header.as_ref().map(|h| h.height).unwrap_or(0).to_string(),
                "latest_app_hash": header.as_ref().map(|h| hex::encode_upper(&h.app_hash)).unwrap_or_default(),
                "catching_up": syncing,
                "app_version": info.application_version.map(|v| v.version).unwrap_or_default(),
            }));
            Ok(())
        }
    }
}

fn c_channel(c: &client::GrpcClient) -> tonic::transport::Channel {
    c.channel()
}

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("AEGIS_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = rt.block_on(run(cli)) {
        match e.downcast_ref::<tonic::Status>() {
            // A query the node refused: its code and message, not the metadata.
            Some(s) => eprintln!("Error: {:?}: {}", s.code(), s.message()),
            None => eprintln!("Error: {e:#}"),
        }
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_become_exact_wad_integers() {
        for (text, wad) in [
            ("1", WAD),
            ("1.0", WAD),
            ("01.000000000000000000", WAD),
            ("0", 0),
            ("0.0", 0),
            ("0.5", 500_000_000_000_000_000),
            ("0.25", 250_000_000_000_000_000),
            ("0.333333333333333333", 333_333_333_333_333_333),
            ("0.000000000000000001", 1),
            ("0.999999999999999999", WAD - 1),
        ] {
            assert_eq!(parse_wad_fraction(text).unwrap(), wad, "{text}");
        }
    }

    #[test]
    fn fractions_above_one_or_malformed_are_rejected_with_the_reason() {
        for (text, reason) in [
            ("1.000000000000000001", "above 1"),
            ("2", "above 1"),
            ("10", "above 1"),
            ("340282366920938463463374607431768211456", "above 1"),
            ("0.0000000000000000001", "at most 18"),
            ("0.5000000000000000000", "at most 18"),
            ("", "not a decimal fraction"),
            (".5", "not a decimal fraction"),
            ("5.", "not a decimal fraction"),
            ("-0.5", "not a decimal fraction"),
            ("+0.5", "not a decimal fraction"),
            ("0,5", "not a decimal fraction"),
            ("1e-1", "not a decimal fraction"),
            (" 0.5", "not a decimal fraction"),
            ("0.5.1", "not a decimal fraction"),
            ("50%", "not a decimal fraction"),
        ] {
            let err = parse_wad_fraction(text).unwrap_err().to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
    }

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

    #[test]
    fn strategy_multiplier_is_a_denom_and_a_whole_weight() {
        let m = parse_strategy_multiplier("uaegis=2").unwrap();
        assert_eq!((m.strategy.as_str(), m.multiplier), ("uaegis", 2));
        for bad in ["uaegis", "uaegis=1.5", "=2", "uaegis=-1"] {
            assert!(parse_strategy_multiplier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
