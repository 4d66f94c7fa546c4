use super::*;

fn b64<const N: usize>(s: &str) -> [u8; N] {
    B64.decode(s).unwrap().try_into().unwrap()
}

/// The Go tests' golden strings, whitespace removed as they remove it.
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn golden_vsc() -> VscPacket {
    VscPacket {
        updates: vec![
            ValidatorUpdate { pubkey: b64("SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds="), power: 30 },
            ValidatorUpdate { pubkey: b64("J/nGy0vCXhgVbr8S71B4ZgHi4fsMqtDxDlERZ+gG238="), power: 20 },
        ],
        valset_update_id: 73,
        slash_acks: vec!["slash".into(), "acks".into(), "example".into()],
    }
}

fn golden_slash() -> ConsumerPacket {
    ConsumerPacket::Slash(SlashPacket {
        validator_address: b64("BP9q4oXCgubvoujOKyxIxd+3IwM="),
        power: 4328,
        valset_update_id: 894732,
        infraction: Infraction::DoubleSign,
    })
}

// ICS x/ccv/types/wire_test.go TestVSCPacketDataWireBytes.
const VSC_GOLDEN: &str = r#"{
    "validator_updates": [
        {"pub_key": {"ed25519": "SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds="}, "power": "30"},
        {"pub_key": {"ed25519": "J/nGy0vCXhgVbr8S71B4ZgHi4fsMqtDxDlERZ+gG238="}, "power": "20"}
    ],
    "valset_update_id": "73",
    "slash_acks": ["slash", "acks", "example"]
}"#;

// TestSlashPacketDataWireBytes: the V1 form, ccv's InfractionType names.
const SLASH_GOLDEN: &str = r#"{
    "type": "CONSUMER_PACKET_TYPE_SLASH",
    "slashPacketData": {
        "validator": {"address": "BP9q4oXCgubvoujOKyxIxd+3IwM=", "power": "4328"},
        "valset_update_id": "894732",
        "infraction": "INFRACTION_TYPE_DOUBLE_SIGN"
    }
}"#;

// TestVSCMaturedPacketDataWireBytes.
const VSCM_GOLDEN: &str = r#"{
    "type": "CONSUMER_PACKET_TYPE_VSCM",
    "vscMaturedPacketData": {"valset_update_id": "84923"}
}"#;

#[test]
fn vsc_packet_encodes_to_ics_golden_bytes_and_back() {
    let bytes = golden_vsc().encode();
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), compact(VSC_GOLDEN));
    assert_eq!(VscPacket::decode(&bytes).unwrap(), golden_vsc());
    // Indented input decodes the same.
    assert_eq!(VscPacket::decode(VSC_GOLDEN.as_bytes()).unwrap(), golden_vsc());
}

#[test]
fn slash_packet_encodes_to_ics_v1_golden_bytes_and_back() {
    let bytes = golden_slash().encode();
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), compact(SLASH_GOLDEN));
    assert_eq!(ConsumerPacket::decode(&bytes).unwrap(), golden_slash());
}

#[test]
fn vsc_matured_packet_encodes_to_ics_golden_bytes_and_back() {
    let p = ConsumerPacket::VscMatured { valset_update_id: 84923 };
    let bytes = p.encode();
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), compact(VSCM_GOLDEN));
    assert_eq!(ConsumerPacket::decode(&bytes).unwrap(), p);
}

#[test]
fn slash_packet_in_current_form_decodes_with_staking_infraction_names() {
    let current = SLASH_GOLDEN.replace("INFRACTION_TYPE_DOUBLE_SIGN", "INFRACTION_DOUBLE_SIGN");
    assert_eq!(ConsumerPacket::decode(current.as_bytes()).unwrap(), golden_slash());
    let downtime = SLASH_GOLDEN.replace("\"INFRACTION_TYPE_DOUBLE_SIGN\"", "\"INFRACTION_DOWNTIME\"");
    let ConsumerPacket::Slash(s) = ConsumerPacket::decode(downtime.as_bytes()).unwrap() else { panic!() };
    assert_eq!(s.infraction, Infraction::Downtime);
    // jsonpb also takes enums as numbers and integers unquoted.
    let numeric = r#"{"type":1,"slashPacketData":{"validator":{"address":"BP9q4oXCgubvoujOKyxIxd+3IwM=","power":4328},"valsetUpdateId":894732,"infraction":1}}"#;
    assert_eq!(ConsumerPacket::decode(numeric.as_bytes()).unwrap(), golden_slash());
}

