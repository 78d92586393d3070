//! medledger's FHIR gateway, built in parts. This part says **who is asking**: a short-lived
//! bearer token signed by the requesting organization's chain account (sr25519, as a wallet's
//! `signRaw` or `medledger token` signs it), naming the gateway it is for, the purpose of use,
//! its expiry and a nonce; the gateway checks all four and refuses a token seen before.
//! And **what a resource is**: the data category of a FHIR resource, from a labeling table
//! operators can change, so that the consent rule can be asked about it.
//!
//! It must not decide what is released (that is the consent rule, taken from the mirror) nor
//! trust anything a token says about the organization beyond its account: whether that
//! account is a registered, active organization is the mirror's to say.

pub mod labels;
pub mod token;
