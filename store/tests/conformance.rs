//! The store conformance suite: what every `Store` implementation must do. Each test gets a
//! fresh, migrated database.

use medledger_pg_runner::Postgres;
use medledger_store::{
    AccountId, AnchorRef, BlockChanges, ChainEvent, Hash32, IndexedEvent, Mirror, OrgAction,
    OrgIdentifier, OrgProfile, Position, RecordRef, SqlStore, Store, StoreError, UndecodedEvent,
    Upto,
};

struct Fixture {
    store: SqlStore,
    _dir: tempfile::TempDir,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("medledger.db");
    let store = SqlStore::open(&format!("sqlite:{}", path.display()))
        .await
        .expect("open a fresh sqlite store");
    Fixture { store, _dir: dir }
}

/// Runs each case on SQLite (a test each) and on PostgreSQL (one throwaway cluster, a fresh
/// database per case), so that both backends pass the very same checks.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let f = super::sqlite().await;
                    super::$case(&f.store).await;
                }
            )*
        }

        #[tokio::test]
        async fn postgres_passes_every_case() {
            let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
            $({
                eprintln!("postgres: {}", stringify!($case));
                let url = pg.fresh_database().expect("a fresh database");
                let store = SqlStore::open(&url).await.expect("open the postgres store");
                $case(&store).await;
            })*
        }
    };
}

conformance!(
    a_fresh_store_has_no_cursor_and_no_rows,
    a_grant_becomes_the_current_consent_and_a_revoke_marks_it,
    a_replayed_block_changes_nothing,
    the_cursor_follows_empty_blocks_too,
    an_anchored_commitment_can_be_looked_up,
    the_same_record_id_and_commitment_under_two_custodians_are_two_anchors,
    a_block_that_fails_midway_leaves_nothing_behind,
    suspension_and_reinstatement_update_the_organization,
    an_amendment_adds_a_version_and_supersedes_the_previous_one,
    several_blocks_commit_together_with_the_cursor_on_the_last,
    a_batch_that_fails_in_its_last_block_leaves_nothing_of_the_batch,
    every_event_kind_reaches_its_table,
    emergency_windows_open_end_and_run_out,
    delegations_are_set_removed_and_set_again,
    claims_keep_their_documents_and_duplicates,
    undecoded_events_are_kept_raw_and_counted,
    the_database_refuses_another_chain_or_deployment,
    an_upgrade_moves_the_contract_to_its_new_code,
    times_past_what_sql_holds_are_kept_as_never,
    a_patients_history_reaches_back_to_a_block_or_an_instant,
    a_patients_events_are_read_in_chain_order_and_commits_announced,
    every_list_pages_in_key_order_with_its_filters_and_total,
    a_lists_total_and_rows_agree_while_blocks_are_committed,
    a_read_dropped_midway_leaves_no_connection_in_an_old_snapshot,
);

const CONTRACT: AccountId = AccountId([9; 32]);
const PATIENT: AccountId = AccountId([1; 32]);
const PROVIDER: AccountId = AccountId([2; 32]);

fn block(number: u64, events: Vec<ChainEvent>) -> BlockChanges {
    BlockChanges {
        number,
        hash: Hash32([number as u8; 32]),
        timestamp_ms: time_of(number),
        events: events
            .into_iter()
            .enumerate()
            .map(|(i, event)| IndexedEvent {
                index: i as u32 + 1,
                contract: CONTRACT,
                event,
            })
            .collect(),
        undecoded: Vec::new(),
    }
}

fn granted(version: u32, categories: u16) -> ChainEvent {
    ChainEvent::ConsentGranted {
        patient: PATIENT,
        grantee: PROVIDER,
        categories,
        purposes: 1,
        access: 1,
        valid_from: 0,
        expires_at: Some(2_000_000_000_000),
        terms_hash: Hash32([7; 32]),
        version,
        by: PATIENT,
    }
}

async fn a_fresh_store_has_no_cursor_and_no_rows(store: &SqlStore) {
    assert_eq!(store.cursor().await.expect("cursor"), None);
    assert!(
        store
            .consents_of_patient(&PATIENT)
            .await
            .expect("consents")
            .is_empty()
    );
    let status = store.status().await.expect("status");
    assert_eq!(status.cursor, None);
}

async fn a_grant_becomes_the_current_consent_and_a_revoke_marks_it(store: &SqlStore) {
    // given
    let org = ChainEvent::OrgRegistered {
        org: PROVIDER,
        role: "Provider",
        flags: 0,
        profile: None,
    };
    // when
    assert!(
        store
            .apply_block(&block(3, vec![org, granted(1, 0b1_0000)]))
            .await
            .expect("apply")
    );
    // then
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents.len(), 1);
    let c = &consents[0];
    assert_eq!(
        (c.grantee, c.categories, c.version, c.revoked),
        (PROVIDER, 0b1_0000, 1, false)
    );
    assert_eq!(c.updated_block, 3);
    assert_eq!(c.expires_at, Some(2_000_000_000_000));
    let org = store
        .organization(&PROVIDER)
        .await
        .expect("org")
        .expect("registered");
    assert_eq!(org.role, "Provider");

    // when: a new grant replaces it, then it is revoked
    store
        .apply_block(&block(5, vec![granted(2, 0b10_0000)]))
        .await
        .expect("apply");
    let revoke = ChainEvent::ConsentRevoked {
        patient: PATIENT,
        grantee: PROVIDER,
        version: 2,
        by: PATIENT,
    };
    store
        .apply_block(&block(6, vec![revoke]))
        .await
        .expect("apply");
    // then
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents.len(), 1, "one current consent per pair");
    let c = &consents[0];
    assert_eq!((c.categories, c.version, c.revoked), (0b10_0000, 2, true));
    assert_eq!(c.updated_block, 6);
    assert!(
        store
            .consents_of_patient(&PROVIDER)
            .await
            .expect("consents")
            .is_empty()
    );
}

async fn a_replayed_block_changes_nothing(store: &SqlStore) {
    // given
    let b = block(4, vec![granted(1, 1)]);
    assert!(store.apply_block(&b).await.expect("first apply"));
    // when: the same block, and an older one, arrive again (a restart after a crash)
    let replay = store.apply_block(&b).await.expect("replay");
    let older = store
        .apply_block(&block(2, vec![granted(9, 4)]))
        .await
        .expect("older");
    // then
    assert!(!replay && !older);
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!((consents[0].version, consents[0].categories), (1, 1));
    assert_eq!(
        store.cursor().await.expect("cursor").map(|c| c.number),
        Some(4)
    );
}

async fn the_cursor_follows_empty_blocks_too(store: &SqlStore) {
    store.apply_block(&block(1, vec![])).await.expect("apply");
    store.apply_block(&block(2, vec![])).await.expect("apply");
    let cursor = store.cursor().await.expect("cursor").expect("set");
    assert_eq!((cursor.number, cursor.hash), (2, Hash32([2; 32])));
    store.set_finalized_head(10).await.expect("head");
    let status = store.status().await.expect("status");
    assert_eq!(status.finalized_head, Some(10));
    assert_eq!(status.cursor.map(|c| c.number), Some(2));
}

fn anchored(custodian: AccountId, record_id: Hash32, commitment: Hash32) -> ChainEvent {
    ChainEvent::RecordAnchored {
        patient: PATIENT,
        custodian,
        commitment,
        record_id,
        category_commitment: Hash32([0xcc; 32]),
        version: 1,
    }
}

