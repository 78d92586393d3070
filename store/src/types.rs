use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

/// The SS58 address format used for display: 42, generic Substrate.
const SS58_PREFIX: u8 = 42;

/// Names of the data categories, in bit order (bit `i` is `CATEGORY_NAMES[i]`).
/// Must match `medledger_events::DataCategory` (checked by the indexer's tests).
pub const CATEGORY_NAMES: [&str; 14] = [
    "Demographics",
    "Allergies",
    "Medications",
    "Problems",
    "LabResults",
    "Imaging",
    "ClinicalNotes",
    "Immunizations",
    "Procedures",
    "Genomics",
    "MentalHealth",
    "SubstanceUse",
    "SexualHealth",
    "Billing",
];
/// Names of the purposes of use, in bit order.
pub const PURPOSE_NAMES: [&str; 6] = [
    "Treatment",
    "Payment",
    "Operations",
    "Research",
    "PublicHealth",
    "PatientRequest",
];
/// Names of the access kinds, in bit order.
pub const ACCESS_NAMES: [&str; 2] = ["Read", "Write"];
/// Names of the organization roles.
pub const ROLE_NAMES: [&str; 5] = ["Provider", "Insurer", "Researcher", "Auditor", "App"];
/// Names of the organization kinds, in the contracts' order.
pub const ORG_KIND_NAMES: [&str; 8] = [
    "Hospital",
    "Clinic",
    "Laboratory",
    "Pharmacy",
    "Insurer",
    "Research",
    "PublicHealth",
    "App",
];
/// Whether a reused claim document was claimed before by the same insurer or only by others.
pub const CLAIM_REUSE_NAMES: [&str; 2] = ["SameInsurer", "OtherInsurer"];
/// Whether a reused claim document is the same document or another version of its record.
pub const CLAIM_OVERLAP_NAMES: [&str; 2] = ["SameDocument", "SameRecord"];

/// An identifier an organization is known by elsewhere: the issuing system (a URI) and the
/// value within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgIdentifier {
    pub system: String,
    pub value: String,
}

/// What people recognize an organization by, as the registrar set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgProfile {
    pub name: String,
    /// One of [`ORG_KIND_NAMES`].
    pub kind: String,
    pub identifiers: Vec<OrgIdentifier>,
}

