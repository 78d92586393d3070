//! What people type, parsed: accounts (SS58 or a dev name), hashes, times, and the names of
//! roles, categories, purposes and access, leniently (`lab-results`, `LabResults` and
//! `lab_results` are the same).

use anyhow::{Result, anyhow};
use medledger_client::AccountId32;
use medledger_events::{
    Access, AmendReason, DataCategory, EmergencyReason, NPI_SYSTEM, OrgIdentifier, OrgKind,
    OrgProfile, ProfileProblem, Purpose, Role, URL_SYSTEM,
};

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

pub fn org_kind(name: &str) -> Result<OrgKind> {
    pick("organization kind", &OrgKind::ALL, name)
}

/// An account shortened for people: its first six and last four characters.
pub fn short(account: &AccountId32) -> String {
    let s = account.to_string();
    match (s.get(..6), s.get(s.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if s.len() > 12 => format!("{head}…{tail}"),
        _ => s,
    }
}

/// `name` with the short address of `account` beside it.
pub fn named(name: &str, account: &AccountId32) -> String {
    format!("{name} ({})", short(account))
}

/// An organization as people see it: its name with the short address beside it, or the
/// short address alone when it has no name.
pub fn org_label(profile: Option<&OrgProfile>, account: &AccountId32) -> String {
    match profile {
        Some(p) => named(&p.name, account),
        None => format!("unnamed organization {}", short(account)),
    }
}

/// A profile from what was typed: the name, the kind, a national provider identifier, a
/// FHIR `Organization` URL and any `SYSTEM=VALUE` identifiers; checked as the contract
/// checks it, so that a mistake is one line here rather than a refused transaction.
pub fn org_profile(
    name: &str,
    kind: &str,
    npi: Option<&str>,
    fhir_url: Option<&str>,
    others: &[String],
) -> Result<OrgProfile> {
    let mut identifiers = Vec::new();
    if let Some(npi) = npi {
        let npi = npi.trim();
        if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(anyhow!(
                "--npi {npi:?} is not a National Provider Identifier (ten digits)"
            ));
        }
        identifiers.push(OrgIdentifier {
            system: NPI_SYSTEM.into(),
            value: npi.into(),
        });
    }
    if let Some(url) = fhir_url {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            anyhow!(
                "--fhir-url {url:?} is not a URL like https://fhir.example.org/Organization/1: {e}"
            )
        })?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(anyhow!("--fhir-url {url:?} is not an http(s) URL"));
        }
        identifiers.push(OrgIdentifier {
            system: URL_SYSTEM.into(),
            value: url.into(),
        });
    }
    for other in others {
        let (system, value) = other.split_once('=').ok_or_else(|| {
            anyhow!("--identifier {other:?} is not SYSTEM=VALUE (e.g. urn:oid:2.16.840.1.113883.4.7=12345)")
        })?;
        identifiers.push(OrgIdentifier {
            system: system.trim().into(),
            value: value.trim().into(),
        });
    }
    let profile = OrgProfile {
        name: name.trim().into(),
        kind: org_kind(kind)?,
        identifiers,
    };
    profile.check().map_err(|problem| {
        anyhow!(match problem {
            ProfileProblem::NameLength => format!(
                "--name must be 1 to {} bytes long",
                medledger_events::MAX_ORG_NAME
            ),
            ProfileProblem::BadText => {
                "a name or identifier may not hold control characters such as line breaks".into()
            }
            ProfileProblem::TooManyIdentifiers => format!(
                "at most {} identifiers (--npi, --fhir-url and --identifier together)",
                medledger_events::MAX_ORG_IDENTIFIERS
            ),
            ProfileProblem::IdentifierLength => format!(
                "an identifier's system must be 1 to {} bytes and its value 1 to {}",
                medledger_events::MAX_IDENTIFIER_SYSTEM,
                medledger_events::MAX_IDENTIFIER_VALUE
            ),
            ProfileProblem::TooLong | ProfileProblem::Undecodable => format!(
                "the name and identifiers take more than the {} bytes an organization's \
                 profile may hold: shorten them, or give fewer identifiers",
                medledger_events::MAX_PROFILE_BYTES
            ),
        })
    })?;
    Ok(profile)
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
    fn a_profile_is_checked_before_anything_is_signed() {
        let p = org_profile(
            " Riverside Clinic ",
            "clinic",
            Some("1234567893"),
            Some("https://fhir.riverside.example/Organization/1"),
            &["urn:oid:2.16.840.1.113883.4.7=12345".into()],
        )
        .expect("a good profile");
        assert_eq!(
            (p.name.as_str(), p.kind),
            ("Riverside Clinic", OrgKind::Clinic)
        );
        assert_eq!(p.identifiers.len(), 3);
        assert_eq!(p.identifiers[0].system, NPI_SYSTEM);
        for (name, kind, npi, url, others, says) in [
            ("", "clinic", None, None, vec![], "--name must be 1 to 64"),
            (
                "X",
                "castle",
                None,
                None,
                vec![],
                "unknown organization kind",
            ),
            ("X", "clinic", Some("12345"), None, vec![], "ten digits"),
            (
                "X",
                "clinic",
                None,
                Some("fhir.example"),
                vec![],
                "is not a URL",
            ),
            (
                "X",
                "clinic",
                None,
                None,
                vec!["nosystem".to_string()],
                "SYSTEM=VALUE",
            ),
            (
                "Line\nbreak",
                "clinic",
                None,
                None,
                vec![],
                "control characters",
            ),
        ] {
            let err = org_profile(name, kind, npi, url, &others).expect_err(says);
            assert!(err.to_string().contains(says), "{err}");
        }
    }

    #[test]
    fn an_organization_shows_its_name_beside_a_short_address() {
        let bob: AccountId32 = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
            .parse()
            .expect("address");
        let p = org_profile("Riverside Clinic", "clinic", None, None, &[]).expect("profile");
        assert_eq!(org_label(Some(&p), &bob), "Riverside Clinic (5FHneW…94ty)");
        assert_eq!(org_label(None, &bob), "unnamed organization 5FHneW…94ty");
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
