//! The API's output and input types, and how store rows become them.

use async_graphql::{ComplexObject, Context, Enum, Json, Object, Result, SimpleObject};
use chrono::{DateTime, TimeZone, Utc};
use medledger_store::{
    ACCESS_NAMES, CATEGORY_NAMES, ClaimRow, ConsentChange, ConsentRow, EmergencyBlockRow,
    EmergencyWindow as WindowRow, OrganizationRow, PURPOSE_NAMES, RecordVersionRow, names_of_bits,
};

use crate::fhir;
use crate::lists::{Claim, Record};
use crate::scalars::{AccountIdScalar, HashScalar};

/// A block time (ms since the Unix epoch) as a date; a time past what a date holds (a
/// "never" end a caller wrote into the contract) as the latest date there is.
pub(crate) fn time(ms: u64) -> DateTime<Utc> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

pub(crate) fn names(bits: u64, all: &[&'static str]) -> Vec<String> {
    names_of_bits(bits, all)
        .into_iter()
        .map(String::from)
        .collect()
}

/// What every judgement is made at: the last block the mirror indexed, its chain time, and
/// how many finalized blocks the mirror has yet to index. A judgement is never made by the
/// server's clock: a revocation in a block the mirror has not reached is not known yet, and
/// `lag` says how far behind it is.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct AsOf {
    /// The last block indexed.
    pub block: u64,
    /// Its block time.
    pub time: DateTime<Utc>,
    /// Finalized blocks not indexed yet.
    pub lag: u64,
}

/// A data category, as the contracts number them.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "medledger_events::DataCategory")]
pub enum DataCategory {
    Demographics,
    Allergies,
    Medications,
    Problems,
    LabResults,
    Imaging,
    ClinicalNotes,
    Immunizations,
    Procedures,
    /// Sensitive: never covered by an emergency window.
    Genomics,
    /// Sensitive: never covered by an emergency window.
    MentalHealth,
    /// Sensitive: never covered by an emergency window.
    SubstanceUse,
    /// Sensitive: never covered by an emergency window.
    SexualHealth,
    Billing,
}

/// A purpose of use.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "medledger_events::Purpose")]
pub enum Purpose {
    Treatment,
    Payment,
    Operations,
    Research,
    PublicHealth,
    PatientRequest,
}

/// Reading or writing.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
#[graphql(remote = "medledger_events::Access")]
pub enum Access {
    Read,
    Write,
}

/// Where a consent stands at the mirror's chain time, as the contract would judge it.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConsentStatus {
    /// In force: what it covers is authorized.
    Active,
    /// Granted, but its validity has not begun.
    Pending,
    /// Its validity has ended.
    Expired,
    /// Revoked by the patient or a delegate.
    Revoked,
    /// Granted by a delegate whose delegation has since ended or been removed.
    Lapsed,
    /// The grantee is suspended (or no longer a registered organization): nothing is
    /// authorized until it is reinstated.
    Suspended,
}

/// The current consent a patient gave one grantee.
pub struct Consent {
    pub row: ConsentRow,
    pub status: ConsentStatus,
    pub as_of: AsOf,
}

