//! `medledger verify FILE`: is this document exactly the one anchored, by whom, when, which
//! record and version, current or superseded, and which claims used it? The commitment is
//! computed here from the file and its receipt (or batch proof); only the commitment is
//! looked up, on the chain directly or in the GraphQL API (`--api`). The document is never
//! sent anywhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use medledger_client::{AccountId32, consent, records, to_subxt};
use medledger_events::{Access, DataCategory, Purpose};
use medledger_proofs::{DocumentProof, Receipt};
use serde_json::{Value, json};

use crate::args::{ApiArgs, ChainArgs};
use crate::chain::Ctx;
use crate::files::{self, hex_of};
use crate::report::{Report, exit};
use crate::{api, names, orgs};

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    chain: ChainArgs,
    #[command(flatten)]
    api: ApiArgs,
    /// The document.
    file: PathBuf,
    /// Its receipt (default: FILE.medledger.json when there is one).
    #[arg(long, value_name = "RECEIPT", conflicts_with = "bundle")]
    receipt: Option<PathBuf>,
    /// Its batch proof (default: FILE.medledger-proof.json when there is one).
    #[arg(long, value_name = "BUNDLE")]
    bundle: Option<PathBuf>,
}

/// What the document was checked with.
enum Evidence {
    Receipt(Receipt),
    Proof(DocumentProof),
}

pub async fn run(args: VerifyArgs) -> Result<Report> {
    let document = files::read_document(&args.file)?;
    let evidence = evidence(&args)?;
    let shown = args.file.display().to_string();
    match evidence {
        Evidence::Receipt(receipt) => {
            if !receipt.matches(&document) {
                return Ok(mismatch(format!(
                    "NO MATCH: {shown} is not the document its receipt was made for (the commitments differ)"
                )));
            }
            let found = match &args.api.url {
                Some(url) => anchor_from_api(url, &receipt).await?,
                None => anchor_from_chain(&args.chain, &receipt).await?,
            };
            Ok(match found {
                None => mismatch(format!(
                    "NOT ANCHORED: {shown} matches its receipt, but {} anchored no such document",
                    receipt.custodian
                )),
                Some(found) => found.report(&shown, &receipt),
            })
        }
        Evidence::Proof(proof) => {
            if !proof.matches(&document) {
                return Ok(mismatch(format!(
                    "NO MATCH: {shown} is not the document its proof was made for (the commitments differ)"
                )));
            }
            if !proof.bundle.verifies() {
                return Ok(mismatch(format!(
                    "NO MATCH: the proof's path does not lead from {shown}'s commitment to its root"
                )));
            }
            match &args.api.url {
                Some(url) => inclusion_from_api(url, &proof, &shown).await,
                None => inclusion_from_chain(&args.chain, &proof, &shown).await,
            }
        }
    }
}

fn evidence(args: &VerifyArgs) -> Result<Evidence> {
    let receipt_beside = files::beside(&args.file, super::record::RECEIPT_SUFFIX);
    let proof_beside = files::beside(&args.file, super::batch::PROOF_SUFFIX);
    let read_receipt =
        |p: &Path| -> Result<Evidence> { Ok(Evidence::Receipt(files::read_json(p, "receipt")?)) };
    let read_proof = |p: &Path| -> Result<Evidence> {
        Ok(Evidence::Proof(files::read_json(p, "proof bundle")?))
    };
    match (&args.receipt, &args.bundle) {
        (Some(r), _) => read_receipt(r),
        (None, Some(b)) => read_proof(b),
        (None, None) if receipt_beside.exists() => read_receipt(&receipt_beside),
        (None, None) if proof_beside.exists() => read_proof(&proof_beside),
        (None, None) => bail!(
            "no receipt or proof for {}: pass --receipt or --bundle",
            args.file.display()
        ),
    }
}

fn mismatch(human: String) -> Report {
    Report::new(human.clone(), json!({"verified": false, "reason": human}))
        .with_code(exit::MISMATCH)
}

