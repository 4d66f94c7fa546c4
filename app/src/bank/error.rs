use crate::error::ErrorCode;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    #[error("{address} is a module account and is not allowed to receive funds")]
    BlockedRecipient { address: String },
    #[error("no coins to send")]
    NoCoins,
    #[error("supply of {denom} overflows: {supply} + {add}")]
    SupplyOverflow { denom: String, supply: String, add: String },
    #[error("genesis: duplicate balance entry for {0}")]
    DuplicateGenesisBalance(String),
    #[error("invariant broken: {0}")]
    Invariant(String),
}

impl ErrorCode for BankError {
    fn codespace(&self) -> &'static str {
        "bank"
    }

    fn code(&self) -> u32 {
        match self {
            BankError::NoCoins => 2,
            BankError::BlockedRecipient { .. } => 3,
            BankError::SupplyOverflow { .. } => 4,
            BankError::DuplicateGenesisBalance(_) => 5,
            BankError::Invariant(_) => 6,
        }
    }
}
