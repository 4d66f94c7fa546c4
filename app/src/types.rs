//! Small named types shared by every module: addresses, amounts, coins.

use std::{collections::BTreeMap, fmt, str::FromStr};

use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmrs::AccountId;
use sha2::{Digest, Sha256};

use crate::error::{AppResult, SdkError};

/// Bech32 human-readable prefix of account addresses.
pub const ADDRESS_PREFIX: &str = "aegis";
/// The native staking and fee denom.
pub const NATIVE_DENOM: &str = "uaegis";

/// A 20-byte account address, shown as bech32 with prefix `aegis`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// Address of a module account: the first 20 bytes of sha256(name), as
    /// the Cosmos SDK derives `authtypes.NewModuleAddress`.
    pub fn module(name: &str) -> Self {
        let digest = Sha256::digest(name.as_bytes());
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest[..20]);
        Address(bytes)
    }

    /// Address of a secp256k1 public key (compressed SEC1, 33 bytes):
    /// ripemd160(sha256(key)), as Cosmos derives it.
    pub fn from_secp256k1(pubkey: &[u8]) -> Self {
        use ripemd::Ripemd160;
        let sha = Sha256::digest(pubkey);
        let rip = Ripemd160::digest(sha);
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&rip);
        Address(bytes)
    }

    /// Parse a bech32 string with the `aegis` prefix.
    pub fn parse(s: &str) -> AppResult<Self> {
        // Every tx's messages carry addresses, parsed in CheckTx and again
        // in FinalizeBlock: a well-formed lowercase address of 20 bytes is
        // decoded by the `bech32` crate, without the allocations per
        // checksum step of cosmrs's parser. Anything else (uppercase, other
        // prefixes or lengths, errors) takes cosmrs's path below, so what
        // is accepted and every error message are as before.
        if s.len() == ADDRESS_PREFIX.len() + 39 && s.starts_with(ADDRESS_PREFIX) && !s.bytes().any(|b| b.is_ascii_uppercase()) {
            if let Ok(checked) = bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(s) {
                if checked.hrp().as_str() == ADDRESS_PREFIX {
                    let mut bytes = [0u8; 20];
                    let mut n = 0;
                    for b in checked.byte_iter() {
                        if n == 20 {
                            n += 1;
                            break;
                        }
                        bytes[n] = b;
                        n += 1;
                    }
                    if n == 20 {
                        return Ok(Address(bytes));
                    }
                }
            }
        }
        let invalid = |reason: String| SdkError::InvalidAddress { address: s.to_string(), reason };
        let id = AccountId::from_str(s).map_err(|e| invalid(e.to_string()))?;
        if id.prefix() != ADDRESS_PREFIX {
            return Err(invalid(format!("expected prefix {ADDRESS_PREFIX}, got {}", id.prefix())).into());
        }
        let bytes: [u8; 20] = id
            .to_bytes()
            .try_into()
            .map_err(|b: Vec<u8>| invalid(format!("expected 20 bytes, got {}", b.len())))?;
        Ok(Address(bytes))
    }

    pub fn to_hex(&self) -> String {
        // Into a stack buffer: every state key of an account is built from it.
        let mut buf = [0u8; 40];
        hex::encode_to_slice(self.0, &mut buf).expect("40 hex digits for 20 bytes");
        std::str::from_utf8(&buf).expect("hex is ASCII").to_string()
    }

    /// The inverse of `to_hex` (how addresses appear inside state keys).
    pub fn from_hex(s: &str) -> Option<Self> {
        hex::decode(s).ok().and_then(|b| b.try_into().ok()).map(Address)
    }
}