#[Object]
impl Consent {
    async fn patient(&self) -> AccountIdScalar {
        AccountIdScalar(self.row.patient)
    }
    async fn grantee(&self) -> AccountIdScalar {
        AccountIdScalar(self.row.grantee)
    }
    /// Data categories covered (e.g. "LabResults").
    async fn categories(&self) -> Vec<String> {
        names(u64::from(self.row.categories), &CATEGORY_NAMES)
    }
    /// Purposes of use covered (e.g. "Treatment").
    async fn purposes(&self) -> Vec<String> {
        names(u64::from(self.row.purposes), &PURPOSE_NAMES)
    }
    /// "Read" and/or "Write".
    async fn access(&self) -> Vec<String> {
        names(u64::from(self.row.access), &ACCESS_NAMES)
    }
    async fn valid_from(&self) -> DateTime<Utc> {
        time(self.row.valid_from)
    }
    /// When the consent ends; null for no end.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.row.expires_at.map(time)
    }
    /// Commitment to the off-chain consent document.
    async fn terms_hash(&self) -> HashScalar {
        HashScalar(self.row.terms_hash)
    }
    /// 1 for the first grant of the pair, bumped by each replacement.
    async fn version(&self) -> u32 {
        self.row.version
    }
    async fn revoked(&self) -> bool {
        self.row.revoked
    }
    /// Where it stands at `asOf.time`, counting suspension of the grantee and the end of a
    /// delegate's delegation, as the contract does.
    async fn status(&self) -> ConsentStatus {
        self.status
    }
    /// The block and chain time `status` is judged at.
    async fn as_of(&self) -> AsOf {
        self.as_of
    }
    /// This consent as an HL7 FHIR R4 `Consent` resource.
    async fn fhir(&self) -> Json<serde_json::Value> {
        Json(fhir::consent(&self.row, self.status))
    }
    /// Who signed the last change.
    async fn updated_by(&self) -> AccountIdScalar {
        AccountIdScalar(self.row.updated_by)
    }
    async fn updated_block(&self) -> u64 {
        self.row.updated_block
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        time(self.row.updated_at)
    }
}

/// A grant of a consent, as it was made.
#[derive(SimpleObject)]
pub struct Grant {
    /// 1 for the pair's first grant, bumped by each later one.
    version: u32,
    categories: Vec<String>,
    purposes: Vec<String>,
    access: Vec<String>,
    valid_from: DateTime<Utc>,
    /// Null for no end.
    expires_at: Option<DateTime<Utc>>,
    terms_hash: HashScalar,
    /// The patient, or the delegate who granted it.
    granted_by: AccountIdScalar,
    granted_block: u64,
    granted_at: DateTime<Utc>,
}

impl Grant {
    /// The grant `change` made; `None` for a revocation.
    pub fn of(change: &ConsentChange) -> Option<Grant> {
        let g = change.grant?;
        Some(Grant {
            version: change.version,
            categories: names(u64::from(g.categories), &CATEGORY_NAMES),
            purposes: names(u64::from(g.purposes), &PURPOSE_NAMES),
            access: names(u64::from(g.access), &ACCESS_NAMES),
            valid_from: time(g.valid_from),
            expires_at: g.expires_at.map(time),
            terms_hash: HashScalar(g.terms_hash),
            granted_by: AccountIdScalar(change.by),
            granted_block: change.block_number,
            granted_at: time(change.at),
        })
    }
}

/// A break-glass window a provider opened on a patient.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct EmergencyWindow {
    #[graphql(skip)]
    row: WindowRow,
    patient: AccountIdScalar,
    provider: AccountIdScalar,
    /// Why it was opened (e.g. "PatientIncapacitated").
    reason: String,
    /// Commitment to the provider's off-chain justification.
    justification_hash: HashScalar,
    opened_block: u64,
    opened_at: DateTime<Utc>,
    /// When it closes by time.
    ends_at: DateTime<Utc>,
    /// When it was ended early, if it was.
    ended_at: Option<DateTime<Utc>>,
    /// Who ended it early: the patient, a delegate, or the patient by blocking the provider.
    ended_by: Option<AccountIdScalar>,
}

impl From<WindowRow> for EmergencyWindow {
    fn from(w: WindowRow) -> Self {
        EmergencyWindow::from(&w)
    }
}

impl From<&WindowRow> for EmergencyWindow {
    fn from(w: &WindowRow) -> Self {
        EmergencyWindow {
            row: w.clone(),
            patient: AccountIdScalar(w.patient),
            provider: AccountIdScalar(w.provider),
            reason: w.reason.clone(),
            justification_hash: HashScalar(w.justification_hash),
            opened_block: w.opened_block,
            opened_at: time(w.opened_at),
            ends_at: time(w.ends_at),
            ended_at: w.ended_at.map(time),
            ended_by: w.ended_by.map(AccountIdScalar),
        }
    }
}