async fn an_anchored_commitment_can_be_looked_up(store: &SqlStore) {
    let commitment = Hash32([0xc1; 32]);
    store
        .apply_block(&block(
            8,
            vec![anchored(PROVIDER, Hash32([0xaa; 32]), commitment)],
        ))
        .await
        .expect("apply");
    let rows = store.record_versions(&commitment).await.expect("lookup");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.record_id, row.custodian),
        (Hash32([0xaa; 32]), PROVIDER)
    );
    assert_eq!((row.version, row.block_number), (1, 8));
    assert_eq!(row.anchored_at, 1_700_000_008_000);
    assert_eq!(row.category_commitment, Hash32([0xcc; 32]));
    assert_eq!(row.superseded_by, None);
    assert!(
        store
            .record_versions(&Hash32([0; 32]))
            .await
            .expect("lookup")
            .is_empty()
    );
}

async fn the_same_record_id_and_commitment_under_two_custodians_are_two_anchors(store: &SqlStore) {
    // a copier anchoring someone's commitment lands in its own key space
    let (record, commitment) = (Hash32([0xaa; 32]), Hash32([0xc1; 32]));
    store
        .apply_block(&block(1, vec![anchored(PATIENT, record, commitment)]))
        .await
        .expect("apply the copy");
    store
        .apply_block(&block(2, vec![anchored(PROVIDER, record, commitment)]))
        .await
        .expect("apply the honest anchor");
    let custodians: Vec<_> = store
        .record_versions(&commitment)
        .await
        .expect("lookup")
        .into_iter()
        .map(|r| (r.custodian, r.block_number))
        .collect();
    assert_eq!(custodians, [(PATIENT, 1), (PROVIDER, 2)]);
}

async fn a_block_that_fails_midway_leaves_nothing_behind(store: &SqlStore) {
    // given: a store with block 1 applied
    store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply");
    // when: block 2 carries two events with the same index (the second insert fails)
    let mut bad = block(2, vec![granted(2, 2), granted(3, 3)]);
    bad.events[1].index = bad.events[0].index;
    let result = store.apply_block(&bad).await;
    // then: the error is reported and neither rows nor cursor moved
    assert!(result.is_err());
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents[0].version, 1);
    assert_eq!(
        store.cursor().await.expect("cursor").map(|c| c.number),
        Some(1)
    );
}

#[tokio::test]
async fn an_unknown_url_scheme_is_refused_with_a_clear_message() {
    let err = medledger_store::open("mysql://localhost/x")
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("use sqlite:<path> or postgres://"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_names_the_database_without_its_password() {
    // Port 1 on loopback: nothing listens there.
    let err = medledger_store::open("postgres://app:s3cret@127.0.0.1:1/medledger")
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(text.contains("cannot open the database"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        err.is_transient(),
        "a database that is down may come back: {err:?}"
    );
}

async fn suspension_and_reinstatement_update_the_organization(store: &SqlStore) {
    let registered = ChainEvent::OrgRegistered {
        org: PROVIDER,
        role: "Provider",
        flags: 0,
        profile: None,
    };
    store
        .apply_block(&block(1, vec![registered]))
        .await
        .expect("apply");
    store
        .apply_block(&block(2, vec![ChainEvent::OrgSuspended { org: PROVIDER }]))
        .await
        .expect("apply");
    let org = store
        .organization(&PROVIDER)
        .await
        .expect("read")
        .expect("registered");
    assert!(!org.active);
    store
        .apply_block(&block(3, vec![ChainEvent::OrgReinstated { org: PROVIDER }]))
        .await
        .expect("apply");
    let org = store
        .organization(&PROVIDER)
        .await
        .expect("read")
        .expect("registered");
    assert!(org.active);
}

async fn an_amendment_adds_a_version_and_supersedes_the_previous_one(store: &SqlStore) {
    let (record, v1, v2) = (Hash32([0xaa; 32]), Hash32([0xc1; 32]), Hash32([0xc2; 32]));
    let amended = ChainEvent::RecordAmended {
        patient: PATIENT,
        custodian: PROVIDER,
        commitment: v2,
        record_id: record,
        previous: v1,
        version: 2,
        reason: "Correction",
    };
    // the patient's own copy of v1 must stay untouched
    store
        .apply_block(&block(
            1,
            vec![
                anchored(PROVIDER, record, v1),
                anchored(PATIENT, record, v1),
            ],
        ))
        .await
        .expect("apply");
    store
        .apply_block(&block(2, vec![amended]))
        .await
        .expect("apply");
    let v1_rows = store.record_versions(&v1).await.expect("read");
    let mut superseded: Vec<_> = v1_rows
        .iter()
        .map(|r| (r.custodian, r.superseded_by))
        .collect();
    superseded.sort_by_key(|(custodian, _)| custodian.0);
    assert_eq!(superseded, [(PATIENT, None), (PROVIDER, Some(v2))]);
    let new = store.record_versions(&v2).await.expect("read");
    assert_eq!(new.len(), 1);
    assert_eq!(
        (
            new[0].version,
            new[0].category_commitment,
            new[0].block_number
        ),
        (2, Hash32([0xcc; 32]), 2)
    );
    assert_eq!(new[0].superseded_by, None);
}

const DELEGATE: AccountId = AccountId([3; 32]);
const INSURER: AccountId = AccountId([4; 32]);
const OTHER_INSURER: AccountId = AccountId([5; 32]);

/// The rows of `table` in a dump.
async fn rows(store: &SqlStore, table: &str) -> Vec<String> {
    store
        .dump()
        .await
        .expect("dump")
        .into_iter()
        .find(|(t, _)| t == table)
        .unwrap_or_else(|| panic!("no table {table} in the dump"))
        .1
}

fn field<'a>(row: &'a str, name: &str) -> &'a str {
    row.split(' ')
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no field {name} in {row}"))
}

async fn several_blocks_commit_together_with_the_cursor_on_the_last(store: &SqlStore) {
    // given: block 1 applied alone
    store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply");
    // when: a batch that starts with a replay of block 1
    let batch = [
        block(1, vec![granted(7, 7)]),
        block(2, vec![]),
        block(3, vec![granted(2, 2)]),
        block(4, vec![]),
    ];
    let applied = store.apply_blocks(&batch).await.expect("apply a batch");
    // then: the replay is skipped, the others applied, the cursor is on the last
    assert_eq!(applied, 3);
    let cursor = store.cursor().await.expect("cursor").expect("set");
    assert_eq!((cursor.number, cursor.hash), (4, Hash32([4; 32])));
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents[0].version, 2);
    assert_eq!(rows(store, "consent_history").await.len(), 2);
}

async fn a_batch_that_fails_in_its_last_block_leaves_nothing_of_the_batch(store: &SqlStore) {
    store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply");
    let mut bad = block(4, vec![granted(3, 3), granted(4, 4)]);
    bad.events[1].index = bad.events[0].index;
    let batch = [block(2, vec![granted(2, 2)]), block(3, vec![]), bad];
    assert!(store.apply_blocks(&batch).await.is_err());
    let consents = store.consents_of_patient(&PATIENT).await.expect("consents");
    assert_eq!(consents[0].version, 1);
    assert_eq!(
        store.cursor().await.expect("cursor").map(|c| c.number),
        Some(1)
    );
    assert_eq!(rows(store, "events").await.len(), 1);
}

