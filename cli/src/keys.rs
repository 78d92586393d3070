//! Who signs: a wallet's JSON export (`--key-file`), `MEDLEDGER_SURI`, or `--suri` for dev
//! accounts. Secrets are held in `secrecy` wrappers (zeroed when dropped) only until the
//! keypair is derived, and never printed: errors name the file or the flag, not the secret.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use medledger_client::{Keypair, signer_from_suri};
use secrecy::{ExposeSecret, SecretString};
use subxt_signer::DeriveJunction;
use subxt_signer::sr25519::dev;

use crate::args::SignerArgs;

/// The dev accounts every `--dev` chain funds, by name.
pub const DEV_ACCOUNTS: [&str; 6] = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];

/// The dev keypair called `name` (`alice` or `//Alice`, any case), if it is one.
pub fn dev_account(name: &str) -> Option<Keypair> {
    let name = name.trim().trim_start_matches("//").to_ascii_lowercase();
    Some(match name.as_str() {
        "alice" => dev::alice(),
        "bob" => dev::bob(),
        "charlie" => dev::charlie(),
        "dave" => dev::dave(),
        "eve" => dev::eve(),
        "ferdie" => dev::ferdie(),
        _ => return None,
    })
}

/// The signer's key for the salts of the documents it anchors
/// (`medledger_proofs::document_salt`): the public key of its hard-derived child
/// `//medledger/document-salt-key/v1`. Hard derivation needs the signer's secret, so nobody
/// else can compute it, and the same key file or secret gives the same key on any machine,
/// so that anchoring a document again gives the same commitment.
pub fn salt_key(signer: &Keypair) -> [u8; 32] {
    signer
        .derive([DeriveJunction::hard("medledger/document-salt-key/v1")])
        .public_key()
        .0
}

/// The signer the flags name. A flag beats the environment: `--key-file`, then `--suri`,
/// then `MEDLEDGER_KEY_FILE`, then `MEDLEDGER_SURI`.
///
/// # Errors
/// When none is given, the key file cannot be read or decrypted, or the secret URI is invalid.
pub fn signer(args: SignerArgs) -> Result<Keypair> {
    let key_file = match (args.key_file, &args.suri) {
        (Some(file), _) => Some(file),
        (None, None) => std::env::var_os("MEDLEDGER_KEY_FILE").map(PathBuf::from),
        (None, Some(_)) => None,
    };
    if let Some(file) = &key_file {
        return from_key_file(file, password_for(file)?);
    }
    if let Some(suri) = args.suri {
        if let Some(pair) = dev_account(&suri) {
            return Ok(pair);
        }
        let suri = SecretString::from(suri);
        let pair = signer_from_suri(suri.expose_secret())?;
        eprintln!(
            "warning: a secret given with --suri is visible to other users (ps) and in shell \
             history; use MEDLEDGER_SURI or --key-file"
        );
        return Ok(pair);
    }
    if let Ok(suri) = std::env::var("MEDLEDGER_SURI") {
        let suri = SecretString::from(suri);
        if let Some(pair) = dev_account(suri.expose_secret()) {
            return Ok(pair);
        }
        return signer_from_suri(suri.expose_secret()).map_err(|e| anyhow!("MEDLEDGER_SURI: {e}"));
    }
    bail!(
        "no signer: pass --key-file FILE (a wallet's JSON export), set MEDLEDGER_SURI, or \
         --suri alice for a dev account"
    )
}

/// The password of `file`: `MEDLEDGER_KEY_PASSWORD`, else asked on the terminal.
fn password_for(file: &Path) -> Result<SecretString> {
    if let Ok(p) = std::env::var("MEDLEDGER_KEY_PASSWORD") {
        return Ok(SecretString::from(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password for {}: set MEDLEDGER_KEY_PASSWORD, or run on a terminal to be asked",
            file.display()
        );
    }
    rpassword::prompt_password(format!("password of {}: ", file.display()))
        .map(SecretString::from)
        .map_err(|e| anyhow!("cannot read the password of {}: {e}", file.display()))
}

/// Decrypts a polkadot.js-format JSON export (scrypt + xsalsa20-poly1305, sr25519).
fn from_key_file(file: &Path, password: SecretString) -> Result<Keypair> {
    let json = std::fs::read_to_string(file)
        .map_err(|e| anyhow!("cannot read the key file {}: {e}", file.display()))?;
    let shown = file.display();
    let pair = subxt_signer::polkadot_js_compat::decrypt_json(&json, password.expose_secret())
        .map_err(|e| {
            use subxt_signer::polkadot_js_compat::Error as E;
            match e {
                E::Secretbox(_) => anyhow!("wrong password for the key file {shown}"),
                E::Json(_) | E::Base64(_) => anyhow!(
                    "{shown} is not a wallet's JSON account export (polkadot.js, Talisman, SubWallet)"
                ),
                E::UnsupportedEncoding | E::UnsupportedScryptParameters { .. } => anyhow!(
                    "{shown} is encrypted in a way this version does not read (export it again from the wallet)"
                ),
                _ => anyhow!("{shown} does not hold a valid sr25519 key"),
            }
        })?;
    drop(password);
    // The export names its address: a different one means the file was tampered with.
    if let Some(address) = serde_json::from_str::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| v.get("address").and_then(|a| a.as_str()).map(str::to_owned))
    {
        let ours = medledger_client::account_of(&pair);
        let theirs: Option<medledger_client::AccountId32> = address.parse().ok();
        if theirs.is_some_and(|t| t != ours) {
            bail!("{shown} names the address {address}, but its key is {ours}");
        }
    }
    Ok(pair)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signers_salt_key_is_its_own_and_never_its_public_key() {
        let (alice, bob) = (dev::alice(), dev::bob());
        assert_eq!(
            salt_key(&alice),
            salt_key(&dev::alice()),
            "the same on every run"
        );
        assert_ne!(salt_key(&alice), salt_key(&bob));
        assert_ne!(salt_key(&alice), alice.public_key().0);
    }

    #[test]
    fn dev_names_are_the_dev_keys_in_any_spelling() {
        let alice = medledger_client::account_of(&dev::alice());
        for name in ["alice", "Alice", "//Alice", " ALICE "] {
            let pair = dev_account(name).expect("a dev name");
            assert_eq!(medledger_client::account_of(&pair), alice, "{name}");
        }
        assert!(dev_account("mallory").is_none());
        assert!(dev_account("//Alice//stash").is_none());
    }
}
