//! Tokens as a gateway receives them: each check refuses what it must, and a good token is
//! accepted once.

use medledger_gateway::token::{Claims, PREFIX, TokenError, Verifier, make, nonce};
use medledger_store::AccountId;
use subxt_signer::sr25519::{Keypair, dev};

const GATEWAY: &str = "https://fhir.riverside.example/gateway";
const NOW: u64 = 1_800_000_000;

fn account(k: &Keypair) -> String {
    AccountId(k.public_key().0).to_string()
}

fn claims(k: &Keypair) -> Claims {
    Claims {
        iss: account(k),
        aud: GATEWAY.into(),
        pou: "TREAT".into(),
        iat: NOW,
        exp: NOW + 60,
        nonce: nonce(),
    }
}

#[test]
fn a_good_token_is_accepted_once() {
    let verifier = Verifier::new(GATEWAY, 300);
    let bob = dev::bob();
    let token = make(&bob, &claims(&bob));
    assert!(token.starts_with(PREFIX));
    let got = verifier.verify(&token, NOW + 1).expect("accepted");
    assert_eq!(got.iss, account(&bob));
    assert_eq!(got.pou, "TREAT");
    assert_eq!(verifier.verify(&token, NOW + 2), Err(TokenError::Replayed));
    // another token of the same issuer is fine
    let again = make(&bob, &claims(&bob));
    assert!(verifier.verify(&again, NOW + 2).is_ok());
}

#[test]
fn a_token_signed_by_another_account_than_its_issuer_is_refused() {
    let verifier = Verifier::new(GATEWAY, 300);
    let (bob, eve) = (dev::bob(), dev::eve());
    // Eve signs a token claiming to be Bob
    let forged = make(&eve, &claims(&bob));
    assert_eq!(verifier.verify(&forged, NOW), Err(TokenError::BadSignature));
    // Bob's token with its claims changed afterwards (another purpose)
    let token = make(&bob, &claims(&bob));
    let (head, signature) = token.rsplit_once('.').expect("parts");
    let mut changed = claims(&bob);
    changed.pou = "HRESCH".into();
    let other = make(&bob, &changed);
    let (other_head, _) = other.rsplit_once('.').expect("parts");
    assert_ne!(head, other_head);
    let spliced = format!("{other_head}.{signature}");
    assert_eq!(
        verifier.verify(&spliced, NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn audience_time_lifetime_and_purpose_are_checked() {
    let verifier = Verifier::new(GATEWAY, 300);
    let bob = dev::bob();
    let with = |f: &dyn Fn(&mut Claims)| {
        let mut c = claims(&bob);
        f(&mut c);
        make(&bob, &c)
    };
    let elsewhere = with(&|c| c.aud = "https://other.example".into());
    assert!(matches!(
        verifier.verify(&elsewhere, NOW),
        Err(TokenError::WrongAudience { .. })
    ));
    let expired = with(&|c| c.exp = NOW - 5);
    assert_eq!(
        verifier.verify(&expired, NOW),
        Err(TokenError::Expired { ago: 5 })
    );
    let future = with(&|c| c.iat = NOW + 600);
    assert!(matches!(
        verifier.verify(&future, NOW),
        Err(TokenError::NotYetValid { .. })
    ));
    let endless = with(&|c| c.exp = NOW + 86_400);
    assert_eq!(
        verifier.verify(&endless, NOW),
        Err(TokenError::TooLong {
            lasts: 86_400,
            max: 300
        })
    );
    let odd = with(&|c| c.pou = "SHOPPING".into());
    assert_eq!(
        verifier.verify(&odd, NOW),
        Err(TokenError::UnknownPurpose("SHOPPING".into()))
    );
}

#[test]
fn malformed_tokens_say_what_is_wrong_without_echoing_them() {
    let verifier = Verifier::new(GATEWAY, 300);
    for (token, says) in [
        ("Bearer abc", "does not start with mlt1."),
        ("mlt1.abc", "no signature part"),
        ("mlt1.!!!.abc", "not base64url"),
        ("mlt1.e30.abc", "not the expected JSON"),
    ] {
        let e = verifier.verify(token, NOW).expect_err("refused");
        let line = e.to_string();
        assert!(line.contains(says), "{token}: {line}");
        assert!(!line.contains(token), "the token is echoed: {line}");
    }
}

#[test]
fn a_replayed_nonce_cannot_shorten_how_long_the_first_token_is_remembered() {
    let verifier = Verifier::new(GATEWAY, 300);
    let (bob, eve) = (dev::bob(), dev::eve());
    let first = claims(&bob);
    let token = make(&bob, &first);
    assert!(verifier.verify(&token, NOW).is_ok());
    // a token of the same issuer and nonce, expiring at once, is refused and changes nothing
    let mut short = first.clone();
    short.exp = NOW + 2;
    assert_eq!(
        verifier.verify(&make(&bob, &short), NOW + 1),
        Err(TokenError::Replayed)
    );
    assert_eq!(verifier.verify(&token, NOW + 10), Err(TokenError::Replayed));
    // another issuer choosing the same nonce does not block or free it
    let mut theirs = claims(&eve);
    theirs.nonce = first.nonce.clone();
    assert!(verifier.verify(&make(&eve, &theirs), NOW + 10).is_ok());
    assert_eq!(verifier.verify(&token, NOW + 11), Err(TokenError::Replayed));
}
