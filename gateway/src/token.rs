//! Bearer tokens: `mlt1.<claims>.<signature>`, both parts base64url without padding. The
//! claims are JSON; the signature is sr25519 by the issuer's account over `<Bytes>mlt1.` +
//! `<claims part>` + `</Bytes>` — exactly what a browser wallet's `signRaw` signs for a
//! bytes payload, so an organization's web app can make tokens with its wallet.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use medledger_store::AccountId;
use serde::{Deserialize, Serialize};
use subxt_signer::sr25519::{Keypair, PublicKey, Signature, verify};

/// What starts every token of this format.
pub const PREFIX: &str = "mlt1.";

/// The purposes of use a token may name: v3 ActReason codes.
pub const PURPOSES: [&str; 7] = [
    "TREAT", "ETREAT", "HPAYMT", "HOPERAT", "HRESCH", "PUBHLTH", "PATRQT",
];

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The requesting organization's account (SS58): the signer.
    pub iss: String,
    /// The gateway it is for (its public URL).
    pub aud: String,
    /// The purpose of use, a v3 ActReason code (`TREAT`).
    pub pou: String,
    /// When it was made, and until when it may be used: seconds since 1970.
    pub iat: u64,
    pub exp: u64,
    /// 16 random bytes, hex: a token is accepted once.
    pub nonce: String,
}

/// Why a token was refused. Each says what is wrong, never the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    #[error("the token's signature is not its issuer's")]
    BadSignature,
    #[error("the token is for {got}, not for this gateway ({expected})")]
    WrongAudience { expected: String, got: String },
    #[error("the token expired {ago} s ago")]
    Expired { ago: u64 },
    #[error("the token is not valid yet (made {ahead} s in the future)")]
    NotYetValid { ahead: u64 },
    #[error("the token lasts {lasts} s; this gateway accepts at most {max} s")]
    TooLong { lasts: u64, max: u64 },
    #[error("the token was used before: make a new one for each request")]
    Replayed,
    #[error("the token's purpose of use {0:?} is not one of {PURPOSES:?}")]
    UnknownPurpose(String),
}

/// The bytes a token's issuer signs for its claims part.
fn signed_bytes(claims_part: &str) -> Vec<u8> {
    // The format's prefix is signed too: a wallet signature over some other base64 text
    // is no token.
    format!("<Bytes>{PREFIX}{claims_part}</Bytes>").into_bytes()
}

/// A token for `claims`, signed by `signer` (whose account must be `claims.iss`).
pub fn make(signer: &Keypair, claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let part = URL_SAFE_NO_PAD.encode(json);
    let signature = signer.sign(&signed_bytes(&part));
    format!("{PREFIX}{part}.{}", URL_SAFE_NO_PAD.encode(signature.0))
}

/// A fresh nonce: 16 random bytes, hex.
pub fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Checks tokens for one gateway, remembering the nonces it accepted until they expire.
pub struct Verifier {
    audience: String,
    max_lifetime: u64,
    /// How far a token's `iat` may be ahead of this clock (clocks differ a little).
    skew: u64,
    /// (issuer, nonce) of the tokens accepted, with their expiry.
    seen: Mutex<HashMap<([u8; 32], String), u64>>,
}

impl Verifier {
    /// A verifier for the gateway `audience`, accepting tokens that last at most
    /// `max_lifetime` seconds.
    pub fn new(audience: impl Into<String>, max_lifetime: u64) -> Self {
        Verifier {
            audience: audience.into(),
            max_lifetime,
            skew: 30,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The claims of `token` at `now` (seconds since 1970), once: its signature is its
    /// issuer's, it is for this gateway, valid now, not too long-lived, and not seen before.
    ///
    /// # Errors
    /// [`TokenError`] saying which check failed.
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let rest = token
            .strip_prefix(PREFIX)
            .ok_or(TokenError::Malformed("it does not start with mlt1."))?;
        let (part, signature) = rest
            .split_once('.')
            .ok_or(TokenError::Malformed("it has no signature part"))?;
        let json = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed("its claims are not base64url"))?;
        let claims: Claims = serde_json::from_slice(&json)
            .map_err(|_| TokenError::Malformed("its claims are not the expected JSON"))?;
        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(TokenError::Malformed(
                "its signature is not 64 base64url bytes",
            ))?;
        let account: AccountId = claims
            .iss
            .parse()
            .map_err(|_| TokenError::Malformed("its issuer is not an SS58 account"))?;
        if !verify(
            &Signature(signature),
            signed_bytes(part),
            &PublicKey(account.0),
        ) {
            return Err(TokenError::BadSignature);
        }
        if claims.aud != self.audience {
            return Err(TokenError::WrongAudience {
                expected: self.audience.clone(),
                got: claims.aud,
            });
        }
        if claims.nonce.len() != 32 || !claims.nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TokenError::Malformed("its nonce is not 16 bytes of hex"));
        }
        if !PURPOSES.contains(&claims.pou.as_str()) {
            return Err(TokenError::UnknownPurpose(claims.pou));
        }
        if claims.exp <= now {
            return Err(TokenError::Expired {
                ago: now - claims.exp,
            });
        }
        if claims.iat > now + self.skew {
            return Err(TokenError::NotYetValid {
                ahead: claims.iat - now,
            });
        }
        let lasts = claims.exp.saturating_sub(claims.iat);
        if lasts > self.max_lifetime {
            return Err(TokenError::TooLong {
                lasts,
                max: self.max_lifetime,
            });
        }
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| TokenError::Malformed("the verifier's memory is poisoned"))?;
        seen.retain(|_, exp| *exp > now);
        // A nonce already seen keeps the expiry it was accepted with: a later token naming it
        // cannot shorten how long the first is remembered.
        match seen.entry((account.0, claims.nonce.clone())) {
            std::collections::hash_map::Entry::Occupied(_) => return Err(TokenError::Replayed),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(claims.exp);
            }
        }
        Ok(claims)
    }
}
