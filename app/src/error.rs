//! Errors that reach users: every one carries a codespace (the module), a
//! stable numeric code and a message naming the values involved.
//!
//! Generic transaction errors use the Cosmos SDK's own codespace `sdk` and
//! codes, so Cosmos clients (cosmjs, wallets) recognise them unchanged.

use std::fmt;

/// Implemented by every module's error enum.
pub trait ErrorCode: fmt::Display {
    fn codespace(&self) -> &'static str;
    fn code(&self) -> u32;
}

/// The error type transaction and query handling returns: a flattened
/// `ErrorCode` plus its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppError {
    pub codespace: &'static str,
    pub code: u32,
    pub message: String,
}

impl AppError {
    /// A failure that is not the user's fault (storage, corrupted state).
    pub fn internal(msg: impl fmt::Display) -> Self {
        Self { codespace: "undefined", code: 1, message: format!("internal error: {msg}") }
    }

    pub fn is(&self, e: &impl ErrorCode) -> bool {
        self.codespace == e.codespace() && self.code == e.code()
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl<E: ErrorCode> From<E> for AppError {
    fn from(e: E) -> Self {
        Self { codespace: e.codespace(), code: e.code(), message: e.to_string() }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::internal(format!("{e:#}"))
    }
}

/// Errors shared by every module, numbered as the Cosmos SDK numbers them
/// (types/errors/errors.go), in codespace `sdk`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SdkError {
    #[error("tx parse error: {0}")]
    TxDecode(String),
    #[error("account sequence mismatch: expected {expected}, got {got}")]
    WrongSequence { expected: u64, got: u64 },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("insufficient funds: have {have}, need {need}")]
    InsufficientFunds { have: String, need: String },
    #[error("unknown request: {0}")]
    UnknownRequest(String),
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("invalid pubkey: {0}")]
    InvalidPubKey(String),
    #[error("unknown address: account {0} does not exist")]
    UnknownAddress(String),
    #[error("invalid coins: {0}")]
    InvalidCoins(String),
    #[error("out of gas: gas limit {limit}, gas needed at least {needed} ({descriptor})")]
    OutOfGas { limit: u64, needed: u64, descriptor: &'static str },
    #[error("memo too large: {len} bytes, max {max}")]
    MemoTooLarge { len: usize, max: usize },
    #[error("insufficient fee: got {got}, required {required} ({gas_limit} gas at minimum gas price {min_gas_price})")]
    InsufficientFee { got: String, required: String, gas_limit: u64, min_gas_price: String },
    #[error("no signatures supplied")]
    NoSignatures,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("tx too large: {size} bytes, max {max}")]
    TxTooLarge { size: usize, max: usize },
    #[error("key not found: {0}")]
    KeyNotFound(String),
    #[error("invalid height: {0}")]
    InvalidHeight(String),
    #[error("invalid chain-id: {0}")]
    InvalidChainId(String),
    #[error("tx timeout height {timeout} is lower than block height {height}")]
    TxTimeoutHeight { timeout: u64, height: u64 },
    #[error("unknown extension options: {0}")]
    UnknownExtensionOptions(String),
    #[error("not supported: {0}")]
    NotSupported(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid gas limit: {0}")]
    InvalidGasLimit(String),
}

impl ErrorCode for SdkError {
    fn codespace(&self) -> &'static str {
        "sdk"
    }

    fn code(&self) -> u32 {
        use SdkError::*;
        match self {
            TxDecode(_) => 2,
            Unauthorized(_) => 4,
            InsufficientFunds { .. } => 5,
            UnknownRequest(_) => 6,
            InvalidAddress { .. } => 7,
            InvalidPubKey(_) => 8,
            UnknownAddress(_) => 9,
            InvalidCoins(_) => 10,
            OutOfGas { .. } => 11,
            MemoTooLarge { .. } => 12,
            InsufficientFee { .. } => 13,
            NoSignatures => 15,
            InvalidRequest(_) => 18,
            TxTooLarge { .. } => 21,
            KeyNotFound(_) => 22,
            InvalidHeight(_) => 26,
            InvalidChainId(_) => 28,
            TxTimeoutHeight { .. } => 30,
            UnknownExtensionOptions(_) => 31,
            WrongSequence { .. } => 32,
            NotSupported(_) => 37,
            NotFound(_) => 38,
            InvalidGasLimit(_) => 41,
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
