//! The consumer genesis in ICS's JSON form.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------
// Consumer genesis
// ---------------------------------------------------------------------------

/// ICS `ConsumerGenesisState`: what a consumer chain starts from.
///
/// `pre_ccv` (JSON `preCCV`), `connection_id` and `params.consumer_id` exist
/// from ICS v6.2 on. ICS decodes genesis strictly, so a consumer older than
/// v6.2 refuses them and a newer one needs `consumer_id`: `None` leaves a
/// field out of the JSON. They have no place in ibc-proto's (v6.1-shaped)
/// prost types, so `to_proto` drops them and `from_proto` gives `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerGenesis {
    pub params: ConsumerParams,
    pub provider: ProviderInfo,
    /// True for a new chain (ICS always sets it), false for a restart.
    #[serde(alias = "newChain")]
    pub new_chain: bool,
    #[serde(rename = "preCCV", default, skip_serializing_if = "Option::is_none")]
    pub pre_ccv: Option<bool>,
    #[serde(alias = "connectionId", default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

/// What the consumer needs from the provider: a light client of it and the
/// validator set to start with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInfo {
    /// The provider's 07-tendermint client state (`null` on a restart).
    #[serde(alias = "clientState", with = "tm_client_state_json")]
    pub client_state: Option<RawTmClientState>,
    /// The provider's consensus state at the client's latest height.
    #[serde(alias = "consensusState", with = "tm_consensus_state_json")]
    pub consensus_state: Option<RawTmConsensusState>,
    #[serde(alias = "initialValSet")]
    pub initial_val_set: Vec<ValidatorUpdate>,
}

// The prost types derive only PartialEq; their contents have no floats.
impl Eq for ProviderInfo {}

/// ICS `ConsumerParams`. Durations are whole `std::time::Duration`s (ICS's
/// are Go `time.Duration`s, which it validates positive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerParams {
    /// Whether the consumer module runs (ICS: an integration-test switch;
    /// a real consumer genesis has it true).
    pub enabled: bool,
    /// Blocks between reward transfers to the provider.
    #[serde(alias = "blocksPerDistributionTransmission", with = "json_str_int")]
    pub blocks_per_distribution_transmission: i64,
    /// The transfer channel rewards go over; "" = the consumer opens one.
    #[serde(alias = "distributionTransmissionChannel")]
    pub distribution_transmission_channel: String,
    /// The provider address rewards go to; set by the handshake.
    #[serde(alias = "providerFeePoolAddrStr")]
    pub provider_fee_pool_addr_str: String,
    /// Timeout of CCV packets.
    #[serde(alias = "ccvTimeoutPeriod", with = "json_std_duration")]
    pub ccv_timeout_period: Duration,
    /// Timeout of reward transfer packets.
    #[serde(alias = "transferTimeoutPeriod", with = "json_std_duration")]
    pub transfer_timeout_period: Duration,
    /// Share of rewards the consumer keeps, a decimal in [0, 1] ("0.75").
    #[serde(alias = "consumerRedistributionFraction", deserialize_with = "de_fraction")]
    pub consumer_redistribution_fraction: String,
    /// Historical info entries the consumer keeps (staking's parameter).
    #[serde(alias = "historicalEntries", with = "json_str_int")]
    pub historical_entries: i64,
    /// The consumer's unbonding period, shorter than the provider's.
    #[serde(alias = "unbondingPeriod", with = "json_std_duration")]
    pub unbonding_period: Duration,
    /// Deprecated (partial set security replaced it); ICS writes "0".
    #[serde(alias = "softOptOutThreshold")]
    pub soft_opt_out_threshold: String,
    /// Consumer denoms that may be sent to the provider as rewards.
    #[serde(alias = "rewardDenoms", deserialize_with = "de_vec_or_null")]
    pub reward_denoms: Vec<String>,
    /// Provider denoms that may be used as rewards.
    #[serde(alias = "providerRewardDenoms", deserialize_with = "de_vec_or_null")]
    pub provider_reward_denoms: Vec<String>,
    /// After this long a consumer retries a bounced (throttled) slash packet.
    #[serde(alias = "retryDelayPeriod", with = "json_std_duration")]
    pub retry_delay_period: Duration,
    /// The consumer's id on the provider, a decimal u64 (ICS >= v6.2).
    #[serde(alias = "consumerId", default, skip_serializing_if = "Option::is_none")]
    pub consumer_id: Option<String>,
}

