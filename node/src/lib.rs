//! aegis-node: what `aegisd` is made of, as a library so the end-to-end
//! tests can drive the same client and network generator.

// gRPC handlers return tonic::Status, a large error type by design of tonic's API.
#![allow(clippy::result_large_err)]

pub mod client;
pub mod client_config;
pub mod config;
pub mod descriptors;
pub mod grpc;
pub mod keys;
pub mod loadtest;
pub mod metrics;
pub mod relayer;
pub mod render;
pub mod rest;
pub mod start;
pub mod testnet;
pub mod txdoc;