/// The names of the bits set in `bits`, in bit order.
pub fn names_of_bits(bits: u64, names: &[&'static str]) -> Vec<&'static str> {
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// A malformed account or hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{0:?} is not an SS58 address or 0x-prefixed 32-byte hex account id")]
    Account(String),
    #[error("{0:?} is not a 0x-prefixed 32-byte hex hash")]
    Hash(String),
}

/// A 32-byte account id. Shown as SS58 (prefix 42); parsed from SS58 of any prefix or from
/// 0x-hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub [u8; 32]);

fn ss58_checksum(payload: &[u8]) -> [u8; 2] {
    use blake2::{Blake2b512, Digest};
    let mut hasher = Blake2b512::new();
    hasher.update(b"SS58PRE");
    hasher.update(payload);
    let digest = hasher.finalize();
    [digest[0], digest[1]]
}

fn ss58(account: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(35);
    bytes.push(SS58_PREFIX);
    bytes.extend_from_slice(account);
    let checksum = ss58_checksum(&bytes);
    bytes.extend_from_slice(&checksum);
    bs58::encode(bytes).into_string()
}

/// Accounts shown lately, per thread: a backfill writes the same few accounts hundreds of
/// thousands of times, and base58 is the costliest part of writing a row.
const SS58_CACHE_SIZE: usize = 4096;

thread_local! {
    static SS58_CACHE: std::cell::RefCell<std::collections::HashMap<[u8; 32], std::rc::Rc<str>>> =
        std::cell::RefCell::default();
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = SS58_CACHE.with_borrow_mut(|cache| {
            if let Some(shown) = cache.get(&self.0) {
                return shown.clone();
            }
            if cache.len() >= SS58_CACHE_SIZE {
                cache.clear();
            }
            let shown: std::rc::Rc<str> = ss58(&self.0).into();
            cache.insert(self.0, shown.clone());
            shown
        });
        f.write_str(&shown)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

impl FromStr for AccountId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Account(s.to_string());
        if s.starts_with("0x") {
            return parse_hex32(s).map(AccountId).ok_or_else(bad);
        }
        let bytes = bs58::decode(s).into_vec().map_err(|_| bad())?;
        // One prefix byte for prefixes < 64, two above.
        let prefix_len = match bytes.len() {
            35 => 1,
            36 => 2,
            _ => return Err(bad()),
        };
        let (payload, checksum) = bytes.split_at(bytes.len() - 2);
        if ss58_checksum(payload) != checksum {
            return Err(bad());
        }
        let account: [u8; 32] = payload[prefix_len..].try_into().map_err(|_| bad())?;
        Ok(AccountId(account))
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A 32-byte hash (commitment, record id, block hash), shown as 0x-hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash32(pub [u8; 32]);

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let digits = s.strip_prefix("0x")?;
    let bytes = hex::decode(digits).ok()?;
    bytes.try_into().ok()
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // On the stack: a backfill shows a few hashes per event.
        let mut digits = [0u8; 64];
        hex::encode_to_slice(self.0, &mut digits).map_err(|_| fmt::Error)?;
        f.write_str("0x")?;
        f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({self})")
    }
}

impl FromStr for Hash32 {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hex32(s)
            .map(Hash32)
            .ok_or_else(|| ParseError::Hash(s.to_string()))
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A record as the RecordRegistry keys it: (custodian, record id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordRef {
    pub custodian: AccountId,
    pub record_id: Hash32,
}

/// An anchored document as the RecordRegistry keys it: (custodian, commitment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnchorRef {
    pub custodian: AccountId,
    pub commitment: Hash32,
}

/// A medledger contract event, decoded and in store terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum ChainEvent {
    OrgRegistered {
        org: AccountId,
        role: &'static str,
        flags: u32,
        /// `None` for registrations of the contracts' second release, which had none.
        profile: Option<OrgProfile>,
    },
    OrgUpdated {
        org: AccountId,
        /// `None` when the bytes the registrar gave are no readable profile.
        profile: Option<OrgProfile>,
    },
    OrgSuspended {
        org: AccountId,
    },
    OrgReinstated {
        org: AccountId,
    },
    RegistrarProposed {
        current: AccountId,
        proposed: AccountId,
    },
    RegistrarChanged {
        previous: AccountId,
        registrar: AccountId,
    },
    PolicyChanged {
        emergency_window_ms: u64,
        emergency_cooldown_ms: u64,
        max_delegation_ms: u64,
    },
    ContractUpgraded {
        code_hash: Hash32,
        from_version: u32,
        storage_version: u32,
    },
    UpgradeAnnounced {
        code_hash: Hash32,
        effective_at: u64,
    },
    UpgradeCancelled {
        code_hash: Hash32,
    },
    ConsentGranted {
        patient: AccountId,
        grantee: AccountId,
        categories: u16,
        purposes: u8,
        access: u8,
        valid_from: u64,
        expires_at: Option<u64>,
        terms_hash: Hash32,
        version: u32,
        by: AccountId,
    },
    ConsentRevoked {
        patient: AccountId,
        grantee: AccountId,
        version: u32,
        by: AccountId,
    },
    DelegateSet {
        patient: AccountId,
        delegate: AccountId,
        expires_at: u64,
    },
    DelegateRemoved {
        patient: AccountId,
        delegate: AccountId,
    },
    EmergencyAccessOpened {
        patient: AccountId,
        provider: AccountId,
        reason: &'static str,
        justification_hash: Hash32,
        ends_at: u64,
    },
    EmergencyAccessEnded {
        patient: AccountId,
        provider: AccountId,
        by: AccountId,
        cooldown_until: u64,
    },
    EmergencyBlockChanged {
        patient: AccountId,
        provider: AccountId,
        blocked: bool,
        by: AccountId,
        cooldown_until: Option<u64>,
    },
    RecordAnchored {
        patient: AccountId,
        custodian: AccountId,
        commitment: Hash32,
        record_id: Hash32,
        category_commitment: Hash32,
        version: u32,
    },
    RecordAmended {
        patient: AccountId,
        custodian: AccountId,
        commitment: Hash32,
        record_id: Hash32,
        previous: Hash32,
        version: u32,
        reason: &'static str,
    },
    BatchAnchored {
        org: AccountId,
        root: Hash32,
        leaf_count: u32,
    },
    ClaimAttested {
        patient: AccountId,
        insurer: AccountId,
        claim_ref: Hash32,
        documents: Vec<AnchorRef>,
        all_current: bool,
    },
    DuplicateClaimUse {
        patient: AccountId,
        insurer: AccountId,
        commitment: Hash32,
        claim_ref: Hash32,
        first_insurer: AccountId,
        first_claim_ref: Hash32,
        /// One of [`CLAIM_REUSE_NAMES`].
        reuse: &'static str,
        /// One of [`CLAIM_OVERLAP_NAMES`].
        overlap: &'static str,
    },
    AccessRecorded {
        patient: AccountId,
        accessor: AccountId,
        record: Option<RecordRef>,
        categories: u16,
        purpose: &'static str,
        emergency: bool,
    },
    AccessDenied {
        patient: AccountId,
        accessor: AccountId,
        record: Option<RecordRef>,
        categories: u16,
        purpose: &'static str,
    },
}

impl ChainEvent {
    /// The patient whose consents, delegates, emergency windows, records, claims or data
    /// accesses the event is about; `None` for events about organizations, the registrar,
    /// policy, code or batches.
    pub fn patient(&self) -> Option<&AccountId> {
        use ChainEvent as E;
        match self {
            E::ConsentGranted { patient, .. }
            | E::ConsentRevoked { patient, .. }
            | E::DelegateSet { patient, .. }
            | E::DelegateRemoved { patient, .. }
            | E::EmergencyAccessOpened { patient, .. }
            | E::EmergencyAccessEnded { patient, .. }
            | E::EmergencyBlockChanged { patient, .. }
            | E::RecordAnchored { patient, .. }
            | E::RecordAmended { patient, .. }
            | E::ClaimAttested { patient, .. }
            | E::DuplicateClaimUse { patient, .. }
            | E::AccessRecorded { patient, .. }
            | E::AccessDenied { patient, .. } => Some(patient),
            E::OrgRegistered { .. }
            | E::OrgUpdated { .. }
            | E::UpgradeAnnounced { .. }
            | E::UpgradeCancelled { .. }
            | E::OrgSuspended { .. }
            | E::OrgReinstated { .. }
            | E::RegistrarProposed { .. }
            | E::RegistrarChanged { .. }
            | E::PolicyChanged { .. }
            | E::ContractUpgraded { .. }
            | E::BatchAnchored { .. } => None,
        }
    }

    /// The event's name, as stored in `events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            ChainEvent::OrgRegistered { .. } => "OrgRegistered",
            ChainEvent::OrgUpdated { .. } => "OrgUpdated",
            ChainEvent::UpgradeAnnounced { .. } => "UpgradeAnnounced",
            ChainEvent::UpgradeCancelled { .. } => "UpgradeCancelled",
            ChainEvent::OrgSuspended { .. } => "OrgSuspended",
            ChainEvent::OrgReinstated { .. } => "OrgReinstated",
            ChainEvent::RegistrarProposed { .. } => "RegistrarProposed",
            ChainEvent::RegistrarChanged { .. } => "RegistrarChanged",
            ChainEvent::PolicyChanged { .. } => "PolicyChanged",
            ChainEvent::ContractUpgraded { .. } => "ContractUpgraded",
            ChainEvent::ConsentGranted { .. } => "ConsentGranted",
            ChainEvent::ConsentRevoked { .. } => "ConsentRevoked",
            ChainEvent::DelegateSet { .. } => "DelegateSet",
            ChainEvent::DelegateRemoved { .. } => "DelegateRemoved",
            ChainEvent::EmergencyAccessOpened { .. } => "EmergencyAccessOpened",
            ChainEvent::EmergencyAccessEnded { .. } => "EmergencyAccessEnded",
            ChainEvent::EmergencyBlockChanged { .. } => "EmergencyBlockChanged",
            ChainEvent::RecordAnchored { .. } => "RecordAnchored",
            ChainEvent::RecordAmended { .. } => "RecordAmended",
            ChainEvent::BatchAnchored { .. } => "BatchAnchored",
            ChainEvent::ClaimAttested { .. } => "ClaimAttested",
            ChainEvent::DuplicateClaimUse { .. } => "DuplicateClaimUse",
            ChainEvent::AccessRecorded { .. } => "AccessRecorded",
            ChainEvent::AccessDenied { .. } => "AccessDenied",
        }
    }
}

