//! Compiles the descriptor set served by gRPC reflection, with protox (a
//! pure-Rust protobuf compiler: no system `protoc`).
//!
//! The Cosmos SDK, IBC and CometBFT services Aegis serves are described by
//! the `.proto` files in `third_party/` (upstream copies, and files generated
//! from the Rust types; see its README); their Rust types come from
//! cosmos-sdk-proto and ibc-proto, so only the descriptors are built here.
//! Aegis's own protos live in `aegis/` and get Rust types and tonic
//! services generated as well.

use std::path::{Path, PathBuf};

/// Services (and the messages clients pack into `Any`) that reflection
/// must describe. Their imports are pulled in transitively.
///
/// Order matters: protox resolves names against every file loaded so far,
/// so `cosmos/base/abci` (which names `tendermint.abci.Event`) must load
/// before `cosmos/base/tendermint` creates a `cosmos.base.tendermint`
/// package that would shadow it.
const COSMOS_ROOTS: &[&str] = &[
    "cosmos/bank/v1beta1/query.proto",
    "cosmos/bank/v1beta1/tx.proto",
    "cosmos/bank/v1beta1/genesis.proto",
    "cosmos/auth/v1beta1/query.proto",
    // BaseAccount, which account queries return in an `Any`.
    "cosmos/auth/v1beta1/auth.proto",
    "cosmos/tx/v1beta1/service.proto",
    "cosmos/base/tendermint/v1beta1/query.proto",
    "cosmos/crypto/secp256k1/keys.proto",
    "cosmos/crypto/multisig/keys.proto",
    "cosmos/crypto/ed25519/keys.proto",
    // What relayers read: the IBC query services and staking Params.
    "ibc/core/client/v1/query.proto",
    "ibc/core/connection/v1/query.proto",
    "ibc/core/channel/v1/query.proto",
    "ibc/applications/transfer/v1/query.proto",
    "cosmos/staking/v1beta1/query.proto",
];

fn aegis_protos(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            aegis_protos(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("proto") {
            out.push(p);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let third_party = root.join("third_party");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", third_party.display());
    println!("cargo:rerun-if-changed={}", root.join("aegis").display());

    let mut own = Vec::new();
    aegis_protos(&root.join("aegis"), &mut own);
    let mut files: Vec<PathBuf> = COSMOS_ROOTS.iter().map(|f| third_party.join(f)).collect();
    files.extend(own.iter().cloned());

    // Encoded by protox itself: prost_types' options drop extensions, and the
    // REST gateway routes by the `google.api.http` method option.
    let encoded = protox::Compiler::new([&third_party, &root])?.include_source_info(true).include_imports(true).open_files(&files)?.encode_file_descriptor_set();
    std::fs::write(out_dir.join("aegis_descriptor.bin"), encoded)?;

    let own_fds = protox::compile(&own, [&root, &third_party])?;
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .include_file("aegis.rs")
        .extern_path(".cosmos", "::cosmos_sdk_proto::cosmos")
        .extern_path(".tendermint", "::tendermint_proto")
        // Only the `google.api.http` option names these; no Rust type is needed.
        .extern_path(".google.api", "::prost_types")
        .extern_path(".google.protobuf.Any", "::tendermint_proto::google::protobuf::Any")
        .extern_path(".google.protobuf.Timestamp", "::tendermint_proto::google::protobuf::Timestamp")
        .extern_path(".google.protobuf.Duration", "::tendermint_proto::google::protobuf::Duration")
        .compile_fds(own_fds)?;
    Ok(())
}
