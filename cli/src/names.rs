//! What people type, parsed: accounts (SS58 or a dev name), hashes, times, and the names of
//! roles, categories, purposes and access, leniently (`lab-results`, `LabResults` and
//! `lab_results` are the same).

use anyhow::{Result, anyhow};
use medledger_client::AccountId32;
use medledger_events::{Access, AmendReason, DataCategory, EmergencyReason, Purpose, Role};

/// An account given with `flag`: an SS58 address, or a dev account's name (`alice`).
pub fn account(s: &str, flag: &str) -> Result<AccountId32> {
    if let Ok(id) = s.trim().parse() {
        return Ok(id);
    }
    crate::keys::dev_account(s)
        .map(|pair| medledger_client::account_of(&pair))
        .ok_or_else(|| {
            anyhow!(
                "{flag} {s:?} is neither an SS58 address nor a dev account ({})",
                crate::keys::DEV_ACCOUNTS.join(", ")
            )
        })
}

/// An account given with `flag`, if it was given.
pub fn optional_account(s: Option<&str>, flag: &str) -> Result<Option<AccountId32>> {
    s.map(|s| account(s, flag)).transpose()
}

/// A 32-byte hash given with `flag` as 0x-hex.
pub fn hash32(s: &str, flag: &str) -> Result<[u8; 32]> {
    s.trim()
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("{flag} {s:?} is not a 0x-prefixed 32-byte hex hash"))
}

/// Milliseconds since 1970 of an RFC 3339 time given with `flag`.
pub fn millis(s: &str, flag: &str) -> Result<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
        anyhow!("{flag} {s:?} is not an RFC 3339 time like 2027-01-31T00:00:00Z: {e}")
    })?;
    u64::try_from(t.timestamp_millis()).map_err(|_| anyhow!("{flag} {s:?} is before 1970"))
}

/// Now, in milliseconds since 1970.
pub fn now_millis() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// A chain time (milliseconds) as RFC 3339.
pub fn time(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn pick<T: Copy + std::fmt::Debug>(what: &str, all: &[T], name: &str) -> Result<T> {
    all.iter()
        .copied()
        .find(|v| norm(&format!("{v:?}")) == norm(name))
        .ok_or_else(|| {
            let known: Vec<_> = all.iter().map(|v| format!("{v:?}")).collect();
            anyhow!(
                "unknown {what} {name:?}; expected one of {}",
                known.join(", ")
            )
        })
}

pub fn role(name: &str) -> Result<Role> {
    pick("role", &Role::ALL, name)
}

pub fn category(name: &str) -> Result<DataCategory> {
    pick("category", &DataCategory::ALL, name)
}

pub fn purpose(name: &str) -> Result<Purpose> {
    pick("purpose", &Purpose::ALL, name)
}

pub fn access(name: &str) -> Result<Access> {
    pick("access", &[Access::Read, Access::Write], name)
}

pub fn emergency_reason(name: &str) -> Result<EmergencyReason> {
    pick(
        "emergency reason",
        &[
            EmergencyReason::PatientIncapacitated,
            EmergencyReason::LifeThreatening,
            EmergencyReason::Other,
        ],
        name,
    )
}

pub fn amend_reason(name: &str) -> Result<AmendReason> {
    pick(
        "amendment reason",
        &[
            AmendReason::Correction,
            AmendReason::Addendum,
            AmendReason::Other,
        ],
        name,
    )
}

/// The names of the categories in a set.
pub fn category_names(set: u16) -> Vec<String> {
    DataCategory::ALL
        .iter()
        .filter(|c| set & c.bit() != 0)
        .map(|c| format!("{c:?}"))
        .collect()
}

pub fn categories(names: &[String]) -> Result<u16> {
    names
        .iter()
        .try_fold(0, |set, n| Ok(set | category(n)?.bit()))
}

pub fn purposes(names: &[String]) -> Result<u8> {
    names
        .iter()
        .try_fold(0, |set, n| Ok(set | purpose(n)?.bit()))
}

pub fn accesses(names: &[String]) -> Result<u8> {
    names
        .iter()
        .try_fold(0, |set, n| Ok(set | access(n)?.bit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_common_spelling() {
        assert_eq!(category("lab-results").ok(), Some(DataCategory::LabResults));
        assert_eq!(category("LabResults").ok(), Some(DataCategory::LabResults));
        assert_eq!(
            category("mental_health").ok(),
            Some(DataCategory::MentalHealth)
        );
        assert_eq!(purpose("public-health").ok(), Some(Purpose::PublicHealth));
        assert_eq!(role("Provider").ok(), Some(Role::Provider));
        assert_eq!(accesses(&["read".into(), "write".into()]).ok(), Some(0b11));
        assert_eq!(
            categories(&["imaging".into(), "labresults".into()]).ok(),
            Some(DataCategory::Imaging.bit() | DataCategory::LabResults.bit())
        );
    }

    #[test]
    fn accounts_are_addresses_or_dev_names_and_nothing_else() {
        let bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
        assert_eq!(
            account(bob, "--grantee").ok().map(|a| a.to_string()),
            Some(bob.into())
        );
        assert_eq!(
            account("bob", "--grantee").ok().map(|a| a.to_string()),
            Some(bob.into())
        );
        let err = account("bobb", "--grantee").expect_err("not an account");
        assert!(
            err.to_string().contains("--grantee \"bobb\" is neither"),
            "{err}"
        );
        assert!(hash32("0x12", "--record-id").is_err());
        assert_eq!(
            hash32(&format!("0x{}", "ab".repeat(32)), "--x").ok(),
            Some([0xab; 32])
        );
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = category("xrays").expect_err("unknown");
        assert!(
            err.to_string().contains("expected one of Demographics"),
            "{err}"
        );
    }
}