#[track_caller]
fn assert_err_mentions<T: std::fmt::Debug>(r: Result<T, String>, words: &[&str]) {
    let e = r.unwrap_err();
    for w in words {
        assert!(e.contains(w), "error {e:?} should mention {w:?}");
    }
}

#[test]
fn malformed_consumer_packets_are_refused_naming_the_problem() {
    assert_err_mentions(ConsumerPacket::decode(b"not json"), &["not JSON"]);
    assert_err_mentions(ConsumerPacket::decode(b"[1]"), &["expected a JSON object"]);
    let wrong_type = VSCM_GOLDEN.replace("CONSUMER_PACKET_TYPE_VSCM", "CONSUMER_PACKET_TYPE_VSC");
    assert_err_mentions(ConsumerPacket::decode(wrong_type.as_bytes()), &["type", "CONSUMER_PACKET_TYPE_VSC"]);
    let unspecified = VSCM_GOLDEN.replace("CONSUMER_PACKET_TYPE_VSCM", "CONSUMER_PACKET_TYPE_UNSPECIFIED");
    assert_err_mentions(ConsumerPacket::decode(unspecified.as_bytes()), &["invalid consumer packet type"]);
    let short = SLASH_GOLDEN.replace("BP9q4oXCgubvoujOKyxIxd+3IwM=", &B64.encode([4u8; 19]));
    assert_err_mentions(ConsumerPacket::decode(short.as_bytes()), &["address", "19 bytes"]);
    let zero_power = SLASH_GOLDEN.replace("\"4328\"", "\"0\"");
    assert_err_mentions(ConsumerPacket::decode(zero_power.as_bytes()), &["power cannot be zero"]);
    let unspecified = SLASH_GOLDEN.replace("INFRACTION_TYPE_DOUBLE_SIGN", "INFRACTION_TYPE_UNSPECIFIED");
    assert_err_mentions(ConsumerPacket::decode(unspecified.as_bytes()), &["infraction", "INFRACTION_UNSPECIFIED"]);
    let unknown_infraction = SLASH_GOLDEN.replace("INFRACTION_TYPE_DOUBLE_SIGN", "INFRACTION_EQUIVOCATION");
    assert_err_mentions(
        ConsumerPacket::decode(unknown_infraction.as_bytes()),
        &["infraction", "INFRACTION_EQUIVOCATION"],
    );
    let bad_b64 = SLASH_GOLDEN.replace("BP9q4oXCgubvoujOKyxIxd+3IwM=", "BP9q4oXCgubvoujOKyxIxd+3IwM");
    assert_err_mentions(ConsumerPacket::decode(bad_b64.as_bytes()), &["address", "base64"]);
    let unknown_field = VSCM_GOLDEN.replace("\"valset_update_id\"", "\"vsc_id\"");
    assert_err_mentions(ConsumerPacket::decode(unknown_field.as_bytes()), &["unknown field", "vsc_id"]);
    let zero_id = VSCM_GOLDEN.replace("84923", "0");
    assert_err_mentions(ConsumerPacket::decode(zero_id.as_bytes()), &["vscId cannot be equal to zero"]);
    let missing = r#"{"type":"CONSUMER_PACKET_TYPE_SLASH"}"#;
    assert_err_mentions(ConsumerPacket::decode(missing.as_bytes()), &["SlashPacketData data cannot be empty"]);
    let mismatched = VSCM_GOLDEN.replace("CONSUMER_PACKET_TYPE_VSCM", "CONSUMER_PACKET_TYPE_SLASH");
    assert_err_mentions(ConsumerPacket::decode(mismatched.as_bytes()), &["SlashPacketData data cannot be empty"]);
}