/// One event of every kind, in an order the contracts could emit them.
fn one_of_each() -> Vec<ChainEvent> {
    let record = RecordRef {
        custodian: PROVIDER,
        record_id: Hash32([0xaa; 32]),
    };
    vec![
        ChainEvent::OrgRegistered {
            org: PROVIDER,
            role: "Provider",
            flags: 1,
            profile: None,
        },
        ChainEvent::OrgUpdated {
            org: PROVIDER,
            profile: Some(OrgProfile {
                name: "Riverside Clinic".into(),
                kind: "Clinic".into(),
                identifiers: Vec::new(),
            }),
        },
        ChainEvent::OrgSuspended { org: PROVIDER },
        ChainEvent::OrgReinstated { org: PROVIDER },
        ChainEvent::UpgradeAnnounced {
            code_hash: Hash32([0xee; 32]),
            effective_at: 1_700_000_000_000,
        },
        ChainEvent::UpgradeCancelled {
            code_hash: Hash32([0xee; 32]),
        },
        ChainEvent::RegistrarProposed {
            current: PATIENT,
            proposed: DELEGATE,
        },
        ChainEvent::RegistrarChanged {
            previous: PATIENT,
            registrar: DELEGATE,
        },
        ChainEvent::PolicyChanged {
            emergency_window_ms: 3_600_000,
            emergency_cooldown_ms: 86_400_000,
            max_delegation_ms: 1_000_000_000,
        },
        ChainEvent::ContractUpgraded {
            code_hash: Hash32([0xee; 32]),
            from_version: 1,
            storage_version: 2,
        },
        granted(1, 1),
        ChainEvent::ConsentRevoked {
            patient: PATIENT,
            grantee: PROVIDER,
            version: 1,
            by: PATIENT,
        },
        ChainEvent::DelegateSet {
            patient: PATIENT,
            delegate: DELEGATE,
            expires_at: 1_800_000_000_000,
        },
        ChainEvent::DelegateRemoved {
            patient: PATIENT,
            delegate: DELEGATE,
        },
        ChainEvent::EmergencyAccessOpened {
            patient: PATIENT,
            provider: PROVIDER,
            reason: "LifeThreatening",
            justification_hash: Hash32([0x11; 32]),
            ends_at: 1_700_000_100_000,
        },
        ChainEvent::EmergencyAccessEnded {
            patient: PATIENT,
            provider: PROVIDER,
            by: PATIENT,
            cooldown_until: 1_700_086_400_000,
        },
        ChainEvent::EmergencyBlockChanged {
            patient: PATIENT,
            provider: PROVIDER,
            blocked: true,
            by: PATIENT,
            cooldown_until: None,
        },
        anchored(PROVIDER, Hash32([0xaa; 32]), Hash32([0xc1; 32])),
        ChainEvent::RecordAmended {
            patient: PATIENT,
            custodian: PROVIDER,
            commitment: Hash32([0xc2; 32]),
            record_id: Hash32([0xaa; 32]),
            previous: Hash32([0xc1; 32]),
            version: 2,
            reason: "Addendum",
        },
        ChainEvent::BatchAnchored {
            org: PROVIDER,
            root: Hash32([0xbb; 32]),
            leaf_count: 100,
        },
        ChainEvent::ClaimAttested {
            patient: PATIENT,
            insurer: INSURER,
            claim_ref: Hash32([0x21; 32]),
            documents: vec![AnchorRef {
                custodian: PROVIDER,
                commitment: Hash32([0xc2; 32]),
            }],
            all_current: true,
        },
        ChainEvent::DuplicateClaimUse {
            patient: PATIENT,
            insurer: OTHER_INSURER,
            commitment: Hash32([0xc2; 32]),
            claim_ref: Hash32([0x22; 32]),
            first_insurer: INSURER,
            first_claim_ref: Hash32([0x21; 32]),
            reuse: "OtherInsurer",
            overlap: "SameDocument",
        },
        ChainEvent::AccessRecorded {
            patient: PATIENT,
            accessor: PROVIDER,
            record: Some(record),
            categories: 0b1_0000,
            purpose: "Treatment",
            emergency: false,
        },
        ChainEvent::AccessDenied {
            patient: PATIENT,
            accessor: INSURER,
            record: None,
            categories: 0b100_0000_0000,
            purpose: "Payment",
        },
    ]
}

async fn every_event_kind_reaches_its_table(store: &SqlStore) {
    store
        .apply_block(&block(5, one_of_each()))
        .await
        .expect("apply");
    let dump = store.dump().await.expect("dump");
    let count = |table: &str| {
        dump.iter()
            .find(|(t, _)| t == table)
            .map(|(_, rows)| rows.len())
            .unwrap_or_else(|| panic!("no table {table}"))
    };
    assert_eq!(count("events"), one_of_each().len(), "every event kept raw");
    for (table, expected) in [
        ("organizations", 1),
        ("registrar_history", 2),
        ("policy_history", 1),
        ("upgrades", 1),
        ("consents", 1),
        ("consent_history", 2),
        ("delegations", 1),
        ("emergency_windows", 1),
        ("emergency_blocks", 1),
        ("records", 1),
        ("record_versions", 2),
        ("batches", 1),
        ("claims", 1),
        ("claim_documents", 1),
        ("duplicate_claim_uses", 1),
        ("access_log", 2),
    ] {
        assert_eq!(count(table), expected, "rows in {table}");
    }
    let log = rows(store, "access_log").await;
    assert_eq!(field(&log[0], "outcome"), "recorded");
    assert_eq!(field(&log[0], "record_custodian"), PROVIDER.to_string());
    assert_eq!(field(&log[0], "record_id"), Hash32([0xaa; 32]).to_string());
    assert_eq!(field(&log[1], "outcome"), "denied");
    assert_eq!(field(&log[1], "record_id"), "NULL");
    assert_eq!(field(&log[1], "accessor"), INSURER.to_string());
    let registrar = rows(store, "registrar_history").await;
    assert_eq!(field(&registrar[1], "action"), "changed");
    assert_eq!(field(&registrar[1], "to_account"), DELEGATE.to_string());
    let policy = rows(store, "policy_history").await;
    assert_eq!(field(&policy[0], "emergency_cooldown_ms"), "86400000");
    let batch = rows(store, "batches").await;
    assert_eq!(field(&batch[0], "leaf_count"), "100");
    assert_eq!(field(&batch[0], "block_number"), "5");
    let orgs = rows(store, "organizations").await;
    assert!(
        orgs[0].contains("name=Riverside Clinic"),
        "renamed: {}",
        orgs[0]
    );
    assert_eq!(field(&orgs[0], "kind"), "Clinic");
    let reuse = rows(store, "duplicate_claim_uses").await;
    assert_eq!(
        (field(&reuse[0], "reuse"), field(&reuse[0], "overlap")),
        ("OtherInsurer", "SameDocument")
    );
}