#[ComplexObject]
impl EmergencyWindow {
    /// The window as an HL7 FHIR R4 `AuditEvent` (emergency treatment).
    async fn fhir(&self) -> Json<serde_json::Value> {
        Json(fhir::emergency(&self.row))
    }
}

/// Where and when a commitment was anchored, the claims that used it, and the commitment of
/// the version it amended when known.
pub struct Anchor(
    pub RecordVersionRow,
    pub Vec<ClaimRow>,
    pub Option<medledger_store::Hash32>,
);

#[Object]
impl Anchor {
    /// This version as an HL7 FHIR R4 `Provenance` resource (naming the version it revised
    /// when read through `record`).
    async fn fhir(&self) -> Json<serde_json::Value> {
        Json(fhir::provenance(&self.0, self.2.as_ref()))
    }
    /// The insurance claims that used this anchored document, oldest first.
    async fn claims(&self) -> Vec<Claim> {
        self.1.iter().cloned().map(Claim::from).collect()
    }
    /// Whether this is its record's latest version (not superseded by an amendment).
    async fn current(&self) -> bool {
        self.0.superseded_by.is_none()
    }
    async fn commitment(&self) -> HashScalar {
        HashScalar(self.0.commitment)
    }
    async fn record_id(&self) -> HashScalar {
        HashScalar(self.0.record_id)
    }
    async fn version(&self) -> u32 {
        self.0.version
    }
    async fn patient(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.patient)
    }
    /// Who anchored it: the provider holding the record, or the patient.
    async fn custodian(&self) -> AccountIdScalar {
        AccountIdScalar(self.0.custodian)
    }
    /// The record's salted category commitment: the category itself is never on chain;
    /// the receipt holder opens it with the category salt.
    async fn category_commitment(&self) -> HashScalar {
        HashScalar(self.0.category_commitment)
    }
    async fn block_number(&self) -> u64 {
        self.0.block_number
    }
    async fn anchored_at(&self) -> DateTime<Utc> {
        time(self.0.anchored_at)
    }
    /// The commitment of the next version, once amended.
    async fn superseded_by(&self) -> Option<HashScalar> {
        self.0.superseded_by.map(HashScalar)
    }
    /// The categories the custodian's Write consent (for treatment, what anchoring needs)
    /// covered at the end of the anchoring block; null when the patient anchored it (an own
    /// upload needs none). A receipt holder checks the record's category against it without
    /// telling anyone the category; `categoryCheck` is the same check made here.
    async fn write_consent_categories(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<DataCategory>>> {
        let row = &self.0;
        if row.custodian == row.patient {
            return Ok(None);
        }
        let history = anchoring_history(ctx, row).await?;
        Ok(Some(
            medledger_events::DataCategory::ALL
                .into_iter()
                .filter(|c| written_under_consent(&history, row, *c))
                .map(DataCategory::from)
                .collect(),
        ))
    }
    /// Opens the record's category commitment with the category and salt its receipt holds,
    /// and says whether the custodian's Write consent covered that category when this
    /// version was anchored. The chain cannot check it at anchoring (it holds only the
    /// salted commitment), so this is where a record anchored outside the consent is found.
    async fn category_check(
        &self,
        ctx: &Context<'_>,
        category: DataCategory,
        #[graphql(desc = "The category salt of the record's receipt.")] salt: HashScalar,
    ) -> Result<CategoryCheck> {
        let c: medledger_events::DataCategory = category.into();
        let opened = medledger_proofs::category_commitment(&salt.0.0, c.index());
        let row = &self.0;
        let check = |opens, within: Option<bool>, explanation: String| CategoryCheck {
            category,
            opens,
            own_upload: row.custodian == row.patient,
            within_write_consent: within,
            explanation,
        };
        if opened != row.category_commitment.0 {
            return Ok(check(
                false,
                None,
                format!(
                    "the salt does not open this record's category commitment to {c:?}: the \
                     receipt is not this record's, or names another category"
                ),
            ));
        }
        if row.custodian == row.patient {
            return Ok(check(
                true,
                None,
                "the patient anchored it: their own upload needs no consent".into(),
            ));
        }
        let history = anchoring_history(ctx, row).await?;
        Ok(match written_under_consent(&history, row, c) {
            true => check(
                true,
                Some(true),
                format!("{c:?}: covered by the custodian's Write consent when it anchored this"),
            ),
            false => check(
                true,
                Some(false),
                format!(
                    "{c:?}: NOT covered by the custodian's Write consent when it anchored this \
                     version (block {}): it wrote outside what the patient allowed",
                    row.block_number
                ),
            ),
        })
    }
}