impl Default for ConsumerParams {
    /// ICS's `DefaultParams()`, except `consumer_id`: ICS v7 writes "0",
    /// which consumers before v6.2 refuse as an unknown field; `None` here.
    fn default() -> Self {
        const HOUR: u64 = 3600;
        const DAY: u64 = 24 * HOUR;
        ConsumerParams {
            enabled: false,
            blocks_per_distribution_transmission: 1000,
            distribution_transmission_channel: String::new(),
            provider_fee_pool_addr_str: String::new(),
            ccv_timeout_period: Duration::from_secs(28 * DAY),
            transfer_timeout_period: Duration::from_secs(HOUR),
            consumer_redistribution_fraction: "0.75".into(),
            historical_entries: 10_000,
            // The SDK's default unbonding time (21 days) less one day.
            unbonding_period: Duration::from_secs(20 * DAY),
            soft_opt_out_threshold: "0".into(),
            reward_denoms: Vec::new(),
            provider_reward_denoms: Vec::new(),
            retry_delay_period: Duration::from_secs(HOUR),
            consumer_id: None,
        }
    }
}

impl ConsumerGenesis {
    pub fn to_proto(&self) -> raw::ConsumerGenesisState {
        let p = &self.params;
        #[allow(deprecated)]
        let params = raw::ConsumerParams {
            enabled: p.enabled,
            blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
            distribution_transmission_channel: p.distribution_transmission_channel.clone(),
            provider_fee_pool_addr_str: p.provider_fee_pool_addr_str.clone(),
            ccv_timeout_period: Some(std_to_raw_duration(p.ccv_timeout_period)),
            transfer_timeout_period: Some(std_to_raw_duration(p.transfer_timeout_period)),
            consumer_redistribution_fraction: p.consumer_redistribution_fraction.clone(),
            historical_entries: p.historical_entries,
            unbonding_period: Some(std_to_raw_duration(p.unbonding_period)),
            soft_opt_out_threshold: p.soft_opt_out_threshold.clone(),
            reward_denoms: p.reward_denoms.clone(),
            provider_reward_denoms: p.provider_reward_denoms.clone(),
            retry_delay_period: Some(std_to_raw_duration(p.retry_delay_period)),
        };
        let provider = raw::ProviderInfo {
            client_state: self.provider.client_state.clone(),
            consensus_state: self.provider.consensus_state.clone(),
            initial_val_set: self
                .provider
                .initial_val_set
                .iter()
                .map(|u| tendermint_proto::abci::ValidatorUpdate {
                    pub_key: Some(tendermint_proto::crypto::PublicKey {
                        sum: Some(tendermint_proto::crypto::public_key::Sum::Ed25519(u.pubkey.to_vec())),
                    }),
                    power: u.power,
                })
                .collect(),
        };
        raw::ConsumerGenesisState { params: Some(params), provider: Some(provider), new_chain: self.new_chain }
    }