impl fmt::Display for Address {
    /// Bech32 with the chain's prefix. Written by the `bech32` crate, which
    /// streams the checksum instead of allocating per step as
    /// `AccountId::new` does: addresses are formatted into events on every
    /// transfer. (A unit test checks both agree.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        static HRP: std::sync::LazyLock<bech32::Hrp> = std::sync::LazyLock::new(|| bech32::Hrp::parse(ADDRESS_PREFIX).expect("valid prefix"));
        bech32::encode_lower_to_fmt::<bech32::Bech32, _>(f, *HRP, &self.0).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

/// A token amount. Cosmos amounts are arbitrary-precision strings; Aegis
/// accepts those that fit in u128 (about 3.4e38) and rejects the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub u128);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    pub fn to_be_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    pub fn from_be_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        let arr: [u8; 16] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("stored amount has {} bytes, expected 16", bytes.len()))?;
        Ok(Amount(u128::from_be_bytes(arr)))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A validated denom: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`, the Cosmos SDK rule.
pub fn validate_denom(denom: &str) -> AppResult<()> {
    let bytes = denom.as_bytes();
    let ok = (3..=128).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SdkError::InvalidCoins(format!("invalid denom {denom:?}")).into())
    }
}

/// A denom as one state-key segment: '/' (allowed in denoms, as in IBC
/// denoms) is written `%2F`, which no denom contains, so keys that carry
/// more segments after the denom stay unambiguous.
pub fn denom_key(denom: &str) -> String {
    denom.replace('/', "%2F")
}

/// The inverse of `denom_key`.
pub fn denom_from_key(segment: &str) -> String {
    segment.replace("%2F", "/")
}

/// One coin: a denom and a positive amount.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Coin {
    pub denom: String,
    pub amount: Amount,
}

impl Coin {
    pub fn new(denom: impl Into<String>, amount: u128) -> Self {
        Coin { denom: denom.into(), amount: Amount(amount) }
    }

    /// Parse a protobuf coin, rejecting bad denoms and amounts that are not
    /// decimal digits or overflow u128. Zero is allowed here; callers that
    /// need a positive amount check it.
    pub fn from_proto(c: &ProtoCoin) -> AppResult<Self> {
        validate_denom(&c.denom)?;
        let amount = parse_amount(&c.amount, &c.denom)?;
        Ok(Coin { denom: c.denom.clone(), amount })
    }

    pub fn to_proto(&self) -> ProtoCoin {
        ProtoCoin { denom: self.denom.clone(), amount: self.amount.to_string() }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

fn parse_amount(s: &str, denom: &str) -> AppResult<Amount> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SdkError::InvalidCoins(format!("invalid amount {s:?} for {denom}: must be a non-negative integer")).into());
    }
    s.parse::<u128>()
        .map(Amount)
        .map_err(|_| SdkError::InvalidCoins(format!("amount {s}{denom} overflows the maximum {}", u128::MAX)).into())
}

/// A set of coins: sorted by denom, no duplicates, every amount positive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coins(Vec<Coin>);

impl Coins {
    /// Validate as the Cosmos SDK validates `sdk.Coins`: sorted, unique,
    /// positive. Empty is valid (callers that need non-empty check).
    pub fn from_proto(coins: &[ProtoCoin]) -> AppResult<Self> {
        let mut out: Vec<Coin> = Vec::with_capacity(coins.len());
        for c in coins {
            let coin = Coin::from_proto(c)?;
            if coin.amount == Amount::ZERO {
                return Err(SdkError::InvalidCoins(format!("amount of {} must be positive, got 0", coin.denom)).into());
            }
            if let Some(prev) = out.last() {
                if prev.denom >= coin.denom {
                    return Err(SdkError::InvalidCoins(format!(
                        "coins must be sorted by denom without duplicates: {} then {}",
                        prev.denom, coin.denom
                    ))
                    .into());
                }
            }
            out.push(coin);
        }
        Ok(Coins(out))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Coin> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn amount_of(&self, denom: &str) -> Amount {
        self.0.iter().find(|c| c.denom == denom).map(|c| c.amount).unwrap_or_default()
    }

    pub fn to_proto(&self) -> Vec<ProtoCoin> {
        self.0.iter().map(Coin::to_proto).collect()
    }

    pub fn from_map(map: BTreeMap<String, Amount>) -> Self {
        Coins(map.into_iter().filter(|(_, a)| *a != Amount::ZERO).map(|(denom, amount)| Coin { denom, amount }).collect())
    }
}

impl fmt::Display for Coins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|c| c.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Address::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_agrees_with_cosmrs_on_valid_and_invalid_addresses() {
        let good = Address(*b"0123456789abcdefghij").to_string();
        let cosmrs = |s: &str| AccountId::from_str(s).ok().filter(|id| id.prefix() == ADDRESS_PREFIX).and_then(|id| <[u8; 20]>::try_from(id.to_bytes()).ok()).map(Address);
        let mut flipped = good.clone().into_bytes();
        flipped[10] = if flipped[10] == b'q' { b'p' } else { b'q' };
        let flipped = String::from_utf8(flipped).unwrap();
        let other_prefix = AccountId::new("cosmos", b"0123456789abcdefghij").unwrap().to_string();
        let short = AccountId::new(ADDRESS_PREFIX, &[7u8; 19]).unwrap().to_string();
        let long = AccountId::new(ADDRESS_PREFIX, &[7u8; 32]).unwrap().to_string();
        for s in [good.as_str(), &good.to_uppercase(), &flipped, &other_prefix, &short, &long, "aegis1", "", &good[..good.len() - 1]] {
            assert_eq!(Address::parse(s).ok(), cosmrs(s), "{s}");
        }
        assert_eq!(Address::parse(&good).unwrap(), Address(*b"0123456789abcdefghij"));
        assert_eq!(Address(*b"0123456789abcdefghij").to_hex(), hex::encode(b"0123456789abcdefghij"));
        assert!(Address::parse(&short).unwrap_err().message.contains("expected 20 bytes, got 19"));
    }

    #[test]
    fn display_is_cosmrs_bech32() {
        for bytes in [[0u8; 20], [0xff; 20], *b"0123456789abcdefghij", Address::module("fee_collector").0] {
            let a = Address(bytes);
            let expected = AccountId::new(ADDRESS_PREFIX, &bytes).unwrap().to_string();
            assert_eq!(a.to_string(), expected);
            assert_eq!(Address::parse(&expected).unwrap(), a);
        }
    }

    #[test]
    fn module_address_matches_cosmos_derivation() {
        // The Cosmos Hub's fee collector module account, derived the same way.
        let a = Address::module("fee_collector");
        let on_hub = AccountId::new("cosmos", &a.0).unwrap().to_string();
        assert_eq!(on_hub, "cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta");
    }

    #[test]
    fn denom_key_segments_round_trip_and_never_contain_a_slash() {
        for d in ["uaegis", "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2", "factory/a/b"] {
            validate_denom(d).unwrap();
            assert!(!denom_key(d).contains('/'));
            assert_eq!(denom_from_key(&denom_key(d)), d);
        }
        assert_eq!(denom_key("ibc/AB"), "ibc%2FAB");
    }

    #[test]
    fn coins_reject_unsorted_duplicate_zero_and_overflow() {
        let c = |d: &str, a: &str| ProtoCoin { denom: d.into(), amount: a.into() };
        assert!(Coins::from_proto(&[c("uaegis", "1"), c("uatom", "2")]).is_ok());
        let e = Coins::from_proto(&[c("uatom", "1"), c("uaegis", "2")]).unwrap_err();
        assert_eq!((e.codespace, e.code), ("sdk", 10));
        assert!(Coins::from_proto(&[c("uaegis", "1"), c("uaegis", "2")]).is_err());
        let e = Coins::from_proto(&[c("uaegis", "0")]).unwrap_err();
        assert_eq!(e.message, "invalid coins: amount of uaegis must be positive, got 0");
        let e = Coins::from_proto(&[c("uaegis", "-5")]).unwrap_err();
        assert_eq!(e.message, "invalid coins: invalid amount \"-5\" for uaegis: must be a non-negative integer");
        let e = Coins::from_proto(&[c("uaegis", "340282366920938463463374607431768211456")]).unwrap_err();
        assert!(e.message.contains("overflows"), "{}", e.message);
        assert!(Coins::from_proto(&[c("u", "1")]).is_err());
    }

    #[test]
    fn address_round_trips_and_rejects_other_prefixes() {
        let a = Address([7u8; 20]);
        let s = a.to_string();
        assert!(s.starts_with("aegis1"));
        assert_eq!(Address::parse(&s).unwrap(), a);
        let cosmos = AccountId::new("cosmos", &[7u8; 20]).unwrap().to_string();
        let e = Address::parse(&cosmos).unwrap_err();
        assert_eq!((e.codespace, e.code), ("sdk", 7));
        assert!(Address::parse("aegis1notbech32").is_err());
    }
}
