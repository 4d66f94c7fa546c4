//! `/cosmos.bank.v1beta1.MsgSend`.

use cosmos_sdk_proto::cosmos::bank::v1beta1::{MsgSend, MsgSendResponse};
use tendermint_proto::google::protobuf::Any;

use super::{BankError, BankWrite};
use crate::error::{AppResult, SdkError};
use crate::router::{response, unpack};
use crate::store::StoreWrite;
use crate::types::{Address, Coins};

pub const MSG_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
pub const MSG_SEND_RESPONSE_URL: &str = "/cosmos.bank.v1beta1.MsgSendResponse";

/// The `message.module` event value.
pub const MODULE: &str = "bank";

/// The bank module's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    Send(Transfer),
}

/// Decode and check statelessly; `None` if the type URL is not a bank message.
pub fn decode(any: &Any) -> Option<AppResult<Msg>> {
    Some(match any.type_url.as_str() {
        MSG_SEND_URL => unpack(any, Transfer::check_stateless).map(Msg::Send),
        _ => return None,
    })
}

impl Msg {
    pub fn signers(&self) -> Vec<Address> {
        match self {
            Msg::Send(m) => vec![m.signer()],
        }
    }

    pub fn type_url(&self) -> &'static str {
        match self {
            Msg::Send(_) => MSG_SEND_URL,
        }
    }

    /// Check against state and execute; returns the `Any`-packed response.
    pub async fn execute<S: StoreWrite + Send>(&self, state: &mut S) -> AppResult<Any> {
        match self {
            Msg::Send(m) => {
                m.check_and_execute(state).await?;
                Ok(response(MSG_SEND_RESPONSE_URL, &MsgSendResponse {}))
            }
        }
    }
}

/// A MsgSend whose addresses and coins passed the stateless checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub from: Address,
    pub to: Address,
    pub amount: Coins,
}

impl Transfer {
    /// Stateless: well-formed addresses, a non-empty sorted set of positive
    /// coins that fit u128.
    pub fn check_stateless(msg: &MsgSend) -> AppResult<Self> {
        let from = Address::parse(&msg.from_address)?;
        let to = Address::parse(&msg.to_address)?;
        let amount = Coins::from_proto(&msg.amount)?;
        if amount.is_empty() {
            return Err(SdkError::InvalidCoins(BankError::NoCoins.to_string()).into());
        }
        Ok(Transfer { from, to, amount })
    }

    pub fn signer(&self) -> Address {
        self.from
    }

    pub async fn check_and_execute<S: BankWrite + Send>(&self, state: &mut S) -> AppResult<()> {
        if crate::app::is_module_account(&self.to) {
            return Err(BankError::BlockedRecipient { address: self.to.to_string() }.into());
        }
        state.send_coins(&self.from, &self.to, &self.amount).await
    }
}