async fn emergency_windows_open_end_and_run_out(store: &SqlStore) {
    let opened = |ends_at| ChainEvent::EmergencyAccessOpened {
        patient: PATIENT,
        provider: PROVIDER,
        reason: "PatientIncapacitated",
        justification_hash: Hash32([0x11; 32]),
        ends_at,
    };
    // given: a window that runs out by time, then a second one the patient ends
    store
        .apply_blocks(&[
            block(1, vec![opened(1_700_000_001_500)]),
            block(9, vec![opened(1_700_000_020_000)]),
            block(
                10,
                vec![ChainEvent::EmergencyAccessEnded {
                    patient: PATIENT,
                    provider: PROVIDER,
                    by: DELEGATE,
                    cooldown_until: 1_700_086_410_000,
                }],
            ),
        ])
        .await
        .expect("apply");
    // then: the first keeps no end, the second is ended by the delegate, with its cool-down
    let windows = rows(store, "emergency_windows").await;
    assert_eq!(windows.len(), 2);
    assert_eq!(field(&windows[0], "ended_block"), "NULL");
    assert_eq!(field(&windows[0], "ends_at"), "1700000001500");
    assert_eq!(field(&windows[1], "opened_block"), "9");
    assert_eq!(field(&windows[1], "ended_block"), "10");
    assert_eq!(field(&windows[1], "ended_by"), DELEGATE.to_string());
    assert_eq!(field(&windows[1], "cooldown_until"), "1700086410000");

    // when: a third window is ended by blocking the provider
    store
        .apply_blocks(&[
            block(20, vec![opened(1_700_000_040_000)]),
            block(
                21,
                vec![ChainEvent::EmergencyBlockChanged {
                    patient: PATIENT,
                    provider: PROVIDER,
                    blocked: true,
                    by: PATIENT,
                    cooldown_until: Some(1_700_086_421_000),
                }],
            ),
        ])
        .await
        .expect("apply");
    let windows = rows(store, "emergency_windows").await;
    assert_eq!(field(&windows[2], "ended_block"), "21");
    assert_eq!(field(&windows[2], "ended_by"), PATIENT.to_string());
    assert_eq!(
        field(&windows[1], "ended_block"),
        "10",
        "earlier windows untouched"
    );
    let blocks = rows(store, "emergency_blocks").await;
    assert_eq!(field(&blocks[0], "blocked"), "1");

    // when: unblocked again, no window is touched
    store
        .apply_block(&block(
            22,
            vec![ChainEvent::EmergencyBlockChanged {
                patient: PATIENT,
                provider: PROVIDER,
                blocked: false,
                by: PATIENT,
                cooldown_until: None,
            }],
        ))
        .await
        .expect("apply");
    let blocks = rows(store, "emergency_blocks").await;
    assert_eq!(blocks.len(), 1, "one row per pair");
    assert_eq!(field(&blocks[0], "blocked"), "0");
    assert_eq!(field(&blocks[0], "changed_block"), "22");
}

async fn delegations_are_set_removed_and_set_again(store: &SqlStore) {
    let set = |expires_at| ChainEvent::DelegateSet {
        patient: PATIENT,
        delegate: DELEGATE,
        expires_at,
    };
    store
        .apply_blocks(&[
            block(1, vec![set(1_750_000_000_000)]),
            block(
                2,
                vec![ChainEvent::DelegateRemoved {
                    patient: PATIENT,
                    delegate: DELEGATE,
                }],
            ),
        ])
        .await
        .expect("apply");
    let rows_now = rows(store, "delegations").await;
    assert_eq!(field(&rows_now[0], "removed_block"), "2");
    store
        .apply_block(&block(3, vec![set(1_760_000_000_000)]))
        .await
        .expect("apply");
    let rows_now = rows(store, "delegations").await;
    assert_eq!(rows_now.len(), 1);
    assert_eq!(field(&rows_now[0], "removed_block"), "NULL");
    assert_eq!(field(&rows_now[0], "expires_at"), "1760000000000");
    assert_eq!(field(&rows_now[0], "set_block"), "3");
}

async fn claims_keep_their_documents_and_duplicates(store: &SqlStore) {
    let documents = vec![
        AnchorRef {
            custodian: PROVIDER,
            commitment: Hash32([0xc1; 32]),
        },
        AnchorRef {
            custodian: PATIENT,
            commitment: Hash32([0xc3; 32]),
        },
    ];
    store
        .apply_block(&block(
            1,
            vec![ChainEvent::ClaimAttested {
                patient: PATIENT,
                insurer: INSURER,
                claim_ref: Hash32([0x21; 32]),
                documents,
                all_current: false,
            }],
        ))
        .await
        .expect("apply");
    let claims = rows(store, "claims").await;
    assert_eq!(field(&claims[0], "all_current"), "0");
    let docs = rows(store, "claim_documents").await;
    assert_eq!(docs.len(), 2);
    assert_eq!(field(&docs[1], "position"), "1");
    assert_eq!(field(&docs[1], "custodian"), PATIENT.to_string());
    assert_eq!(
        field(&docs[1], "commitment"),
        Hash32([0xc3; 32]).to_string()
    );
}

async fn undecoded_events_are_kept_raw_and_counted(store: &SqlStore) {
    let mut b = block(3, vec![granted(1, 1)]);
    b.undecoded.push(UndecodedEvent {
        index: 7,
        contract: CONTRACT,
        topics: vec![Hash32([0xde; 32])],
        data: vec![1, 2, 3],
        reason: "unknown event signature".into(),
    });
    store.apply_block(&b).await.expect("apply");
    let raw = rows(store, "undecoded_events").await;
    assert_eq!(raw.len(), 1);
    assert_eq!(field(&raw[0], "data"), "0x010203");
    assert_eq!(field(&raw[0], "topics"), Hash32([0xde; 32]).to_string());
    assert!(
        raw[0].contains("reason=unknown event signature"),
        "{}",
        raw[0]
    );
    assert_eq!(store.status().await.expect("status").undecoded_events, 1);
    // the decodable event of the same block is applied as usual
    assert_eq!(
        store
            .consents_of_patient(&PATIENT)
            .await
            .expect("consents")
            .len(),
        1
    );
}

fn mirror() -> Mirror {
    Mirror {
        genesis_hash: Hash32([0x47; 32]),
        consent_registry: AccountId([0x0c; 32]),
        record_registry: AccountId([0x0d; 32]),
        consent_code_hash: Hash32([0x1c; 32]),
        record_code_hash: Hash32([0x1d; 32]),
        start_block: 3,
    }
}

