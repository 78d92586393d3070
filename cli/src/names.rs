//! User-facing names of roles, categories, purposes and access, parsed leniently
//! (`lab-results`, `LabResults` and `lab_results` are the same).

use anyhow::{Result, anyhow};
use medledger_events::{Access, DataCategory, Purpose, Role};

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
    fn an_unknown_name_lists_the_known_ones() {
        let err = category("xrays").expect_err("unknown");
        assert!(
            err.to_string().contains("expected one of Demographics"),
            "{err}"
        );
    }
}
