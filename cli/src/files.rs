//! Receipts and proofs on disk: written before a transaction is sent (so that a salt can
//! never be lost), completed after it lands, never overwriting someone's file.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `FILE` + `suffix`, beside it (`lab.pdf` -> `lab.pdf.medledger.json`).
pub fn beside(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The bytes of a document named on the command line.
pub fn read_document(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))
}

/// Reads a JSON file of kind `what` (e.g. "receipt").
pub fn read_json<T: DeserializeOwned>(file: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow!("cannot read the {what} {}: {e}", file.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow!("{} is not a medledger {what}: {e}", file.display()))
}

/// Writes `value` to `file`, which must not exist yet.
pub fn write_new<T: Serialize>(file: &Path, value: &T) -> Result<()> {
    use std::io::Write;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!("{} exists already; move it away first", file.display())
            } else {
                anyhow!("cannot write {}: {e}", file.display())
            }
        })?;
    out.write_all(pretty(value)?.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(|e| anyhow!("cannot write {}: {e}", file.display()))
}

/// Replaces `file` with `value` atomically (a temporary file renamed over it).
pub fn replace<T: Serialize>(file: &Path, value: &T) -> Result<()> {
    let tmp = beside(file, ".tmp");
    std::fs::write(&tmp, pretty(value)?)
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| anyhow!("cannot write {}: {e}", file.display()))
}

fn pretty<T: Serialize>(value: &T) -> Result<String> {
    Ok(format!("{}\n", serde_json::to_string_pretty(value)?))
}

/// A salted commitment of `document`, read from `file` (by `commit`, e.g. terms or a
/// justification), its salt kept in `FILE` + `suffix` (which must not exist yet) with the
/// commitment under `field`. The caller removes that file again when the transaction fails.
pub fn salted_sidecar(
    file: &Path,
    document: &[u8],
    suffix: &str,
    field: &str,
    commit: fn(&[u8; 32], &[u8]) -> [u8; 32],
) -> Result<([u8; 32], PathBuf)> {
    let salt = medledger_proofs::random_salt();
    let commitment = commit(&salt, document);
    let sidecar = beside(file, suffix);
    let mut json = serde_json::json!({
        "document": file_name(file),
        "salt": hex_of(salt),
    });
    json[field] = serde_json::json!(hex_of(commitment));
    write_new(&sidecar, &json)?;
    Ok((commitment, sidecar))
}

/// The last part of `file`'s path, as the receipts name a document.
pub fn file_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// `0x`-hex of any bytes (an ink! hash, say).
pub fn hex_of(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}