async fn the_database_refuses_another_chain_or_deployment(store: &SqlStore) {
    // given: a database bound to a chain and deployment
    store.check_mirror(&mirror()).await.expect("bind");
    // when/then: the same again is fine
    store.check_mirror(&mirror()).await.expect("same mirror");
    assert_eq!(
        store.status().await.expect("status").genesis_hash,
        Some(Hash32([0x47; 32]))
    );
    // another chain is refused, naming both
    let other_chain = Mirror {
        genesis_hash: Hash32([0x48; 32]),
        ..mirror()
    };
    let err = store.check_mirror(&other_chain).await.expect_err("refused");
    assert!(matches!(err, StoreError::OtherMirror { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("chain (genesis)"), "{text}");
    assert!(text.contains(&Hash32([0x47; 32]).to_string()), "{text}");
    assert!(text.contains(&Hash32([0x48; 32]).to_string()), "{text}");
    // other contracts on the same chain are refused too
    let other_contracts = Mirror {
        record_registry: AccountId([0x0e; 32]),
        ..mirror()
    };
    let err = store
        .check_mirror(&other_contracts)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("RecordRegistry"), "{err}");
}

async fn an_upgrade_moves_the_contract_to_its_new_code(store: &SqlStore) {
    store.check_mirror(&mirror()).await.expect("bind");
    let contracts = store.contracts().await.expect("contracts");
    assert_eq!(contracts.len(), 2);
    assert!(contracts.iter().all(|c| c.storage_version.is_none()));
    // both announce an upgrade; the ConsentRegistry's is withdrawn
    let announced = |contract, code: u8| {
        let mut b = block(
            6,
            vec![ChainEvent::UpgradeAnnounced {
                code_hash: Hash32([code; 32]),
                effective_at: 1_700_000_600_000,
            }],
        );
        b.events[0].contract = contract;
        b
    };
    let mut both = announced(mirror().record_registry, 0x2d);
    let consent_too = announced(mirror().consent_registry, 0x3e).events;
    both.events.extend(consent_too.into_iter().map(|mut e| {
        e.index = 2;
        e
    }));
    store.apply_block(&both).await.expect("apply");
    let mut withdrawn = block(
        7,
        vec![ChainEvent::UpgradeCancelled {
            code_hash: Hash32([0x3e; 32]),
        }],
    );
    withdrawn.events[0].contract = mirror().consent_registry;
    store.apply_block(&withdrawn).await.expect("apply");
    let pending = |name: &str, contracts: &[medledger_store::ContractRow]| {
        contracts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.pending_upgrade)
    };
    let contracts = store.contracts().await.expect("contracts");
    assert_eq!(
        pending("RecordRegistry", &contracts),
        Some((Hash32([0x2d; 32]), 1_700_000_600_000))
    );
    assert_eq!(pending("ConsentRegistry", &contracts), None, "withdrawn");
    let mut b = block(
        8,
        vec![ChainEvent::ContractUpgraded {
            code_hash: Hash32([0x2d; 32]),
            from_version: 1,
            storage_version: 2,
        }],
    );
    b.events[0].contract = mirror().record_registry;
    store.apply_block(&b).await.expect("apply");
    let contracts = store.contracts().await.expect("contracts");
    let records = contracts
        .iter()
        .find(|c| c.name == "RecordRegistry")
        .expect("listed");
    assert_eq!(records.code_hash, Hash32([0x2d; 32]));
    assert_eq!(
        (records.storage_version, records.updated_block),
        (Some(2), 8)
    );
    assert_eq!(
        records.pending_upgrade, None,
        "applied, so no longer pending"
    );
    let consent = contracts
        .iter()
        .find(|c| c.name == "ConsentRegistry")
        .expect("listed");
    assert_eq!(
        consent.code_hash,
        Hash32([0x1c; 32]),
        "the other is untouched"
    );
}

#[tokio::test]
async fn sqlite_and_postgres_end_with_the_same_rows() {
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let postgres = SqlStore::open(&pg.fresh_database().expect("database"))
        .await
        .expect("open postgres");
    let f = sqlite().await;
    let blocks = [
        block(5, one_of_each()),
        block(6, vec![]),
        block(7, vec![granted(2, 0b11)]),
    ];
    for store in [&f.store, &postgres] {
        store.check_mirror(&mirror()).await.expect("bind");
        store.apply_blocks(&blocks).await.expect("apply");
    }
    let (a, b) = (
        f.store.dump().await.expect("dump"),
        postgres.dump().await.expect("dump"),
    );
    for ((table, sqlite_rows), (_, postgres_rows)) in a.iter().zip(&b) {
        assert_eq!(sqlite_rows, postgres_rows, "table {table} differs");
    }
    assert!(a.iter().map(|(_, r)| r.len()).sum::<usize>() > 30);
}

async fn times_past_what_sql_holds_are_kept_as_never(store: &SqlStore) {
    // The contract accepts any u64 as a consent's end: such a grant must not stop indexing.
    let mut far = granted(1, 1);
    if let ChainEvent::ConsentGranted { expires_at, .. } = &mut far {
        *expires_at = Some(u64::MAX);
    }
    store
        .apply_block(&block(1, vec![far]))
        .await
        .expect("apply");
    let c = &store.consents_of_patient(&PATIENT).await.expect("consents")[0];
    assert_eq!(c.expires_at, Some(i64::MAX as u64));
    let raw = rows(store, "events").await;
    assert!(
        raw[0].contains(&u64::MAX.to_string()),
        "the raw event keeps the exact value"
    );
}

#[tokio::test]
async fn two_writers_on_one_postgres_database_never_apply_a_block_twice() {
    // Two indexers started on one database by mistake: they take turns, and the second
    // skips what the first wrote instead of failing or moving the cursor back.
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.fresh_database().expect("database");
    let a = SqlStore::open(&url).await.expect("open");
    let b = SqlStore::open(&url).await.expect("open");
    let blocks: Vec<BlockChanges> = (1..=40)
        .map(|n| block(n, vec![granted(n as u32, 1)]))
        .collect();
    let (ra, rb) = tokio::join!(
        async {
            for chunk in blocks.chunks(3) {
                a.apply_blocks(chunk).await?;
            }
            Ok::<_, StoreError>(())
        },
        async {
            for chunk in blocks.chunks(5) {
                b.apply_blocks(chunk).await?;
            }
            Ok::<_, StoreError>(())
        }
    );
    ra.expect("first writer");
    rb.expect("second writer");
    assert_eq!(rows(&a, "events").await.len(), 40);
    assert_eq!(
        a.cursor().await.expect("cursor").map(|c| c.number),
        Some(40)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_opening_one_fresh_sqlite_file_at_once_all_get_it_migrated() {
    // `medledger index` and `medledger serve` started together on a new file: each opens and
    // migrates it at the same moment.
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite:{}", dir.path().join("shared.db").display());
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { SqlStore::open(&url).await })
            })
            .collect();
        for open in opens {
            let store = open
                .await
                .expect("join")
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(store.cursor().await.expect("cursor"), None);
        }
    }
}

/// A history that makes the store's writer merge, split and order rows: the same consent
/// granted twice in one run of upserts, grants around a revocation, delegations and
/// emergency blocks changed again and again, records anchored and amended in one block, every
/// kind once, and more grants than fit one statement.
fn busy_history() -> Vec<BlockChanges> {
    let grantee = |n: u8| AccountId([100 + n; 32]);
    let grant_to = |to: AccountId, version: u32, categories: u16| {
        let mut grant = granted(version, categories);
        if let ChainEvent::ConsentGranted { grantee, .. } = &mut grant {
            *grantee = to;
        }
        grant
    };
    let delegate = AccountId([50; 32]);
    let set = |expires_at| ChainEvent::DelegateSet {
        patient: PATIENT,
        delegate,
        expires_at,
    };
    let block_change = |blocked, cooldown_until| ChainEvent::EmergencyBlockChanged {
        patient: PATIENT,
        provider: PROVIDER,
        blocked,
        by: PATIENT,
        cooldown_until,
    };
    let mut blocks = vec![
        block(
            10,
            vec![
                ChainEvent::OrgRegistered {
                    org: PROVIDER,
                    role: "Provider",
                    flags: 1,
                    profile: None,
                },
                grant_to(PROVIDER, 1, 0b1),
                grant_to(grantee(1), 1, 0b10),
                grant_to(PROVIDER, 2, 0b11),
                set(5_000),
                ChainEvent::DelegateRemoved {
                    patient: PATIENT,
                    delegate,
                },
                set(6_000),
                set(7_000),
            ],
        ),
        block(
            11,
            vec![
                ChainEvent::ConsentRevoked {
                    patient: PATIENT,
                    grantee: PROVIDER,
                    version: 2,
                    by: PATIENT,
                },
                grant_to(PROVIDER, 3, 0b111),
                ChainEvent::EmergencyAccessOpened {
                    patient: PATIENT,
                    provider: PROVIDER,
                    reason: "Other",
                    justification_hash: Hash32([3; 32]),
                    ends_at: 9_000,
                },
                block_change(true, Some(8_000)),
                block_change(false, None),
                block_change(true, None),
                anchored(PROVIDER, Hash32([0xa1; 32]), Hash32([0xd1; 32])),
                anchored(PROVIDER, Hash32([0xa2; 32]), Hash32([0xd2; 32])),
                ChainEvent::RecordAmended {
                    patient: PATIENT,
                    custodian: PROVIDER,
                    commitment: Hash32([0xd3; 32]),
                    record_id: Hash32([0xa1; 32]),
                    previous: Hash32([0xd1; 32]),
                    version: 2,
                    reason: "Correction",
                },
            ],
        ),
        block(12, vec![]),
    ];
    let mut one_each = one_of_each();
    one_each.retain(|e| !matches!(e, ChainEvent::OrgRegistered { .. }));
    blocks.push(block(13, one_each));
    // More grants than one statement holds (500 rows), to distinct grantees and then again.
    let many: Vec<ChainEvent> = (0..700u32)
        .map(|n| {
            let mut to = [7; 32];
            to[..4].copy_from_slice(&n.to_le_bytes());
            grant_to(AccountId(to), n + 1, (n % 1024) as u16)
        })
        .collect();
    blocks.push(block(14, many));
    blocks
}