/// Whether the record's category was within the custodian's Write consent when this version
/// was anchored: the chain cannot check it then (it holds only the category's commitment),
/// so the receipt holder, who can open it, checks it here.
enum WriteConsent {
    /// The patient anchored it: their own upload needs no consent.
    OwnUpload,
    Covered,
    NotCovered,
    /// It could not be told, and why.
    Unknown(String),
}

/// An anchored version, from the chain or the API.
struct Found {
    record_id: String,
    version: u64,
    patient: String,
    custodian: String,
    category_commitment: String,
    block: u64,
    at: String,
    superseded_by: Option<String>,
    /// (claim reference, insurer, where)
    claims: Vec<(String, String, String)>,
    write_consent: WriteConsent,
    source: String,
    /// Organizations' names by account (SS58), for people.
    names: HashMap<String, String>,
}

impl Found {
    fn report(&self, shown: &str, receipt: &Receipt) -> Report {
        let current = self.superseded_by.is_none();
        let category_opens = self.category_commitment == hex_of(receipt.category_commitment());
        let mut human = format!(
            "MATCH: {shown} is version {} of record {} of patient {}, anchored by {} in block #{} at {}: {}",
            self.version,
            self.record_id,
            self.patient,
            api::labelled(&self.names, &self.custodian),
            self.block,
            self.at,
            match &self.superseded_by {
                None => "CURRENT".to_string(),
                Some(next) => format!("SUPERSEDED by {next} (a later version exists)"),
            }
        );
        human.push_str(&format!(
            "\ncategory: {}",
            if category_opens {
                format!(
                    "{} (the receipt opens the anchored category commitment)",
                    receipt.category
                )
            } else {
                "NOT PROVEN: the receipt does not open the anchored category commitment".into()
            }
        ));
        let category = &receipt.category;
        let outside = category_opens && matches!(self.write_consent, WriteConsent::NotCovered);
        if category_opens {
            human.push_str(&format!(
                "\nwrite consent: {}",
                match &self.write_consent {
                    WriteConsent::OwnUpload =>
                        "the patient anchored it; their own upload needs no consent".into(),
                    WriteConsent::Covered => format!(
                        "{category} was covered by the custodian's Write consent when it was anchored"
                    ),
                    WriteConsent::NotCovered => format!(
                        "OUTSIDE THE CONSENT: {category} was NOT covered by the custodian's Write \
                         consent when it anchored this version (block #{}): it wrote what the \
                         patient did not allow",
                        self.block
                    ),
                    WriteConsent::Unknown(why) => format!("not checked: {why}"),
                }
            ));
        }
        if self.claims.is_empty() {
            human.push_str("\nclaims: none used it");
        }
        for (claim_ref, insurer, at) in &self.claims {
            human.push_str(&format!(
                "\nclaim: {claim_ref} of insurer {} ({at})",
                api::labelled(&self.names, insurer)
            ));
        }
        human.push_str(&format!("\n(from {})", self.source));
        let json = json!({
            "verified": category_opens,
            "current": current,
            "record_id": self.record_id,
            "version": self.version,
            "patient": self.patient,
            "custodian": self.custodian,
            "block": self.block,
            "anchored_at": self.at,
            "superseded_by": self.superseded_by,
            "category": category_opens.then(|| receipt.category.clone()),
            "within_write_consent": match (&self.write_consent, category_opens) {
                (WriteConsent::Covered, true) => json!(true),
                (WriteConsent::NotCovered, true) => json!(false),
                _ => Value::Null,
            },
            "claims": self.claims.iter().map(|(r, i, _)| json!({"claim_ref": r, "insurer": i})).collect::<Vec<_>>(),
            "source": self.source,
        });
        let report = Report::new(human, json);
        if !category_opens {
            // The document is anchored, but the receipt was altered: do not pass it.
            report.with_code(exit::MISMATCH)
        } else if outside {
            report.with_code(exit::OUTSIDE_CONSENT)
        } else if current {
            report
        } else {
            report.with_code(exit::SUPERSEDED)
        }
    }
}

