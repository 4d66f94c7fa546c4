//! The gateway's side of the node's own gRPC server: a lazily connected
//! channel and a codec that passes encoded messages through untouched (the
//! transcoder encodes and decodes with descriptors, not Rust types).

use bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::Status;

/// Largest response accepted from the gRPC server (a block with big txs).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Encoded protobuf in, encoded protobuf out.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// A unary call's answer: the encoded response and the height it was read
/// at, if the server said.
pub struct Reply {
    pub bytes: Vec<u8>,
    pub height: Option<String>,
}

/// Call `path` (`/pkg.Service/Method`) on the node's gRPC server, asking
/// for state at `height` when given (Cosmos's `x-cosmos-block-height`).
pub async fn call(channel: &Channel, path: &str, request: Vec<u8>, height: Option<&str>) -> Result<Reply, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone()).max_decoding_message_size(MAX_RESPONSE_BYTES);
    grpc.ready().await.map_err(|e| Status::unavailable(format!("gRPC server not ready: {e}")))?;
    let mut req = tonic::Request::new(request);
    if let Some(h) = height {
        let v: MetadataValue<_> = h.parse().map_err(|_| Status::invalid_argument(format!("{HEIGHT} header {h:?} is not a valid value")))?;
        req.metadata_mut().insert(HEIGHT, v);
    }
    let path: tonic::codegen::http::uri::PathAndQuery = path.parse().map_err(|e| Status::internal(format!("gRPC path {path:?}: {e}")))?;
    let resp = grpc.unary(req, path, RawCodec).await?;
    let height = resp.metadata().get(HEIGHT).and_then(|v| v.to_str().ok()).map(str::to_string);
    Ok(Reply { bytes: resp.into_inner(), height })
}

/// The header (and gRPC metadata key) naming the height of a query.
pub const HEIGHT: &str = aegis_app::query::HEIGHT_METADATA;