    /// Refuses what the JSON decoding refuses: missing params or provider,
    /// negative durations, non-ed25519 keys, negative powers.
    pub fn from_proto(proto: raw::ConsumerGenesisState) -> Result<ConsumerGenesis, String> {
        let p = proto.params.ok_or("consumer genesis: params missing")?;
        let provider = proto.provider.ok_or("consumer genesis: provider missing")?;
        let dur = |d: Option<RawDuration>, what: &str| -> Result<Duration, String> {
            raw_to_std_duration(d.unwrap_or_default()).map_err(|e| format!("consumer params {what}: {e}"))
        };
        check_fraction(&p.consumer_redistribution_fraction)
            .map_err(|e| format!("consumer params consumer_redistribution_fraction: {e}"))?;
        #[allow(deprecated)]
        let params = ConsumerParams {
            enabled: p.enabled,
            blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
            distribution_transmission_channel: p.distribution_transmission_channel,
            provider_fee_pool_addr_str: p.provider_fee_pool_addr_str,
            ccv_timeout_period: dur(p.ccv_timeout_period, "ccv_timeout_period")?,
            transfer_timeout_period: dur(p.transfer_timeout_period, "transfer_timeout_period")?,
            consumer_redistribution_fraction: p.consumer_redistribution_fraction,
            historical_entries: p.historical_entries,
            unbonding_period: dur(p.unbonding_period, "unbonding_period")?,
            soft_opt_out_threshold: p.soft_opt_out_threshold,
            reward_denoms: p.reward_denoms,
            provider_reward_denoms: p.provider_reward_denoms,
            retry_delay_period: dur(p.retry_delay_period, "retry_delay_period")?,
            consumer_id: None,
        };
        let initial_val_set = provider
            .initial_val_set
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let what = format!("consumer genesis initial_val_set[{i}]");
                let pubkey = match u.pub_key.and_then(|k| k.sum) {
                    Some(tendermint_proto::crypto::public_key::Sum::Ed25519(k)) => {
                        <[u8; 32]>::try_from(k.as_slice())
                            .map_err(|_| format!("{what}: ed25519 pub_key is {} bytes, want 32", k.len()))?
                    }
                    Some(_) => return Err(format!("{what}: pub_key is secp256k1; only ed25519 keys are supported")),
                    None => return Err(format!("{what}: pub_key missing")),
                };
                if u.power < 0 {
                    return Err(format!("{what}: negative power {}", u.power));
                }
                Ok(ValidatorUpdate { pubkey, power: u.power })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ConsumerGenesis {
            params,
            provider: ProviderInfo {
                client_state: provider.client_state,
                consensus_state: provider.consensus_state,
                initial_val_set,
            },
            new_chain: proto.new_chain,
            pre_ccv: None,
            connection_id: None,
        })
    }
}

impl Serialize for ValidatorUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Key {
            ed25519: String,
        }
        #[derive(Serialize)]
        struct Update {
            pub_key: Key,
            power: String,
        }
        Update { pub_key: Key { ed25519: B64.encode(self.pubkey) }, power: self.power.to_string() }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ValidatorUpdate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        validator_update_from_json(&v, "validator update").map_err(de::Error::custom)
    }
}

pub(super) fn std_to_raw_duration(d: Duration) -> RawDuration {
    // Seconds beyond i64 cannot come from JSON or proto; saturate anyway.
    RawDuration { seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: d.subsec_nanos() as i32 }
}

pub(super) fn raw_to_std_duration(d: RawDuration) -> Result<Duration, String> {
    if d.seconds < 0 || d.nanos < 0 || d.nanos >= 1_000_000_000 {
        return Err(format!("duration {}s {}ns is negative or malformed", d.seconds, d.nanos));
    }
    Ok(Duration::new(d.seconds as u64, d.nanos as u32))
}

/// Go's `LegacyDec` string form, checked as ICS's `ValidateStringFraction`
/// would: digits, optionally a point and 1..=18 digits, between 0 and 1.
pub(super) fn check_fraction(s: &str) -> Result<(), String> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (s.contains('.') && (!digits(frac) || frac.len() > 18)) {
        return Err(format!("{s:?} is not a decimal such as \"0.75\""));
    }
    let int_val = int.trim_start_matches('0');
    let over_one = match int_val {
        "" => false,
        "1" => frac.bytes().any(|b| b != b'0'),
        _ => true,
    };
    if over_one {
        return Err(format!("{s:?} is greater than 1"));
    }
    Ok(())
}