/// Connects, and refuses a receipt or proof made on another chain or contract.
async fn connect_for(chain: &ChainArgs, contract: &str, genesis: &[u8; 32]) -> Result<Ctx> {
    let ctx = Ctx::connect(chain).await?;
    if contract != ctx.records.to_string() || *genesis != ctx.genesis() {
        bail!(
            "the receipt is for the RecordRegistry {contract} on chain {}; the deployment's is {} on {} (pass its --deployment)",
            hex_of(genesis),
            ctx.records,
            hex_of(ctx.genesis())
        );
    }
    Ok(ctx)
}

async fn anchor_from_chain(chain: &ChainArgs, receipt: &Receipt) -> Result<Option<Found>> {
    let ctx = connect_for(chain, &receipt.contract, &receipt.chain).await?;
    let custodian = names::account(&receipt.custodian, "the receipt's custodian")?;
    let at = &ctx.records;
    let Some(info) = ctx
        .chain
        .query(
            &custodian,
            at,
            &records::verify(at, &custodian, receipt.commitment),
        )
        .await?
    else {
        return Ok(None);
    };
    let patient = to_subxt(&info.patient);
    let write_consent = write_consent_on_chain(
        &ctx,
        &patient,
        &custodian,
        receipt,
        u64::from(info.block_number),
    )
    .await;
    let first_use = ctx
        .chain
        .query(
            &custodian,
            at,
            &records::first_claim_use(at, &patient, receipt.commitment),
        )
        .await?;
    let claims: Vec<(String, String, String)> = first_use
        .map(|k| {
            (
                hex_of(k.claim_ref),
                to_subxt(&k.insurer).to_string(),
                "the first claim that used it; the API lists every one".to_string(),
            )
        })
        .into_iter()
        .collect();
    let mut names = HashMap::new();
    let custodian = to_subxt(&info.custodian);
    let insurers = claims.iter().filter_map(|(_, i, _)| i.parse().ok());
    for account in std::iter::once(custodian).chain(insurers) {
        if let Ok(Some(p)) = orgs::profile_of(&ctx, &account).await {
            names.insert(account.to_string(), p.name);
        }
    }
    Ok(Some(Found {
        record_id: hex_of(info.record_id),
        version: u64::from(info.version),
        patient: patient.to_string(),
        custodian: custodian.to_string(),
        category_commitment: hex_of(info.category_commitment),
        block: u64::from(info.block_number),
        at: names::time(info.anchored_at),
        superseded_by: info.superseded_by.map(hex_of),
        claims,
        write_consent,
        source: format!("the chain at {}", ctx.chain.url()),
        names,
    }))
}

/// The receipt's category, when it names one of the contracts' categories.
fn receipt_category(receipt: &Receipt) -> Option<DataCategory> {
    DataCategory::ALL
        .into_iter()
        .find(|c| c.index() == receipt.category_index)
}

/// Asks the ConsentRegistry, as it stood at the anchoring block, whether the custodian held
/// a Write consent for the receipt's category (for treatment, what anchoring needs).
async fn write_consent_on_chain(
    ctx: &Ctx,
    patient: &AccountId32,
    custodian: &AccountId32,
    receipt: &Receipt,
    block: u64,
) -> WriteConsent {
    if patient == custodian {
        return WriteConsent::OwnUpload;
    }
    let Some(category) = receipt_category(receipt) else {
        return WriteConsent::Unknown("the receipt names no known category".into());
    };
    let message = consent::is_authorized(
        &ctx.consent,
        patient,
        custodian,
        category,
        Purpose::Treatment,
        Access::Write,
    );
    match ctx
        .chain
        .query_at(custodian, &ctx.consent, &message, block)
        .await
    {
        Ok(true) => WriteConsent::Covered,
        Ok(false) => WriteConsent::NotCovered,
        Err(e) => WriteConsent::Unknown(format!(
            "the node cannot answer for block #{block} ({e}); a pruning node keeps recent \
             blocks only, the API (--api) keeps the whole history"
        )),
    }
}

/// What the API mirrors, asked with every verification: a receipt or proof of another chain
/// or contract is refused, as on the chain.
const MIRRORED: &str = "indexerStatus { genesisHash contracts { name address } }";