/// The patient's history with the custodian up to the end of the block that anchored `row`.
async fn anchoring_history(
    ctx: &Context<'_>,
    row: &RecordVersionRow,
) -> Result<medledger_store::PatientHistory> {
    crate::schema::store(ctx)
        .history(
            &row.patient,
            Some(&row.custodian),
            medledger_store::Upto::Block(row.block_number),
        )
        .await
        .map_err(crate::schema::internal)
}

/// Whether the custodian's consent allowed writing `category` for treatment when it
/// anchored `row`, as the contract's rule judges it.
fn written_under_consent(
    history: &medledger_store::PatientHistory,
    row: &RecordVersionRow,
    category: medledger_events::DataCategory,
) -> bool {
    let q = crate::rule::Question {
        category,
        purpose: medledger_events::Purpose::Treatment,
        access: medledger_events::Access::Write,
    };
    matches!(
        crate::rule::judge(history, &row.patient, &row.custodian, &q, row.anchored_at),
        crate::rule::Judgement::ByConsent(_)
    )
}

/// A record's category, opened with its receipt's salt, against the custodian's consent.
#[derive(SimpleObject)]
pub struct CategoryCheck {
    /// The category asked about.
    pub category: DataCategory,
    /// Whether the salt opens the record's category commitment to this category.
    pub opens: bool,
    /// Whether the patient anchored it (an own upload needs no consent).
    pub own_upload: bool,
    /// Whether the custodian's Write consent (for treatment) covered the category at the end
    /// of the anchoring block; null when it does not open, or for an own upload. False is
    /// the flag: a record anchored outside what the patient allowed.
    pub within_write_consent: Option<bool>,
    /// The answer in words.
    pub explanation: String,
}

/// A watched contract and the code it runs now.
#[derive(SimpleObject)]
pub struct WatchedContract {
    /// "ConsentRegistry" or "RecordRegistry".
    pub name: String,
    pub address: AccountIdScalar,
    pub code_hash: HashScalar,
    /// Known once the contract was upgraded (the upgrade event names it).
    pub storage_version: Option<u32>,
    /// The block of its deployment or last upgrade.
    pub updated_block: u64,
    /// The upgrade the registrar announced and has not applied or withdrawn: the code the
    /// contract will run, and from when. What an app watching for upgrades shows its users.
    pub pending_upgrade: Option<PendingUpgrade>,
}

/// An announced upgrade.
#[derive(SimpleObject)]
pub struct PendingUpgrade {
    /// The uploaded code the contract will run.
    pub code_hash: HashScalar,
    /// The earliest chain time the registrar may apply it.
    pub effective_at: DateTime<Utc>,
}