pub(super) fn de_fraction<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_fraction(&s).map_err(de::Error::custom)?;
    Ok(s)
}

pub(super) fn de_vec_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// jsonpb's 64-bit integers: written as strings, read as strings or numbers.
pub(super) mod json_str_int {
    use super::*;

    pub fn serialize<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr + TryFrom<i64> + TryFrom<u64>,
        D: Deserializer<'de>,
    {
        d.deserialize_any(IntVisitor::<T>(PhantomData))
    }
}

/// proto3 JSON's 32-bit integers: written as numbers, read either way.
pub(super) mod json_num_int {
    use super::*;

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr + TryFrom<i64> + TryFrom<u64>,
        D: Deserializer<'de>,
    {
        d.deserialize_any(IntVisitor::<T>(PhantomData))
    }
}

pub(super) struct IntVisitor<T>(PhantomData<T>);

impl<T: FromStr + TryFrom<i64> + TryFrom<u64>> Visitor<'_> for IntVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an integer ({}), as a string or a number", std::any::type_name::<T>())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(|_| E::custom(format!("{v:?} is not an integer of type {}", std::any::type_name::<T>())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for {}", std::any::type_name::<T>())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for {}", std::any::type_name::<T>())))
    }
}

/// Params durations: "1728000s" (proto3 JSON, as Go's jsonpb writes it).
pub(super) mod json_std_duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(std_to_raw_duration(*v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).and_then(raw_to_std_duration).map_err(de::Error::custom)
    }
}

/// jsonpb's Duration: seconds with 0, 3, 6 or 9 fractional digits, then "s".
pub(super) fn format_duration(d: RawDuration) -> String {
    let sign = if d.seconds < 0 || d.nanos < 0 { "-" } else { "" };
    let x = format!("{sign}{}.{:09}", d.seconds.unsigned_abs(), d.nanos.unsigned_abs());
    format!("{}s", trim_fraction(&x))
}

pub(super) fn trim_fraction(x: &str) -> &str {
    let x = x.strip_suffix("000").unwrap_or(x);
    let x = x.strip_suffix("000").unwrap_or(x);
    x.strip_suffix(".000").unwrap_or(x)
}

pub(super) fn parse_duration(s: &str) -> Result<RawDuration, String> {
    let bad = || format!("{s:?} is not a duration such as \"1728000s\"");
    let body = s.strip_suffix('s').ok_or_else(bad)?;
    let (neg, body) = match body.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || (body.contains('.') && (!digits(frac) || frac.len() > 9)) {
        return Err(bad());
    }
    let seconds: i64 = secs.parse().map_err(|_| bad())?;
    let nanos: i32 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().map_err(|_| bad())? };
    // Go's jsonpb bound: 10,000 years.
    if seconds > 315_576_000_000 {
        return Err(bad());
    }
    Ok(if neg { RawDuration { seconds: -seconds, nanos: -nanos } } else { RawDuration { seconds, nanos } })
}

/// jsonpb's Timestamp: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
pub(super) fn format_timestamp(t: &RawTimestamp) -> Result<String, String> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(format!("timestamp nanos {} out of range", t.nanos));
    }
    let days = t.seconds.div_euclid(86_400);
    let rem = t.seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return Err(format!("timestamp {}s is outside years 0-9999", t.seconds));
    }
    let x = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}", rem / 3600, rem % 3600 / 60, rem % 60, t.nanos);
    Ok(format!("{}Z", trim_fraction(&x)))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(super) fn parse_timestamp(s: &str) -> Result<RawTimestamp, String> {
    let t = tendermint::Time::parse_from_rfc3339(s).map_err(|e| format!("{s:?} is not an RFC 3339 timestamp: {e}"))?;
    Ok(t.into())
}

