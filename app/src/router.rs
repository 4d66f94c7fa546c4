//! The message router: each module owns its messages (`<module>::msgs::Msg`
//! with `decode`, `signers`, `type_url` and `execute`, like a Cosmos SDK Msg
//! server), and this file registers the modules once. The top-level `Msg` is
//! generated from that one list, so adding a module is one line here.

use prost::Message;
use tendermint_proto::google::protobuf::Any;

use crate::error::{AppResult, SdkError};
use crate::store::StoreWrite;
use crate::types::Address;

/// Generates the top-level `Msg`, one variant per module (named by the
/// module, e.g. `Msg::bank`), which forwards to the module's own `msgs::Msg`.
/// Each listed module must have `msgs::{Msg, MODULE, decode}` and
/// `msgs::Msg::{signers, type_url, execute}`.
macro_rules! modules {
    ($($module:ident),+ $(,)?) => {
        /// A message Aegis knows how to execute, wrapped by its module.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Msg {
            $($module(crate::$module::msgs::Msg),)+
        }

        impl Msg {
            /// Decode an `Any` by type URL and run the message's stateless checks.
            pub fn decode(any: &Any) -> AppResult<Msg> {
                $(
                    if let Some(msg) = crate::$module::msgs::decode(any) {
                        return msg.map(Msg::$module);
                    }
                )+
                Err(SdkError::UnknownRequest(format!("unrecognized message type {}", any.type_url)).into())
            }

            pub fn signers(&self) -> Vec<Address> {
                match self {
                    $(Msg::$module(m) => m.signers(),)+
                }
            }

            pub fn type_url(&self) -> &'static str {
                match self {
                    $(Msg::$module(m) => m.type_url(),)+
                }
            }

            /// The Cosmos `message.module` event value.
            pub fn module(&self) -> &'static str {
                match self {
                    $(Msg::$module(_) => crate::$module::msgs::MODULE,)+
                }
            }

            /// Run the message's stateful check and execution; returns the
            /// `Any`-packed response.
            pub async fn execute<S: StoreWrite + Send + Sync>(&self, state: &mut S) -> AppResult<Any> {
                match self {
                    $(Msg::$module(m) => m.execute(state).await,)+
                }
            }
        }
    };
}

modules!(bank, restaking, delegation, rewards, avs, slashing, ibc, provider);

/// Decode `any`'s value as `P` and run `check_stateless` on it; for the
/// modules' `decode` functions.
pub fn unpack<P: Message + Default, T>(any: &Any, check_stateless: impl FnOnce(&P) -> AppResult<T>) -> AppResult<T> {
    let proto = P::decode(any.value.as_slice()).map_err(|e| SdkError::TxDecode(format!("cannot decode {}: {e}", any.type_url)))?;
    check_stateless(&proto)
}

/// `Any`-pack a message response under its `/<package>.<Name>` type URL.
pub fn response<M: Message>(type_url: &str, m: &M) -> Any {
    Any { type_url: type_url.into(), value: m.encode_to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::test_signer;
    use crate::types::Coin;

    #[test]
    fn a_message_is_routed_to_the_module_that_claims_its_type_url() {
        let (alice, bob) = (test_signer("alice"), test_signer("bob"));
        let send = alice.msg_send(&bob.address, &[Coin::new("uaegis", 5)]);
        let msg = Msg::decode(&Any { type_url: send.type_url, value: send.value }).unwrap();
        assert!(matches!(msg, Msg::bank(crate::bank::msgs::Msg::Send(_))));
        assert_eq!((msg.module(), msg.type_url(), msg.signers()), ("bank", "/cosmos.bank.v1beta1.MsgSend", vec![alice.address]));
    }

    #[test]
    fn a_type_url_no_module_claims_is_an_unknown_request() {
        let err = Msg::decode(&Any { type_url: "/aegis.nope.v1.MsgNope".into(), value: vec![] }).unwrap_err();
        assert_eq!((err.codespace, err.code), ("sdk", 6));
        assert_eq!(err.message, "unknown request: unrecognized message type /aegis.nope.v1.MsgNope");
    }

    #[test]
    fn bytes_that_do_not_decode_are_a_tx_parse_error_naming_the_type_url() {
        let err = Msg::decode(&Any { type_url: "/aegis.restaking.v1.MsgDeposit".into(), value: vec![0xff] }).unwrap_err();
        assert_eq!((err.codespace, err.code), ("sdk", 2));
        assert!(err.message.starts_with("tx parse error: cannot decode /aegis.restaking.v1.MsgDeposit: "), "{}", err.message);
    }
}
