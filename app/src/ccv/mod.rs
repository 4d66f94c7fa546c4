//! ICS (Interchain Security) cross-chain validation: the CCV wire protocol
//! that the `provider` and `consumer` modules speak, byte for byte as ICS
//! (cosmos/interchain-security v7, `x/ccv/types`) writes and reads it.
//!
//! ICS sends packet data as JSON written by the Cosmos SDK's
//! `ProtoCodec.MarshalJSON`: gogoproto jsonpb with `OrigName` (the proto
//! field names, which are snake_case except the oneof members
//! `slashPacketData`/`vscMaturedPacketData`, camelCase in the .proto itself),
//! `EmitDefaults`, 64-bit integers as strings, enums by name, bytes as padded
//! standard base64 and strings escaped as Go's `encoding/json` escapes them
//! (`<`, `>`, `&`, U+2028, U+2029 as `\u....`). It reads them back with
//! jsonpb's unmarshaler, which refuses unknown fields, takes `null` as
//! "unset", and accepts integers quoted or not, enums by name or number and
//! field names in either spelling; the decoders here do the same and then
//! apply ICS's `Validate`.
//!
//! Acknowledgements are ibc-go's `channeltypes.Acknowledgement` JSON. The
//! channel handshake's version is a protobuf `HandshakeMetadata` carried in a
//! string. The consumer genesis (`ConsumerGenesis`) is ICS's
//! `ConsumerGenesisState` in the JSON form `query provider consumer-genesis`
//! prints and an ICS consumer's `app_state.ccvconsumer` holds.

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ibc_proto::ibc::core::client::v1::Height as RawHeight;
use ibc_proto::ibc::core::commitment::v1::MerkleRoot as RawMerkleRoot;
use ibc_proto::ibc::lightclients::tendermint::v1::{
    ClientState as RawTmClientState, ConsensusState as RawTmConsensusState, Fraction as RawFraction,
};
use ibc_proto::ics23::{HashOp, InnerSpec, LeafOp, LengthOp, ProofSpec};
use ibc_proto::interchain_security::ccv::v1 as raw;
use prost::Message as _;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use tendermint_proto::google::protobuf::{Duration as RawDuration, Timestamp as RawTimestamp};

mod genesis;
mod json;
#[cfg(test)]
mod tests;
mod wire;

pub use genesis::*;
use json::*;
pub use wire::*;

pub const PROVIDER_PORT: &str = "provider";
pub const CONSUMER_PORT: &str = "consumer";
pub const VERSION: &str = "1";

