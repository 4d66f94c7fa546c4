//! `/cosmos.bank.v1beta1.MsgSend`.

use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;

use super::{BankError, BankWrite};
use crate::error::{AppResult, SdkError};
use crate::types::{Address, Coins};

pub const MSG_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
pub const MSG_SEND_RESPONSE_URL: &str = "/cosmos.bank.v1beta1.MsgSendResponse";

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