/// Writes `blocks` once one transaction per block and once all in one transaction, each
/// into a fresh store, and checks the two end with the same rows.
async fn together_equals_one_by_one(one_by_one: &SqlStore, together: &SqlStore) {
    let blocks = busy_history();
    for b in &blocks {
        one_by_one.apply_block(b).await.expect("apply one block");
    }
    together
        .apply_blocks(&blocks)
        .await
        .expect("apply all blocks");
    let (a, b) = (
        one_by_one.dump().await.expect("dump"),
        together.dump().await.expect("dump"),
    );
    for ((table, one), (_, all)) in a.iter().zip(&b) {
        assert_eq!(one, all, "table {table} differs");
    }
    assert!(rows(together, "consents").await.len() >= 702);
    // blocked, lifted, blocked again: barred; with a lifted block too when asked for all
    let barred = together
        .emergency_blocks(Some(&PATIENT), true, None, 10)
        .await
        .expect("list");
    assert_eq!(barred.total, 1);
    let block = &barred.rows[0].1;
    assert_eq!((block.provider, block.blocked), (PROVIDER, true));
    assert_eq!(block.changed_by, PATIENT);
    let consent_events = blocks
        .iter()
        .flat_map(|b| &b.events)
        .filter(|e| e.event.kind().starts_with("Consent"))
        .count();
    assert_eq!(
        rows(together, "consent_history").await.len(),
        consent_events
    );
}

#[tokio::test]
async fn many_blocks_in_one_transaction_end_as_one_block_per_transaction_on_sqlite() {
    let (a, b) = (sqlite().await, sqlite().await);
    together_equals_one_by_one(&a.store, &b.store).await;
}

#[tokio::test]
async fn many_blocks_in_one_transaction_end_as_one_block_per_transaction_on_postgres() {
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let open = || async {
        SqlStore::open(&pg.fresh_database().expect("database"))
            .await
            .expect("open postgres")
    };
    let (a, b) = (open().await, open().await);
    together_equals_one_by_one(&a, &b).await;
}

/// Block `n`'s time in [`block`].
fn time_of(n: u64) -> u64 {
    1_700_000_000_000 + n * 1_000
}

async fn a_patients_history_reaches_back_to_a_block_or_an_instant(store: &SqlStore) {
    const OTHER: AccountId = AccountId([5; 32]);
    let registered = |org| ChainEvent::OrgRegistered {
        org,
        role: "Provider",
        flags: 1,
        profile: None,
    };
    let revoked = ChainEvent::ConsentRevoked {
        patient: PATIENT,
        grantee: PROVIDER,
        version: 1,
        by: PATIENT,
    };
    // given: two providers, a grant, a delegate, a suspension, a window ended early, a
    // revocation and an empty block at the end
    store
        .apply_blocks(&[
            block(1, vec![registered(PROVIDER), registered(OTHER)]),
            block(2, vec![granted(1, 1)]),
            block(
                3,
                vec![ChainEvent::DelegateSet {
                    patient: PATIENT,
                    delegate: DELEGATE,
                    expires_at: time_of(100),
                }],
            ),
            block(4, vec![ChainEvent::OrgSuspended { org: PROVIDER }]),
            block(
                5,
                vec![ChainEvent::EmergencyAccessOpened {
                    patient: PATIENT,
                    provider: PROVIDER,
                    reason: "PatientIncapacitated",
                    justification_hash: Hash32([0x11; 32]),
                    ends_at: time_of(50),
                }],
            ),
            block(
                6,
                vec![ChainEvent::EmergencyAccessEnded {
                    patient: PATIENT,
                    provider: PROVIDER,
                    by: PATIENT,
                    cooldown_until: time_of(60),
                }],
            ),
            block(7, vec![revoked]),
            block(8, vec![]),
        ])
        .await
        .expect("apply");

    // then: up to block 5 the revocation and the window's end are not there yet
    let at5 = store
        .history(&PATIENT, None, Upto::Block(5))
        .await
        .expect("history");
    assert_eq!(at5.consents.len(), 1);
    assert!(at5.consents[0].grant.is_some());
    assert_eq!(at5.consents[0].at, time_of(2));
    let actions: Vec<_> = at5.organizations.iter().map(|o| o.action).collect();
    assert_eq!(
        actions,
        [OrgAction::Registered, OrgAction::Suspended],
        "only the organization the patient deals with"
    );
    assert_eq!(at5.delegations.len(), 1);
    assert_eq!(at5.delegations[0].expires_at, Some(time_of(100)));
    assert_eq!(at5.windows.len(), 1);
    assert_eq!(at5.windows[0].ended_at, None, "ended only in block 6");
    assert_eq!(
        at5.position,
        Some(Position {
            block: 8,
            time: time_of(8),
            finalized_head: 8
        }),
        "where the mirror stands, whatever the reach"
    );
    let latest = store
        .history(&PATIENT, None, Upto::Latest)
        .await
        .expect("history");
    assert_eq!(latest.consents.len(), 2, "everything");

    // and by time: the same cut, half a second after block 6
    let later = store
        .history(&PATIENT, Some(&PROVIDER), Upto::Time(time_of(6) + 500))
        .await
        .expect("history");
    assert_eq!(later.windows[0].ended_at, Some(time_of(6)));
    assert_eq!(later.windows[0].ended_by, Some(PATIENT));
    assert_eq!(later.consents.len(), 1, "revoked only in block 7");
    let all = store
        .history(&PATIENT, Some(&PROVIDER), Upto::Block(8))
        .await
        .expect("history");
    assert_eq!(all.consents.len(), 2);
    assert_eq!(all.consents[1].grant, None, "the revocation");

    // a grantee the patient never dealt with has no history, not someone else's
    let none = store
        .history(&PATIENT, Some(&OTHER), Upto::Block(8))
        .await
        .expect("history");
    assert!(none.consents.is_empty() && none.windows.is_empty());
    assert_eq!(none.organizations.len(), 1, "its own registration");
    assert_eq!(none.organizations[0].account, OTHER);

    // the mirror knows the times of blocks with events and of its last block only
    assert_eq!(store.block_time(4).await.expect("time"), Some(time_of(4)));
    assert_eq!(store.block_time(8).await.expect("time"), Some(time_of(8)));
    assert_eq!(store.block_time(9).await.expect("time"), None);
    let status = store.status().await.expect("status");
    assert_eq!(status.cursor_time, Some(time_of(8)));
}