fn check_mirror(data: &Value, url: &str, contract: &str, genesis: &[u8; 32]) -> Result<()> {
    let status = &data["indexerStatus"];
    let mirrored_genesis = status["genesisHash"].as_str().unwrap_or("none yet");
    let mirrored_contract = status["contracts"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "RecordRegistry"))
        .and_then(|c| c["address"].as_str())
        .unwrap_or("none yet");
    if mirrored_contract != contract || mirrored_genesis != hex_of(genesis) {
        bail!(
            "the receipt is for the RecordRegistry {contract} on chain {}; the API at {url} mirrors {mirrored_contract} on {mirrored_genesis}",
            hex_of(genesis)
        );
    }
    Ok(())
}

/// A field the API must have answered.
fn field<'a>(v: &'a Value, name: &str, url: &str) -> Result<&'a Value> {
    match v.get(name) {
        Some(x) if !x.is_null() => Ok(x),
        _ => bail!("the API at {url} answered without {name}"),
    }
}

fn text(v: &Value, name: &str, url: &str) -> Result<String> {
    field(v, name, url)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the API at {url} answered a {name} that is not text"))
}

fn number(v: &Value, name: &str, url: &str) -> Result<u64> {
    field(v, name, url)?
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("the API at {url} answered a {name} that is not a number"))
}

fn verify_commitment_query() -> String {
    format!(
        "query($c: Hash!, $k: AccountId) {{ {MIRRORED} verifyCommitment(commitment: $c, custodian: $k) {{ \
         recordId version patient custodian categoryCommitment blockNumber anchoredAt supersededBy \
         writeConsentCategories claims {{ insurer claimRef block at }} }} }}"
    )
}

async fn anchor_from_api(url: &str, receipt: &Receipt) -> Result<Option<Found>> {
    // Only the commitment and the custodian leave this machine.
    let data = api::query(
        url,
        &verify_commitment_query(),
        json!({"c": hex_of(receipt.commitment), "k": receipt.custodian}),
    )
    .await?;
    check_mirror(&data, url, &receipt.contract, &receipt.chain)?;
    let Some(a) = data["verifyCommitment"].as_array().and_then(|l| l.first()) else {
        return Ok(None);
    };
    let superseded_by = match &a["supersededBy"] {
        Value::Null => None,
        _ => Some(text(a, "supersededBy", url)?),
    };
    let mut claims = Vec::new();
    for c in a["claims"].as_array().into_iter().flatten() {
        claims.push((
            text(c, "claimRef", url)?,
            text(c, "insurer", url)?,
            format!(
                "block #{} at {}",
                number(c, "block", url)?,
                text(c, "at", url)?
            ),
        ));
    }
    // The API answers which categories the custodian's Write consent covered then: the
    // receipt's category is looked up here, and never leaves this machine.
    let write_consent = match &a["writeConsentCategories"] {
        Value::Null => WriteConsent::OwnUpload,
        Value::Array(covered) => {
            let category = receipt_category(receipt).map(|c| format!("{c:?}"));
            let named = |v: &Value| v.as_str().map(|s| s.replace('_', "").to_ascii_lowercase());
            match category {
                None => WriteConsent::Unknown("the receipt names no known category".into()),
                Some(c)
                    if covered
                        .iter()
                        .any(|v| named(v) == Some(c.to_ascii_lowercase())) =>
                {
                    WriteConsent::Covered
                }
                Some(_) => WriteConsent::NotCovered,
            }
        }
        _ => bail!("the API at {url} answered writeConsentCategories that is not a list"),
    };
    let custodian = text(a, "custodian", url)?;
    let mut accounts: Vec<String> = claims.iter().map(|(_, i, _)| i.clone()).collect();
    accounts.push(custodian.clone());
    let names = api::org_names(url, &accounts).await;
    Ok(Some(Found {
        record_id: text(a, "recordId", url)?,
        version: number(a, "version", url)?,
        patient: text(a, "patient", url)?,
        custodian,
        category_commitment: text(a, "categoryCommitment", url)?,
        block: number(a, "blockNumber", url)?,
        at: text(a, "anchoredAt", url)?,
        superseded_by,
        claims,
        write_consent,
        source: format!("the API at {url}"),
        names,
    }))
}