#[test]
fn malformed_vsc_packets_are_refused_naming_the_problem() {
    assert_err_mentions(VscPacket::decode(b"{\"validator_updates\":"), &["not JSON"]);
    let zero_id = compact(VSC_GOLDEN).replace("\"73\"", "\"0\"");
    assert_err_mentions(VscPacket::decode(zero_id.as_bytes()), &["valset update id cannot be equal to zero"]);
    // A real compressed secp256k1 key (33 bytes).
    let secp = compact(VSC_GOLDEN).replace(
        "\"ed25519\":\"SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds=\"",
        "\"secp256k1\":\"A+4Ru5vWR/xRFsDPG0+nvWx7yUgsZvvmvpvd1Cqp8d8l\"",
    );
    assert_err_mentions(VscPacket::decode(secp.as_bytes()), &["validator_updates[0]", "secp256k1"]);
    let short_key = compact(VSC_GOLDEN).replace("SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds=", "SMxP2pXA");
    assert_err_mentions(VscPacket::decode(short_key.as_bytes()), &["validator_updates[0]", "6 bytes, want 32"]);
    let bad_b64 = compact(VSC_GOLDEN).replace("SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds=", "SMxP2pXA!");
    assert_err_mentions(VscPacket::decode(bad_b64.as_bytes()), &["base64"]);
    let negative = compact(VSC_GOLDEN).replace("\"30\"", "\"-30\"");
    assert_err_mentions(VscPacket::decode(negative.as_bytes()), &["negative power -30"]);
    let no_updates = r#"{"valset_update_id":"73","slash_acks":[]}"#;
    assert_err_mentions(VscPacket::decode(no_updates.as_bytes()), &["validator updates cannot be nil"]);
    let unknown = compact(VSC_GOLDEN).replace("\"slash_acks\"", "\"slashes\"");
    assert_err_mentions(VscPacket::decode(unknown.as_bytes()), &["unknown field", "slashes"]);
    let not_int = compact(VSC_GOLDEN).replace("\"73\"", "\"7x3\"");
    assert_err_mentions(VscPacket::decode(not_int.as_bytes()), &["valset_update_id", "7x3"]);
}