async fn a_patients_events_are_read_in_chain_order_and_commits_announced(store: &SqlStore) {
    const OTHER_PATIENT: AccountId = AccountId([6; 32]);
    let mut commits = store.commits();
    let other = ChainEvent::ConsentGranted {
        patient: OTHER_PATIENT,
        grantee: PROVIDER,
        categories: 1,
        purposes: 1,
        access: 1,
        valid_from: 0,
        expires_at: None,
        terms_hash: Hash32([7; 32]),
        version: 1,
        by: OTHER_PATIENT,
    };
    store
        .apply_blocks(&[
            block(
                1,
                vec![
                    ChainEvent::OrgRegistered {
                        org: PROVIDER,
                        role: "Provider",
                        flags: 1,
                        profile: None,
                    },
                    granted(1, 1),
                ],
            ),
            block(2, vec![other, granted(2, 3)]),
            block(
                3,
                vec![ChainEvent::ConsentRevoked {
                    patient: PATIENT,
                    grantee: PROVIDER,
                    version: 2,
                    by: PATIENT,
                }],
            ),
        ])
        .await
        .expect("apply");
    assert_eq!(
        commits.recv().await.expect("announced"),
        3,
        "the commit's last block"
    );

    // the patient's own events, in chain order, paged by (block, index)
    let all = store
        .patient_events(&PATIENT, None, 10)
        .await
        .expect("events");
    let seen: Vec<_> = all
        .iter()
        .map(|e| (e.block_number, e.event_index, e.kind.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, 2, "ConsentGranted"),
            (2, 2, "ConsentGranted"),
            (3, 1, "ConsentRevoked")
        ]
    );
    assert_eq!(all[0].at, time_of(1));
    assert_eq!(all[0].patient, Some(PATIENT));
    assert!(
        all[0].payload.contains("\"version\":1"),
        "{}",
        all[0].payload
    );
    let rest = store
        .patient_events(&PATIENT, Some((1, 2)), 1)
        .await
        .expect("events");
    assert_eq!(rest.len(), 1);
    assert_eq!((rest[0].block_number, rest[0].event_index), (2, 2));
    assert_eq!(store.patient_event_count(&PATIENT).await.expect("count"), 3);

    // every patient's events of a range of blocks, organizations' left out
    let latest = store.patient_events_between(1, 3).await.expect("between");
    let who: Vec<_> = latest.iter().map(|e| e.patient).collect();
    assert_eq!(who, [Some(OTHER_PATIENT), Some(PATIENT), Some(PATIENT)]);
}

#[tokio::test]
async fn a_commit_on_postgres_is_announced_to_every_store_on_the_database() {
    let pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.fresh_database().expect("database");
    let writer = SqlStore::open(&url).await.expect("open");
    let reader = SqlStore::open(&url).await.expect("open");
    let mut announced = reader.commits();
    // The listening connection starts in the background: commit until it hears one.
    let mut heard = None;
    for n in 1..=50 {
        writer
            .apply_block(&block(n, vec![granted(n as u32, 1)]))
            .await
            .expect("apply");
        if let Ok(Ok(block)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), announced.recv()).await
        {
            heard = Some((n, block));
            break;
        }
    }
    let (committed, block) = heard.expect("another store on the database heard a commit");
    assert!(block <= committed);
    // and from then on, every commit
    writer
        .apply_block(&block_after(committed))
        .await
        .expect("apply");
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match announced.recv().await {
                Ok(b) if b == committed + 1 => return b,
                Ok(_) => continue,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("announced within 5 s");
    assert_eq!(next, committed + 1);
}

fn block_after(n: u64) -> BlockChanges {
    block(n + 1, vec![granted(n as u32 + 1, 1)])
}

#[tokio::test]
async fn a_commit_on_sqlite_is_announced_to_another_store_on_the_file() {
    // An indexer and a separate `serve` on one SQLite file.
    let f = sqlite().await;
    let url = format!("sqlite:{}", f._dir.path().join("medledger.db").display());
    let other = SqlStore::open(&url).await.expect("open the same file");
    let mut announced = other.commits();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    f.store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply");
    let block = tokio::time::timeout(std::time::Duration::from_secs(2), announced.recv())
        .await
        .expect("announced within 2 s")
        .expect("a block");
    assert_eq!(block, 1);
}