/// An event and where it stands in its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEvent {
    /// The index of the event among all of the block's events.
    pub index: u32,
    pub contract: AccountId,
    pub event: ChainEvent,
}

/// An event of a watched contract that did not decode (unknown signature, or data that does
/// not fit the event's layout). Kept raw, with the reason, so nothing is ever lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodedEvent {
    /// The index of the event among all of the block's events.
    pub index: u32,
    pub contract: AccountId,
    pub topics: Vec<Hash32>,
    pub data: Vec<u8>,
    /// Why it did not decode, in words.
    pub reason: String,
}

/// Everything the store needs from one finalized block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockChanges {
    pub number: u64,
    pub hash: Hash32,
    pub timestamp_ms: u64,
    pub events: Vec<IndexedEvent>,
    /// Events of the watched contracts that did not decode.
    pub undecoded: Vec<UndecodedEvent>,
}

impl BlockChanges {
    /// A block with no medledger events.
    pub fn empty(number: u64, hash: Hash32, timestamp_ms: u64) -> Self {
        BlockChanges {
            number,
            hash,
            timestamp_ms,
            events: Vec::new(),
            undecoded: Vec::new(),
        }
    }
}

/// What a database mirrors: one chain (by its genesis hash) and one deployment of the two
/// contracts. Recorded on first start; a store refuses to mirror anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub genesis_hash: Hash32,
    pub consent_registry: AccountId,
    pub record_registry: AccountId,
    /// The code hashes at deployment (upgrades move them on; see [`ContractRow`]).
    pub consent_code_hash: Hash32,
    pub record_code_hash: Hash32,
    /// The first block indexed: the deployment's.
    pub start_block: u64,
}