/// The operators' view of the mirror.
#[derive(SimpleObject)]
pub struct IndexerStatus {
    /// The last block indexed; null before the first one.
    pub indexed_block: Option<u64>,
    pub indexed_hash: Option<HashScalar>,
    /// The chain time of the last block indexed.
    pub indexed_time: Option<DateTime<Utc>>,
    /// The chain's finalized head when the indexer last looked.
    pub finalized_head: Option<u64>,
    /// Finalized blocks not indexed yet.
    pub lag: Option<u64>,
    /// The genesis hash of the chain mirrored; null before the indexer first started.
    pub genesis_hash: Option<HashScalar>,
    /// The contracts mirrored.
    pub contracts: Vec<WatchedContract>,
    /// Events of the watched contracts that did not decode, kept raw for audit.
    pub undecoded_events: u64,
    /// Whether answers are current: the indexer has indexed a block and is at most
    /// `HEALTHY_LAG` (10) finalized blocks behind the head it last saw. (Whether the indexer
    /// process itself is alive is its own `/healthz`.)
    pub healthy: bool,
}

/// How many finalized blocks the mirror may lag before `indexerStatus` calls it unhealthy.
pub const HEALTHY_LAG: u64 = 10;

/// A provider a patient barred from breaking glass, as last changed.
#[derive(SimpleObject)]
pub struct EmergencyBlock {
    pub patient: AccountIdScalar,
    pub provider: AccountIdScalar,
    /// False once it was lifted (listed with `blockedOnly: false` only).
    pub blocked: bool,
    /// The patient, or the delegate who changed it.
    pub changed_by: AccountIdScalar,
    pub changed_block: u64,
    pub changed_at: DateTime<Utc>,
}

impl From<EmergencyBlockRow> for EmergencyBlock {
    fn from(b: EmergencyBlockRow) -> Self {
        EmergencyBlock {
            patient: AccountIdScalar(b.patient),
            provider: AccountIdScalar(b.provider),
            blocked: b.blocked,
            changed_by: AccountIdScalar(b.changed_by),
            changed_block: b.changed_block,
            changed_at: time(b.changed_at),
        }
    }
}

/// A registered organization, with the name people know it by.
#[derive(SimpleObject)]
pub struct Organization {
    pub account: AccountIdScalar,
    /// The name the registrar gave it, e.g. "Riverside Clinic"; null for an organization of
    /// the contracts' second release that was not named since.
    pub name: Option<String>,
    /// Hospital, Clinic, Laboratory, Pharmacy, Insurer, Research, PublicHealth or App; null
    /// with `name`.
    pub kind: Option<String>,
    /// Identifiers it is known by elsewhere (a national provider identifier, its FHIR
    /// `Organization` URL, ...).
    pub identifiers: Vec<OrgIdentifier>,
    /// Provider, Insurer, Researcher, Auditor or App.
    pub role: String,
    /// Bit 0: may open emergency windows.
    pub flags: u32,
    /// False while suspended.
    pub active: bool,
    pub registered_block: u64,
    pub registered_at: DateTime<Utc>,
}

/// An identifier, FHIR-style: the issuing system (a URI) and the value within it.
#[derive(SimpleObject)]
pub struct OrgIdentifier {
    /// e.g. `http://hl7.org/fhir/sid/us-npi` for a US National Provider Identifier, or
    /// `urn:ietf:rfc:3986` for a URL.
    pub system: String,
    pub value: String,
}

impl From<OrganizationRow> for Organization {
    fn from(o: OrganizationRow) -> Self {
        let (name, kind, identifiers) = match o.profile {
            Some(p) => (Some(p.name), Some(p.kind), p.identifiers),
            None => (None, None, Vec::new()),
        };
        Organization {
            account: AccountIdScalar(o.account),
            name,
            kind,
            identifiers: identifiers
                .into_iter()
                .map(|i| OrgIdentifier {
                    system: i.system,
                    value: i.value,
                })
                .collect(),
            role: o.role,
            flags: o.flags,
            active: o.active,
            registered_block: o.registered_block,
            registered_at: time(o.registered_at),
        }
    }
}

/// A record and every version of it.
#[derive(SimpleObject)]
pub struct RecordDetail {
    pub record: Record,
    /// Every version, oldest first; each names the one that superseded it.
    pub versions: Vec<Anchor>,
}
