//! aegis-proto: Aegis's protobuf types and tonic services (generated from
//! `proto/aegis/` by build.rs), the Cosmos SDK types they build on
//! (re-exported from cosmos-sdk-proto), and the encoded descriptor set that
//! the gRPC server registers for reflection.

pub use cosmos_sdk_proto;

// Generated from proto/aegis/: `aegis::<module>::v1::...` types, and
// `..._server` / `..._client` modules for each service.
include!(concat!(env!("OUT_DIR"), "/aegis.rs"));

/// `FileDescriptorSet` of every service the node serves (Cosmos SDK,
/// CometBFT and Aegis protos), for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/aegis_descriptor.bin"));

#[cfg(test)]
mod tests {
    use prost::Message;

    #[test]
    fn descriptor_set_describes_the_served_cosmos_services() {
        let fds = prost_types::FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET).unwrap();
        let mut services: Vec<String> =
            fds.file.iter().flat_map(|f| f.service.iter().map(move |s| format!("{}.{}", f.package(), s.name()))).collect();
        services.sort();
        for want in [
            "cosmos.auth.v1beta1.Query",
            "cosmos.bank.v1beta1.Msg",
            "cosmos.bank.v1beta1.Query",
            "cosmos.base.tendermint.v1beta1.Service",
            "cosmos.tx.v1beta1.Service",
            "aegis.auth.v1.Query",
            "aegis.restaking.v1.Msg",
            "aegis.restaking.v1.Query",
            "aegis.delegation.v1.Msg",
            "aegis.delegation.v1.Query",
            "aegis.rewards.v1.Msg",
            "aegis.rewards.v1.Query",
            "aegis.avs.v1.Msg",
            "aegis.avs.v1.Query",
            "aegis.slashing.v1.Msg",
            "aegis.slashing.v1.Query",
            "aegis.consumer.v1.Query",
        ] {
            assert!(services.iter().any(|s| s == want), "{want} missing from {services:?}");
        }
    }
}