// The 07-tendermint client and consensus states in the form ICS prints
// them (gogoproto jsonpb, snake_case): 64-bit integers as strings, 32-bit as
// numbers, enums by name, a nil `empty_child` as null and the consensus
// state's `next_validators_hash` as upper-case hex (it is a CometBFT
// `HexBytes`, whose MarshalJSON jsonpb defers to). Input may also be
// proto3 JSON (camelCase names, defaults omitted, the hash in base64).

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct TmClientStateJson {
    #[serde(alias = "chainId")]
    chain_id: String,
    #[serde(alias = "trustLevel")]
    trust_level: FractionJson,
    #[serde(alias = "trustingPeriod", with = "json_raw_duration")]
    trusting_period: RawDuration,
    #[serde(alias = "unbondingPeriod", with = "json_raw_duration")]
    unbonding_period: RawDuration,
    #[serde(alias = "maxClockDrift", with = "json_raw_duration")]
    max_clock_drift: RawDuration,
    #[serde(alias = "frozenHeight")]
    frozen_height: HeightJson,
    #[serde(alias = "latestHeight")]
    latest_height: HeightJson,
    #[serde(alias = "proofSpecs", deserialize_with = "de_null_default")]
    proof_specs: Vec<ProofSpecJson>,
    #[serde(alias = "upgradePath", deserialize_with = "de_null_default")]
    upgrade_path: Vec<String>,
    #[serde(alias = "allowUpdateAfterExpiry")]
    allow_update_after_expiry: bool,
    #[serde(alias = "allowUpdateAfterMisbehaviour")]
    allow_update_after_misbehaviour: bool,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct FractionJson {
    #[serde(with = "json_str_int")]
    numerator: u64,
    #[serde(with = "json_str_int")]
    denominator: u64,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct HeightJson {
    #[serde(alias = "revisionNumber", with = "json_str_int")]
    revision_number: u64,
    #[serde(alias = "revisionHeight", with = "json_str_int")]
    revision_height: u64,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ProofSpecJson {
    #[serde(alias = "leafSpec", deserialize_with = "de_null_default")]
    leaf_spec: LeafOpJson,
    #[serde(alias = "innerSpec", deserialize_with = "de_null_default")]
    inner_spec: InnerSpecJson,
    #[serde(alias = "maxDepth", with = "json_num_int")]
    max_depth: i32,
    #[serde(alias = "minDepth", with = "json_num_int")]
    min_depth: i32,
    #[serde(alias = "prehashKeyBeforeComparison")]
    prehash_key_before_comparison: bool,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct LeafOpJson {
    #[serde(with = "json_hash_op")]
    hash: i32,
    #[serde(alias = "prehashKey", with = "json_hash_op")]
    prehash_key: i32,
    #[serde(alias = "prehashValue", with = "json_hash_op")]
    prehash_value: i32,
    #[serde(with = "json_length_op")]
    length: i32,
    #[serde(with = "json_b64_bytes")]
    prefix: Vec<u8>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct InnerSpecJson {
    #[serde(alias = "childOrder", deserialize_with = "de_i32_vec")]
    child_order: Vec<i32>,
    #[serde(alias = "childSize", with = "json_num_int")]
    child_size: i32,
    #[serde(alias = "minPrefixLength", with = "json_num_int")]
    min_prefix_length: i32,
    #[serde(alias = "maxPrefixLength", with = "json_num_int")]
    max_prefix_length: i32,
    #[serde(alias = "emptyChild", with = "json_b64_bytes")]
    empty_child: Vec<u8>,
    #[serde(with = "json_hash_op")]
    hash: i32,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct TmConsensusStateJson {
    #[serde(with = "json_timestamp")]
    timestamp: RawTimestamp,
    root: MerkleRootJson,
    #[serde(alias = "nextValidatorsHash", with = "json_hex_bytes")]
    next_validators_hash: Vec<u8>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct MerkleRootJson {
    #[serde(with = "json_b64_bytes")]
    hash: Vec<u8>,
}

pub(super) fn de_null_default<'de, T: Deserialize<'de> + Default, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(super) fn de_i32_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i32>, D::Error> {
    #[derive(Deserialize)]
    struct I(#[serde(with = "json_num_int")] i32);
    Ok(Option::<Vec<I>>::deserialize(d)?.unwrap_or_default().into_iter().map(|I(i)| i).collect())
}

pub(super) mod json_raw_duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &RawDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RawDuration, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(RawDuration::default()),
            Some(s) => parse_duration(&s).map_err(de::Error::custom),
        }
    }
}

pub(super) mod json_timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(v: &RawTimestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(v).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RawTimestamp, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(RawTimestamp::default()),
            Some(s) => parse_timestamp(&s).map_err(de::Error::custom),
        }
    }
}

/// Bytes as jsonpb writes a Go `[]byte`: base64, and an empty (nil) one as null.
pub(super) mod json_b64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if v.is_empty() {
            s.serialize_none()
        } else {
            s.serialize_str(&B64.encode(v))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(s) => B64.decode(&s).map_err(|e| de::Error::custom(format!("{s:?} is not base64: {e}"))),
        }
    }
}

/// CometBFT `HexBytes`: upper-case hex out; hex (either case) or, from
/// proto3 JSON, base64 in.
pub(super) mod json_hex_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        hex::decode(&s)
            .or_else(|_| B64.decode(&s))
            .map_err(|_| de::Error::custom(format!("{s:?} is neither hex nor base64")))
    }
}

