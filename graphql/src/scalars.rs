use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use medledger_store::{AccountId, Hash32};

/// An account, as an SS58 address (any network prefix on input, prefix 42 on output) or a
/// 0x-prefixed 32-byte hex public key on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountIdScalar(pub AccountId);

#[Scalar(name = "AccountId")]
impl ScalarType for AccountIdScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => s
                .parse()
                .map(AccountIdScalar)
                .map_err(InputValueError::custom),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// A 32-byte hash as 0x-prefixed hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashScalar(pub Hash32);

#[Scalar(name = "Hash")]
impl ScalarType for HashScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => s.parse().map(HashScalar).map_err(InputValueError::custom),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}