#[test]
fn empty_vsc_packet_writes_empty_arrays_as_emit_defaults_does() {
    let p = VscPacket { updates: vec![], valset_update_id: 1, slash_acks: vec![] };
    assert_eq!(p.encode(), br#"{"validator_updates":[],"valset_update_id":"1","slash_acks":[]}"#);
    assert_eq!(VscPacket::decode(&p.encode()).unwrap(), p);
}

#[test]
fn acks_are_ibc_go_acknowledgement_json() {
    assert_eq!(result_ack(ACK_RESULT_V1), br#"{"result":"AQ=="}"#);
    assert_eq!(result_ack(ACK_SLASH_HANDLED), br#"{"result":"Ag=="}"#);
    assert_eq!(result_ack(ACK_SLASH_BOUNCED), br#"{"result":"Aw=="}"#);
    assert_eq!(decode_ack(&result_ack(ACK_SLASH_BOUNCED)).unwrap(), Ack::Result(vec![3]));

    let message = "bad \"packet\"\nsee <events> & logs\u{2028}\\";
    let ack = error_ack(message);
    assert_eq!(
        String::from_utf8(ack.clone()).unwrap(),
        r#"{"error":"bad \"packet\"\nsee \u003cevents\u003e \u0026 logs\u2028\\"}"#
    );
    assert_eq!(decode_ack(&ack).unwrap(), Ack::Error(message.into()));

    assert_err_mentions(decode_ack(br#"{"result":""}"#), &["result cannot be empty"]);
    assert_err_mentions(decode_ack(br#"{"error":"  "}"#), &["error cannot be empty"]);
    assert_err_mentions(decode_ack(br#"{"result":"AQ==","error":"x"}"#), &["both"]);
    assert_err_mentions(decode_ack(br#"{"status":"ok"}"#), &["unknown field", "status"]);
    assert_err_mentions(decode_ack(b"AQ=="), &["not JSON"]);
}

#[test]
fn handshake_metadata_is_the_protobuf_encoding_and_parses_back() {
    let addr = "cosmos1ap0mh6xzfn8943urr84q6ae7zfnar48am2erhd"; // 45 chars
    let md = handshake_metadata(addr).unwrap();
    let mut want = vec![0x0a, addr.len() as u8];
    want.extend_from_slice(addr.as_bytes());
    want.extend_from_slice(&[0x12, 0x01, b'1']);
    assert_eq!(md.as_bytes(), want.as_slice());
    assert_eq!(
        md.as_bytes(),
        raw::HandshakeMetadata { provider_fee_pool_addr: addr.into(), version: "1".into() }.encode_to_vec()
    );
    assert_eq!(parse_handshake_metadata(&md).unwrap(), addr);
}

#[test]
fn handshake_metadata_with_another_version_or_garbage_is_refused() {
    let v2 = raw::HandshakeMetadata { provider_fee_pool_addr: "addr".into(), version: "2".into() }.encode_to_vec();
    assert_err_mentions(parse_handshake_metadata(std::str::from_utf8(&v2).unwrap()), &["version", "\"2\""]);
    // A consumer's own version string is not metadata.
    assert_err_mentions(parse_handshake_metadata("1"), &["unmarshalling"]);
    // No version field at all is version "".
    assert_err_mentions(parse_handshake_metadata(""), &["version", "\"\""]);
}

#[test]
fn handshake_metadata_refuses_addresses_too_long_for_a_utf8_version() {
    assert!(handshake_metadata(&"a".repeat(127)).is_ok());
    assert_err_mentions(handshake_metadata(&"a".repeat(128)), &["128 bytes"]);
}

/// The v6.3.x provider's `query provider consumer-genesis` output in
/// ICS's app/consumer/genesis_test.go (real values from a test chain).
fn genesis_json() -> String {
    r#"{
      "params": {
        "enabled": true,
        "blocks_per_distribution_transmission": "1000",
        "distribution_transmission_channel": "",
        "provider_fee_pool_addr_str": "",
        "ccv_timeout_period": "2419200s",
        "transfer_timeout_period": "3600s",
        "consumer_redistribution_fraction": "0.75",
        "historical_entries": "10000",
        "unbonding_period": "1209600s",
        "soft_opt_out_threshold": "0",
        "reward_denoms": [],
        "provider_reward_denoms": [],
        "retry_delay_period": "3600s",
        "consumer_id": "1"
      },
      "provider": {
        "client_state": {
          "chain_id": "provi",
          "trust_level": {"numerator": "1", "denominator": "3"},
          "trusting_period": "1197504s",
          "unbonding_period": "1814400s",
          "max_clock_drift": "10s",
          "frozen_height": {"revision_number": "0", "revision_height": "0"},
          "latest_height": {"revision_number": "0", "revision_height": "24"},
          "proof_specs": [
            {
              "leaf_spec": {"hash": "SHA256", "prehash_key": "NO_HASH", "prehash_value": "SHA256", "length": "VAR_PROTO", "prefix": "AA=="},
              "inner_spec": {"child_order": [0, 1], "child_size": 33, "min_prefix_length": 4, "max_prefix_length": 12, "empty_child": null, "hash": "SHA256"},
              "max_depth": 0,
              "min_depth": 0,
              "prehash_key_before_comparison": false
            },
            {
              "leaf_spec": {"hash": "SHA256", "prehash_key": "NO_HASH", "prehash_value": "SHA256", "length": "VAR_PROTO", "prefix": "AA=="},
              "inner_spec": {"child_order": [0, 1], "child_size": 32, "min_prefix_length": 1, "max_prefix_length": 1, "empty_child": null, "hash": "SHA256"},
              "max_depth": 0,
              "min_depth": 0,
              "prehash_key_before_comparison": false
            }
          ],
          "upgrade_path": ["upgrade", "upgradedIBCState"],
          "allow_update_after_expiry": false,
          "allow_update_after_misbehaviour": false
        },
        "consensus_state": {
          "timestamp": "2024-10-17T07:47:33.124389629Z",
          "root": {"hash": "cgIJagBEc/5lDkWS12NG5i7SSZ5hNFlDrlparFaWytc="},
          "next_validators_hash": "632730A03DEF630F77B61DF4092629007AE020B789713158FABCB104962FA54F"
        },
        "initial_val_set": [
          {"pub_key": {"ed25519": "RrclQz9bIhkIy/gfL485g3PYMeiIku4qeo495787X10="}, "power": "500"},
          {"pub_key": {"ed25519": "Ui5Gf1+mtWUdH8u3xlmzdKID+F3PK0sfXZ73GZ6q6is="}, "power": "500"},
          {"pub_key": {"ed25519": "mAN6RXYxSM4MNGSIriYiS7pHuwAcOHDQAy9/wnlSzOI="}, "power": "500"}
        ]
      },
      "new_chain": true
    }"#
    .into()
}

#[test]
fn consumer_genesis_json_survives_the_proto_round_trip_unchanged() {
    // Without consumer_id: the v4..v6.1 shape, which ibc-proto's type holds whole.
    let json = compact(&genesis_json()).replace(r#","consumer_id":"1""#, "");
    let genesis: ConsumerGenesis = serde_json::from_str(&json).unwrap();
    let cs = genesis.provider.client_state.as_ref().unwrap();
    assert_eq!(cs.chain_id, "provi");
    assert_eq!(cs.trusting_period, Some(RawDuration { seconds: 1_197_504, nanos: 0 }));
    assert_eq!(cs.proof_specs[0].leaf_spec.as_ref().unwrap().prefix, vec![0]);
    let cons = genesis.provider.consensus_state.as_ref().unwrap();
    assert_eq!(cons.timestamp, Some(RawTimestamp { seconds: 1_729_151_253, nanos: 124_389_629 }));
    assert_eq!(cons.next_validators_hash[..2], [0x63, 0x27]);
    assert_eq!(genesis.provider.initial_val_set.len(), 3);
    assert_eq!(genesis.params.unbonding_period, Duration::from_secs(14 * 24 * 3600));

    let proto = genesis.to_proto();
    let decoded = raw::ConsumerGenesisState::decode(proto.encode_to_vec().as_slice()).unwrap();
    let back = ConsumerGenesis::from_proto(decoded).unwrap();
    assert_eq!(back, genesis);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn consumer_genesis_json_keeps_the_v6_2_fields() {
    let json = compact(&genesis_json())
        .replace(r#""new_chain":true"#, r#""new_chain":true,"preCCV":false,"connection_id":"""#);
    let genesis: ConsumerGenesis = serde_json::from_str(&json).unwrap();
    assert_eq!(genesis.params.consumer_id.as_deref(), Some("1"));
    assert_eq!(genesis.pre_ccv, Some(false));
    assert_eq!(genesis.connection_id.as_deref(), Some(""));
    assert_eq!(serde_json::to_string(&genesis).unwrap(), json);
    // ibc-proto's type has no place for them.
    let back = ConsumerGenesis::from_proto(genesis.to_proto()).unwrap();
    assert_eq!((back.params.consumer_id, back.pre_ccv, back.connection_id), (None, None, None));
}

#[test]
fn consumer_genesis_accepts_proto3_json_client_states() {
    // camelCase names, defaults omitted, the hash in base64: pbjson's form.
    let json = genesis_json()
        .replace("\"chain_id\"", "\"chainId\"")
        .replace("\"trusting_period\"", "\"trustingPeriod\"")
        .replace("\"latest_height\"", "\"latestHeight\"")
        .replace("\"revision_height\"", "\"revisionHeight\"")
        .replace("\"proof_specs\"", "\"proofSpecs\"")
        .replace("\"leaf_spec\"", "\"leafSpec\"")
        .replace("\"child_order\"", "\"childOrder\"")
        .replace(r#""allow_update_after_expiry": false,"#, "")
        .replace(
            "\"next_validators_hash\": \"632730A03DEF630F77B61DF4092629007AE020B789713158FABCB104962FA54F\"",
            "\"nextValidatorsHash\": \"YycwoD3vYw93th30CSYpAHrgILeJcTFY+ryxBJYvpU8=\"",
        );
    let from_camel: ConsumerGenesis = serde_json::from_str(&json).unwrap();
    let from_snake: ConsumerGenesis = serde_json::from_str(&genesis_json()).unwrap();
    assert_eq!(from_camel, from_snake);
}

#[test]
fn consumer_genesis_refuses_unknown_and_malformed_input() {
    let cases: &[(&str, &str, &str)] = &[
        (r#""new_chain": true"#, r#""new_chain": true, "pre_ccv": true"#, "unknown field `pre_ccv`"),
        (r#""chain_id": "provi""#, r#""chain_id": "provi", "trust": 1"#, "unknown field `trust`"),
        ("\"2419200s\"", "\"4w\"", "not a duration"),
        ("\"2419200s\"", "\"-1s\"", "negative"),
        ("\"0.75\"", "\"1.5\"", "greater than 1"),
        ("\"0.75\"", "\"75%\"", "not a decimal"),
        ("\"historical_entries\": \"10000\"", "\"historical_entries\": \"ten\"", "not an integer"),
        ("\"VAR_PROTO\"", "\"VARINT\"", "unknown ics23 length op"),
        ("\"2024-10-17T07:47:33.124389629Z\"", "\"yesterday\"", "not an RFC 3339 timestamp"),
        ("RrclQz9bIhkIy/gfL485g3PYMeiIku4qeo495787X10=", "RrclQz9b", "want 32"),
        ("\"ed25519\": \"RrclQz9b", "\"secp256k1\": \"RrclQz9b", "secp256k1"),
        (r#""new_chain": true"#, r#""new_chain": "yes""#, "expected a boolean"),
    ];
    for (from, to, want) in cases {
        let json = genesis_json().replacen(from, to, 1);
        assert_ne!(json, genesis_json(), "{from} not in the example");
        let err = serde_json::from_str::<ConsumerGenesis>(&json).unwrap_err().to_string();
        assert!(err.contains(want), "{to}: error {err:?} should mention {want:?}");
    }
    let err = serde_json::from_str::<ConsumerGenesis>(r#"{"params":{}}"#).unwrap_err().to_string();
    assert!(err.contains("missing field"), "{err}");
}

#[test]
fn default_params_are_ics_defaults() {
    let json = serde_json::to_string(&ConsumerParams::default()).unwrap();
    assert_eq!(
        json,
        compact(
            r#"{"enabled":false,"blocks_per_distribution_transmission":"1000",
            "distribution_transmission_channel":"","provider_fee_pool_addr_str":"",
            "ccv_timeout_period":"2419200s","transfer_timeout_period":"3600s",
            "consumer_redistribution_fraction":"0.75","historical_entries":"10000",
            "unbonding_period":"1728000s","soft_opt_out_threshold":"0",
            "reward_denoms":[],"provider_reward_denoms":[],"retry_delay_period":"3600s"}"#
        )
    );
    assert_eq!(serde_json::from_str::<ConsumerParams>(&json).unwrap(), ConsumerParams::default());
}

#[test]
fn durations_and_timestamps_use_jsonpb_fraction_digits() {
    let d = |seconds, nanos| format_duration(RawDuration { seconds, nanos });
    assert_eq!(d(1_728_000, 0), "1728000s");
    assert_eq!(d(1, 500_000_000), "1.500s");
    assert_eq!(d(0, 1_000), "0.000001s");
    assert_eq!(d(0, -5), "-0.000000005s");
    for s in ["1728000s", "1.500s", "0.000001s", "-0.000000005s", "-3s"] {
        assert_eq!(format_duration(parse_duration(s).unwrap()), s);
    }
    let t = |seconds, nanos| format_timestamp(&RawTimestamp { seconds, nanos }).unwrap();
    assert_eq!(t(0, 0), "1970-01-01T00:00:00Z");
    assert_eq!(t(951_782_400, 120_000_000), "2000-02-29T00:00:00.120Z");
    assert_eq!(t(-1, 0), "1969-12-31T23:59:59Z");
    assert_eq!(
        parse_timestamp("2000-02-29T00:00:00.120Z").unwrap(),
        RawTimestamp { seconds: 951_782_400, nanos: 120_000_000 }
    );
}