/// A watched contract and the code it runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRow {
    pub address: AccountId,
    /// `ConsentRegistry` or `RecordRegistry`.
    pub name: String,
    pub code_hash: Hash32,
    /// Known once the contract was upgraded (the event names it).
    pub storage_version: Option<u32>,
    pub updated_block: u64,
    /// The upgrade announced for it and not yet applied or withdrawn: the code and the
    /// earliest block time it may apply.
    pub pending_upgrade: Option<(Hash32, u64)>,
}

/// The last block applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub number: u64,
    pub hash: Hash32,
}

/// How far indexing got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexerStatus {
    pub cursor: Option<Cursor>,
    /// The cursor block's time (ms since the Unix epoch): the chain time the mirror reached.
    pub cursor_time: Option<u64>,
    pub finalized_head: Option<u64>,
    /// The chain and contracts mirrored, once the indexer has started.
    pub genesis_hash: Option<Hash32>,
    /// Events of the watched contracts stored raw because they did not decode.
    pub undecoded_events: u64,
    /// The first block the mirror holds events of, and its time (ms): nothing before it
    /// was mirrored.
    pub first_block: Option<(u64, u64)>,
}

/// The current consent of a (patient, grantee) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub patient: AccountId,
    pub grantee: AccountId,
    pub categories: u16,
    pub purposes: u8,
    pub access: u8,
    pub valid_from: u64,
    pub expires_at: Option<u64>,
    pub terms_hash: Hash32,
    pub version: u32,
    pub revoked: bool,
    pub updated_by: AccountId,
    pub updated_block: u64,
    pub updated_at: u64,
}

/// A registered organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRow {
    pub account: AccountId,
    pub role: String,
    pub flags: u32,
    pub active: bool,
    pub registered_block: u64,
    pub registered_at: u64,
    /// Its name, kind and identifiers; `None` for an organization of the contracts' second
    /// release the registrar has not named yet.
    pub profile: Option<OrgProfile>,
}

/// An anchored record version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordVersionRow {
    pub commitment: Hash32,
    pub record_id: Hash32,
    pub version: u32,
    pub patient: AccountId,
    pub custodian: AccountId,
    /// The record's salted category commitment: the category itself is never on chain.
    pub category_commitment: Hash32,
    pub block_number: u64,
    pub anchored_at: u64,
    pub superseded_by: Option<Hash32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    // //Alice's public key and its well-known SS58 address (prefix 42).
    const ALICE_HEX: &str = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    #[test]
    fn ss58_round_trips_a_known_address() {
        let alice: AccountId = ALICE_HEX.parse().expect("hex account");
        assert_eq!(alice.to_string(), ALICE_SS58);
        assert_eq!(ALICE_SS58.parse::<AccountId>(), Ok(alice));
    }

    #[test]
    fn ss58_with_a_bad_checksum_is_refused() {
        let mut bad = ALICE_SS58.to_string();
        bad.replace_range(10..11, "b");
        assert!(matches!(
            bad.parse::<AccountId>(),
            Err(ParseError::Account(_))
        ));
        assert!("not an address".parse::<AccountId>().is_err());
        assert!("0x1234".parse::<AccountId>().is_err());
    }

    #[test]
    fn hashes_need_the_0x_prefix_and_32_bytes() {
        let h: Hash32 = format!("0x{}", "ab".repeat(32)).parse().expect("hash");
        assert_eq!(h.to_string(), format!("0x{}", "ab".repeat(32)));
        assert!("ab".repeat(32).parse::<Hash32>().is_err());
        assert!("0xabcd".parse::<Hash32>().is_err());
        assert!(format!("0x{}", "zz".repeat(32)).parse::<Hash32>().is_err());
    }

    #[test]
    fn names_of_bits_follow_bit_order() {
        assert_eq!(
            names_of_bits(0b10_0001, &CATEGORY_NAMES),
            ["Demographics", "Imaging"]
        );
        assert!(names_of_bits(0, &PURPOSE_NAMES).is_empty());
    }
}