macro_rules! proto_enum_json {
    ($module:ident, $enum:ty, $what:literal) => {
        mod $module {
            use super::*;

            pub fn serialize<S: Serializer>(v: &i32, s: S) -> Result<S::Ok, S::Error> {
                // jsonpb writes an unknown value as its bare number.
                match <$enum>::try_from(*v) {
                    Ok(e) => s.serialize_str(e.as_str_name()),
                    Err(_) => s.serialize_i32(*v),
                }
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
                match Option::<Value>::deserialize(d)? {
                    None => Ok(0),
                    Some(Value::String(name)) => <$enum>::from_str_name(&name)
                        .map(|e| e as i32)
                        .ok_or_else(|| de::Error::custom(format!("unknown {} {name:?}", $what))),
                    Some(Value::Number(n)) => n
                        .as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| de::Error::custom(format!("{} {n} out of range", $what))),
                    Some(other) => Err(de::Error::custom(format!("{} must be a name or number, not {other}", $what))),
                }
            }
        }
    };
}

proto_enum_json!(json_hash_op, HashOp, "ics23 hash op");
proto_enum_json!(json_length_op, LengthOp, "ics23 length op");

pub(super) mod tm_client_state_json {
    use super::*;

    #[allow(deprecated)] // ibc-go still writes the two allow_update_* flags
    pub fn serialize<S: Serializer>(v: &Option<RawTmClientState>, s: S) -> Result<S::Ok, S::Error> {
        let Some(cs) = v else {
            return s.serialize_none();
        };
        let dur = |d: &Option<RawDuration>| d.unwrap_or_default();
        let height = |h: &Option<RawHeight>| {
            let h = h.unwrap_or_default();
            HeightJson { revision_number: h.revision_number, revision_height: h.revision_height }
        };
        let trust = cs.trust_level.unwrap_or_default();
        TmClientStateJson {
            chain_id: cs.chain_id.clone(),
            trust_level: FractionJson { numerator: trust.numerator, denominator: trust.denominator },
            trusting_period: dur(&cs.trusting_period),
            unbonding_period: dur(&cs.unbonding_period),
            max_clock_drift: dur(&cs.max_clock_drift),
            frozen_height: height(&cs.frozen_height),
            latest_height: height(&cs.latest_height),
            proof_specs: cs
                .proof_specs
                .iter()
                .map(|p| {
                    let leaf = p.leaf_spec.clone().unwrap_or_default();
                    let inner = p.inner_spec.clone().unwrap_or_default();
                    ProofSpecJson {
                        leaf_spec: LeafOpJson {
                            hash: leaf.hash,
                            prehash_key: leaf.prehash_key,
                            prehash_value: leaf.prehash_value,
                            length: leaf.length,
                            prefix: leaf.prefix,
                        },
                        inner_spec: InnerSpecJson {
                            child_order: inner.child_order,
                            child_size: inner.child_size,
                            min_prefix_length: inner.min_prefix_length,
                            max_prefix_length: inner.max_prefix_length,
                            empty_child: inner.empty_child,
                            hash: inner.hash,
                        },
                        max_depth: p.max_depth,
                        min_depth: p.min_depth,
                        prehash_key_before_comparison: p.prehash_key_before_comparison,
                    }
                })
                .collect(),
            upgrade_path: cs.upgrade_path.clone(),
            allow_update_after_expiry: cs.allow_update_after_expiry,
            allow_update_after_misbehaviour: cs.allow_update_after_misbehaviour,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawTmClientState>, D::Error> {
        let Some(j) = Option::<TmClientStateJson>::deserialize(d)? else {
            return Ok(None);
        };
        let height =
            |h: HeightJson| RawHeight { revision_number: h.revision_number, revision_height: h.revision_height };
        #[allow(deprecated)]
        let cs = RawTmClientState {
            chain_id: j.chain_id,
            trust_level: Some(RawFraction {
                numerator: j.trust_level.numerator,
                denominator: j.trust_level.denominator,
            }),
            trusting_period: Some(j.trusting_period),
            unbonding_period: Some(j.unbonding_period),
            max_clock_drift: Some(j.max_clock_drift),
            frozen_height: Some(height(j.frozen_height)),
            latest_height: Some(height(j.latest_height)),
            proof_specs: j
                .proof_specs
                .into_iter()
                .map(|p| ProofSpec {
                    leaf_spec: Some(LeafOp {
                        hash: p.leaf_spec.hash,
                        prehash_key: p.leaf_spec.prehash_key,
                        prehash_value: p.leaf_spec.prehash_value,
                        length: p.leaf_spec.length,
                        prefix: p.leaf_spec.prefix,
                    }),
                    inner_spec: Some(InnerSpec {
                        child_order: p.inner_spec.child_order,
                        child_size: p.inner_spec.child_size,
                        min_prefix_length: p.inner_spec.min_prefix_length,
                        max_prefix_length: p.inner_spec.max_prefix_length,
                        empty_child: p.inner_spec.empty_child,
                        hash: p.inner_spec.hash,
                    }),
                    max_depth: p.max_depth,
                    min_depth: p.min_depth,
                    prehash_key_before_comparison: p.prehash_key_before_comparison,
                })
                .collect(),
            upgrade_path: j.upgrade_path,
            allow_update_after_expiry: j.allow_update_after_expiry,
            allow_update_after_misbehaviour: j.allow_update_after_misbehaviour,
        };
        Ok(Some(cs))
    }
}

pub(super) mod tm_consensus_state_json {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<RawTmConsensusState>, s: S) -> Result<S::Ok, S::Error> {
        let Some(cs) = v else {
            return s.serialize_none();
        };
        TmConsensusStateJson {
            timestamp: cs.timestamp.unwrap_or_default(),
            root: MerkleRootJson { hash: cs.root.clone().unwrap_or_default().hash },
            next_validators_hash: cs.next_validators_hash.clone(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawTmConsensusState>, D::Error> {
        let Some(j) = Option::<TmConsensusStateJson>::deserialize(d)? else {
            return Ok(None);
        };
        Ok(Some(RawTmConsensusState {
            timestamp: Some(j.timestamp),
            root: Some(RawMerkleRoot { hash: j.root.hash }),
            next_validators_hash: j.next_validators_hash,
        }))
    }
}

