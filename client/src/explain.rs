//! The contracts' errors in words: what a person reading a refusal needs to know, for every
//! variant (the matches are exhaustive, so a new variant cannot go unexplained).

use medledger_consent::consent_registry::Error as ConsentError;
use medledger_records::record_registry::Error as RecordsError;

/// A contract's `Error`, with a sentence for people.
pub trait ContractError: scale::Decode + std::fmt::Debug {
    /// What went wrong and, where it helps, what to do.
    fn sentence(&self) -> &'static str;
}

impl ContractError for ConsentError {
    fn sentence(&self) -> &'static str {
        use ConsentError::*;
        match self {
            NotRegistrar => "only the registrar may do this",
            AlreadyRegistered => "the account is already a registered organization",
            NotRegistered => "the account is not a registered organization",
            AlreadySuspended => "the organization is suspended already",
            NotSuspended => "the organization is not suspended",
            UnknownFlags => "the organization flags contain unknown bits",
            NotProposedRegistrar => "no registrar handover was proposed to this account",
            InvalidPolicy => "a limit of the policy is zero or above its cap",
            GranteeNotRegistered => "consents can only be granted to registered organizations",
            SelfGrant => {
                "a patient cannot grant consent, delegation or emergency access to themself"
            }
            InvalidCategories => "the categories are empty or unknown",
            InvalidPurposes => "the purposes are empty or unknown",
            InvalidAccess => "the access is empty or unknown",
            InvalidValidity => "the end of validity is not after its start (or not in the future)",
            NoActiveConsent => "there is no active consent for this organization to revoke",
            NotDelegate => "the signer is not an unexpired delegate of the patient",
            NoDelegate => "the patient has no such delegate",
            DelegateActsForItself => {
                "a delegate cannot act for itself: no consent to itself, no block or emergency window of its own"
            }
            OutlivesDelegation => "a delegate's grant must end, and no later than the delegation",
            DelegationTooLong => {
                "the delegation would last longer than the registrar's policy allows"
            }
            NotEmergencyProvider => {
                "only registered providers allowed emergency access may break the glass, or be blocked from it"
            }
            EmergencyBlocked => "the patient has blocked this provider from emergency access",
            EmergencyOpen => "this provider already has an open emergency window for the patient",
            EmergencyCoolingDown => {
                "this provider's last emergency window for the patient ended recently; the cool-down has not passed"
            }
            NoWindowToEnd => {
                "this provider has no emergency window on the patient to end (none was opened, or it was ended already)"
            }
            UpgradeFailed => "the upgrade failed and nothing changed",
            NotUpgrading => "migrate runs only inside an upgrade",
            UnsupportedStorageVersion => "the stored data is of a version this code cannot migrate",
            Overflow => "a counter or a time would overflow",
            InvalidProfile => {
                "the organization's name, kind or identifiers are out of bounds (a name of 1 to 64 bytes, at most 4 identifiers)"
            }
            GranteeSuspended => {
                "the organization is suspended by the registrar; a consent to it would have no effect"
            }
            BlockUnchanged => "the provider is already blocked, or not blocked, as asked",
            UpgradeNotAnnounced => "no upgrade to this code was announced",
            UpgradeTooEarly => "the announced upgrade's waiting time has not passed yet",
        }
    }
}

impl ContractError for RecordsError {
    fn sentence(&self) -> &'static str {
        use RecordsError::*;
        match self {
            NotProvider => {
                "only the patient or a registered provider may anchor or amend the patient's records"
            }
            NotInsurer => "only registered insurers may attest claims",
            OrgSuspended => "the organization is suspended",
            NotAuthorized => {
                "the patient's consent in force does not cover this (Write for treatment to anchor or amend, Read for payment to attest a claim)"
            }
            RecordExists => "the signer already anchored a record with this id",
            CommitmentExists => "the signer already anchored this document (same commitment)",
            ConsentCheckFailed => "the record registry could not ask the consent registry",
            UnknownRecord => "no such record was anchored by this custodian for this patient",
            NotActiveOrg => "only active registered organizations may anchor batches",
            EmptyBatch => "a batch needs at least one document",
            BatchExists => "the signer already anchored this batch root",
            EmptyClaim => "a claim needs at least one document",
            TooManyDocuments => "a claim may name at most 32 documents",
            DuplicateDocument => "the claim names the same document twice",
            ClaimExists => "the signer already attested a claim with this reference",
            DocumentNotAnchored => {
                "a document of the claim is not anchored by its custodian for the claim's patient"
            }
            InvalidCategories => "the categories are empty or unknown",
            NotRegistered => "only registered organizations may write the access log",
            NotRegistrar => "only the consent registry's registrar may upgrade this contract",
            UpgradeFailed => "the upgrade failed and nothing changed",
            NotUpgrading => "migrate runs only inside an upgrade",
            UnsupportedStorageVersion => "the stored data is of a version this code cannot migrate",
            Overflow => "a version counter or a time would overflow",
            UpgradeNotAnnounced => "no upgrade of the record registry to this code was announced",
            UpgradeTooEarly => {
                "the announced upgrade of the record registry has not waited its delay yet"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant of `E`, by decoding each enum index until one does not decode.
    fn every_variant<E: scale::Decode>() -> Vec<E> {
        (0u8..=u8::MAX)
            .map_while(|i| E::decode(&mut &[i][..]).ok())
            .collect()
    }

    fn check<E: ContractError>(min: usize) {
        let all = every_variant::<E>();
        assert!(all.len() >= min, "only {} variants decoded", all.len());
        let sentences: std::collections::HashSet<_> = all.iter().map(|e| e.sentence()).collect();
        for e in &all {
            let s = e.sentence();
            assert!(
                s.len() > 15 && !s.contains('\n') && !s.ends_with('.'),
                "{e:?}: {s:?}"
            );
        }
        // "UpgradeFailed", "NotUpgrading" etc. may share words across contracts, but within
        // one contract every error says something different.
        assert_eq!(sentences.len(), all.len(), "two errors share a sentence");
    }

    #[test]
    fn every_consent_registry_error_has_its_own_sentence() {
        check::<ConsentError>(34);
    }

    #[test]
    fn every_record_registry_error_has_its_own_sentence() {
        check::<RecordsError>(25);
    }

    #[test]
    fn a_refusal_names_the_error_and_says_it_in_words() {
        let e = crate::CallError::Rejected {
            error: format!("{:?}", RecordsError::NotAuthorized),
            sentence: RecordsError::NotAuthorized.sentence(),
        };
        let line = e.to_string();
        assert!(line.starts_with("the contract refused: the patient's consent in force"));
        assert!(line.ends_with("(NotAuthorized)"), "{line}");
    }
}