async fn every_list_pages_in_key_order_with_its_filters_and_total(store: &SqlStore) {
    let insurer = AccountId([4; 32]);
    store
        .apply_blocks(&[
            block(5, one_of_each()),
            block(
                6,
                vec![ChainEvent::OrgRegistered {
                    org: insurer,
                    role: "Insurer",
                    flags: 0,
                    profile: Some(OrgProfile {
                        name: "Acme 100% Health_Insurance".into(),
                        kind: "Insurer".into(),
                        identifiers: vec![OrgIdentifier {
                            system: "http://hl7.org/fhir/sid/us-npi".into(),
                            value: "1234567893".into(),
                        }],
                    }),
                }],
            ),
        ])
        .await
        .expect("apply");

    // organizations: two, a page of one at a time, by account
    let first = store
        .organizations(None, None, None, 1)
        .await
        .expect("list");
    assert_eq!((first.rows.len(), first.more, first.total), (1, true, 2));
    let (cursor, org) = &first.rows[0];
    assert_eq!(org.account, PROVIDER.min(insurer));
    let second = store
        .organizations(None, None, Some(cursor), 1)
        .await
        .expect("list");
    assert_eq!((second.rows.len(), second.more), (1, false));
    assert_eq!(second.rows[0].1.account, PROVIDER.max(insurer));
    let insurers = store
        .organizations(Some("Insurer"), None, None, 10)
        .await
        .expect("list");
    assert_eq!(insurers.total, 1);
    assert_eq!(insurers.rows[0].1.role, "Insurer");
    // by a part of the name, in any case; LIKE's own wildcards are taken as they are
    let named = |part: &'static str| async move {
        store
            .organizations(None, Some(part), None, 10)
            .await
            .expect("list")
            .rows
            .into_iter()
            .map(|(_, o)| o.account)
            .collect::<Vec<_>>()
    };
    assert_eq!(named("ACME").await, [insurer]);
    assert_eq!(named("100%").await, [insurer]);
    assert_eq!(named("h_i").await, [insurer]);
    assert!(named("0%H").await.is_empty(), "% is no wildcard");
    assert!(named("h.i").await.is_empty());
    assert_eq!(
        named("riverside").await,
        [PROVIDER],
        "named by its OrgUpdated"
    );
    assert!(named("lakeside").await.is_empty());
    let acme = &insurers.rows[0].1;
    let profile = acme.profile.as_ref().expect("a profile");
    assert_eq!(
        (
            profile.name.as_str(),
            profile.kind.as_str(),
            profile.identifiers.len()
        ),
        ("Acme 100% Health_Insurance", "Insurer", 1)
    );

    // the access log, filtered by outcome
    let denied = store
        .access_log(Some(&PATIENT), None, Some("denied"), None, 10)
        .await
        .expect("list");
    assert_eq!(denied.total, 1);
    assert_eq!(denied.rows[0].1.outcome, "denied");
    let all = store
        .access_log(Some(&PATIENT), None, None, None, 10)
        .await
        .expect("list");
    assert_eq!(all.total, 2);
    assert!(
        all.rows[0].1.event_index < all.rows[1].1.event_index,
        "chain order"
    );

    // consents' history, delegations, windows, records, claims and duplicates
    let history = store
        .consent_changes(&PATIENT, None, None, 10)
        .await
        .expect("list");
    assert_eq!(history.total, 2, "the grant and the revocation");
    assert!(history.rows[1].1.grant.is_none());
    let delegations = store
        .delegations(Some(&PATIENT), None, None, 10)
        .await
        .expect("list");
    assert_eq!(delegations.total, 1);
    assert!(delegations.rows[0].1.removed_block.is_some());
    let windows = store
        .emergency_windows(None, Some(&PROVIDER), None, 10)
        .await
        .expect("list");
    assert_eq!(windows.total, 1);
    let records = store
        .records(Some(&PATIENT), None, None, 10)
        .await
        .expect("list");
    assert_eq!(records.total, 1);
    assert_eq!(records.rows[0].1.latest_version, 2);
    let (record, versions) = store
        .record(&PROVIDER, &Hash32([0xaa; 32]))
        .await
        .expect("read")
        .expect("the record");
    assert_eq!(record.latest_commitment, Hash32([0xc2; 32]));
    let chain: Vec<_> = versions
        .iter()
        .map(|v| (v.version, v.superseded_by))
        .collect();
    assert_eq!(chain, [(1, Some(Hash32([0xc2; 32]))), (2, None)]);
    assert!(
        store
            .record(&PATIENT, &Hash32([0xaa; 32]))
            .await
            .expect("read")
            .is_none(),
        "another custodian's key space"
    );
    let claims = store
        .claims(Some(&PATIENT), None, None, 10)
        .await
        .expect("list");
    assert_eq!(claims.total, 1);
    assert_eq!(
        claims.rows[0].1.documents,
        [AnchorRef {
            custodian: PROVIDER,
            commitment: Hash32([0xc2; 32])
        }]
    );
    let using = store.claims_using(&Hash32([0xc2; 32])).await.expect("read");
    assert_eq!(using.len(), 1);
    assert_eq!(using[0].claim_ref, Hash32([0x21; 32]));
    assert_eq!(using[0].documents.len(), 1);
    assert!(
        store
            .claims_using(&Hash32([0xc1; 32]))
            .await
            .expect("read")
            .is_empty()
    );
    let duplicates = store
        .duplicate_claim_uses(Some(&PATIENT), None, None, 10)
        .await
        .expect("list");
    assert_eq!(duplicates.total, 1);
    assert_eq!(duplicates.rows[0].1.first_claim_ref, Hash32([0x21; 32]));

    // a cursor no page gave is refused as such
    for bad in ["nonsense", "5", "5|x", ""] {
        let refused = store.access_log(None, None, None, Some(bad), 10).await;
        assert!(
            matches!(refused, Err(StoreError::BadCursor(_))),
            "{bad:?}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn reads_answer_again_once_a_restarted_postgres_is_back() {
    // given: an API's store that has read on several connections at once
    let mut pg = Postgres::start().unwrap_or_else(|e| panic!("{e}"));
    let store = SqlStore::open(&pg.fresh_database().expect("database"))
        .await
        .expect("open");
    store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply");
    let read_at_once = |store: &SqlStore| {
        let reads: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.history(&PATIENT, None, Upto::Latest).await })
            })
            .collect();
        async move {
            for read in reads {
                let history = read.await.expect("join").expect("read");
                assert_eq!(history.consents.len(), 1);
            }
        }
    };
    read_at_once(&store).await;

    // when: PostgreSQL goes away, a read meanwhile fails as a transient error
    pg.stop().expect("stop postgres");
    let err = store
        .history(&PATIENT, None, Upto::Latest)
        .await
        .expect_err("no database, no answer");
    assert!(err.is_transient(), "{err}");
    pg.restart().expect("restart postgres");
    // then: once it is back, every read answers, none on a dead connection
    read_at_once(&store).await;
    read_at_once(&store).await;

    // when: it restarts while nobody reads (an idle API)
    pg.stop().expect("stop postgres");
    pg.restart().expect("restart postgres");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    // then: the first read after it answers too
    read_at_once(&store).await;
}

/// A list's total and its rows come from one state of the database while blocks are being
/// committed: a commit landing between the count and the rows would show more rows than the
/// total says there are.
async fn a_lists_total_and_rows_agree_while_blocks_are_committed(store: &SqlStore) {
    const BLOCKS: u64 = 300;
    let writes = async {
        for n in 1..=BLOCKS {
            let version = u32::try_from(n).expect("small");
            store
                .apply_block(&block(n, vec![granted(version, 1)]))
                .await
                .expect("apply a block");
        }
    };
    let reads = async {
        let mut reads = 0;
        loop {
            let page = store
                .consent_changes(&PATIENT, None, None, 1_000)
                .await
                .expect("read the consent history");
            reads += 1;
            assert_eq!(
                page.rows.len() as u64,
                page.total,
                "read {reads}: the rows and the total disagree"
            );
            if page.total == BLOCKS {
                return reads;
            }
        }
    };
    let ((), reads) = tokio::join!(writes, reads);
    assert!(reads > 1, "the reads ran while the blocks were committed");
}

/// A read dropped midway (its client gone) leaves no read connection in an old snapshot:
/// every read after it sees what was committed since.
async fn a_read_dropped_midway_leaves_no_connection_in_an_old_snapshot(store: &SqlStore) {
    use std::future::{Future, poll_fn};
    use std::task::Poll;

    // Sixteen reads one after another: four rounds of the store's four read connections,
    // which are handed out in turn.
    let reads = || async {
        let mut seen = Vec::new();
        for _ in 0..16 {
            let events = store
                .patient_event_count(&PATIENT)
                .await
                .expect("count the patient's events");
            let page = store
                .consent_changes(&PATIENT, None, None, 10)
                .await
                .expect("read the consent history");
            seen.push((events, page.total));
        }
        seen
    };
    // given: a block, and every read connection open
    store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply a block");
    let read = || store.consent_changes(&PATIENT, None, None, 10);
    let opened = tokio::join!(read(), read(), read(), read());
    for page in [opened.0, opened.1, opened.2, opened.3] {
        assert_eq!(page.expect("read the consent history").total, 1);
    }
    // when: reads are dropped after one to eight polls, the database and the runtime's I/O
    // getting a few microseconds between polls, so that some are dropped while the database
    // begins their snapshot; the last ones after one poll, so that each connection's last
    // read is dropped right after its BEGIN went out
    for i in 0..3_000u64 {
        let mut read = std::pin::pin!(read());
        let polls = if i >= 2_992 { 1 } else { 1 + i % 8 };
        for _ in 0..polls {
            let polled = poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx).is_ready())).await;
            if polled {
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(i % 61 * 3));
            tokio::task::yield_now().await;
        }
    }
    // then: every connection reads (one left in a snapshot would still answer from block 1
    // after the next commit), and after another commit every read sees it
    assert_eq!(reads().await, vec![(1, 1); 16]);
    store
        .apply_block(&block(2, vec![granted(2, 1)]))
        .await
        .expect("apply a block");
    assert_eq!(
        reads().await,
        vec![(2, 2); 16],
        "some read answered from an old snapshot"
    );
}