async fn inclusion_from_chain(
    chain: &ChainArgs,
    proof: &DocumentProof,
    shown: &str,
) -> Result<Report> {
    let ctx = connect_for(chain, &proof.contract, &proof.chain).await?;
    let org: AccountId32 = names::account(&proof.org, "the proof's org")?;
    let root = proof.bundle.root;
    let batch = ctx
        .chain
        .query(
            &org,
            &ctx.records,
            &records::verify_batch(&ctx.records, &org, root),
        )
        .await?;
    Ok(match batch {
        None => mismatch(format!(
            "NOT ANCHORED: {org} never anchored the root {} of {shown}'s proof",
            hex_of(root)
        )),
        Some(b) if u64::from(b.block_number) != proof.bundle.block_number => mismatch(format!(
            "NO MATCH: the root was anchored in block #{}, not in the proof's block #{}",
            b.block_number, proof.bundle.block_number
        )),
        Some(b) => Batch {
            org: org.to_string(),
            org_label: orgs::label(&ctx, &org).await,
            leaves: b.leaf_count,
            block: u64::from(b.block_number),
            at: names::time(b.anchored_at),
            root: hex_of(root),
            source: format!("the chain at {}", ctx.chain.url()),
        }
        .included(shown),
    })
}

fn verify_inclusion_query() -> String {
    format!(
        "query($b: JSON!) {{ {MIRRORED} verifyInclusion(bundle: $b) {{ valid explanation \
         batch {{ org leafCount block anchoredAt }} }} }}"
    )
}

async fn inclusion_from_api(url: &str, proof: &DocumentProof, shown: &str) -> Result<Report> {
    // Only the bundle (commitment, path, root, block) leaves this machine: never the salt,
    // which would let the API's operator test guesses of a short document.
    let data = api::query(url, &verify_inclusion_query(), json!({"b": proof.bundle})).await?;
    check_mirror(&data, url, &proof.contract, &proof.chain)?;
    let answer = &data["verifyInclusion"];
    let batch = &answer["batch"];
    if answer["valid"].as_bool() != Some(true) || batch.is_null() {
        let why = answer["explanation"]
            .as_str()
            .unwrap_or("the API found no such anchoring");
        return Ok(mismatch(format!("NO MATCH: {why}")));
    }
    let org = text(batch, "org", url)?;
    if org != proof.org {
        return Ok(mismatch(format!(
            "NO MATCH: the root was anchored by {org}, not by {} as the proof says",
            proof.org
        )));
    }
    let names = api::org_names(url, std::slice::from_ref(&org)).await;
    Ok(Batch {
        org_label: api::labelled(&names, &org),
        org,
        leaves: u32::try_from(number(batch, "leafCount", url)?).unwrap_or(u32::MAX),
        block: number(batch, "block", url)?,
        at: text(batch, "anchoredAt", url)?,
        root: hex_of(proof.bundle.root),
        source: format!("the API at {url}"),
    }
    .included(shown))
}

/// A batch anchoring a document was found in: by whom, how many documents, where and when.
struct Batch {
    org: String,
    org_label: String,
    leaves: u32,
    block: u64,
    at: String,
    root: String,
    source: String,
}

impl Batch {
    fn included(self, shown: &str) -> Report {
        let Batch {
            org,
            org_label,
            leaves,
            block,
            at,
            root,
            source,
        } = self;
        Report::new(
            format!(
                "MATCH: {shown} is one of the {leaves} documents anchored by {org_label} in block #{block} at {at} (root {root})\n\
             a batch proof attests only that this organization committed to the document then: \
             it names no patient, and no consent was checked\n(from {source})"
            ),
            json!({
                "verified": true,
                "org": org,
                "leaf_count": leaves,
                "block": block,
                "anchored_at": at,
                "root": root,
                "attests": "the organization committed to the document at this block; no patient, no consent",
                "source": source,
            }),
        )
    }
}
