//! The store conformance suite: what every `Store` implementation must do. Each test gets a
//! fresh, migrated database.

use std::sync::Arc;

use medledger_store::{
    AccountId, BlockChanges, ChainEvent, Hash32, IndexedEvent, SqliteStore, Store,
};

struct Fixture {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("medledger.db");
    let store = SqliteStore::open(&format!("sqlite:{}", path.display()))
        .await
        .expect("open a fresh sqlite store");
    Fixture {
        store: Arc::new(store),
        _dir: dir,
    }
}

const CONTRACT: AccountId = AccountId([9; 32]);
const PATIENT: AccountId = AccountId([1; 32]);
const PROVIDER: AccountId = AccountId([2; 32]);

fn block(number: u64, events: Vec<ChainEvent>) -> BlockChanges {
    BlockChanges {
        number,
        hash: Hash32([number as u8; 32]),
        timestamp_ms: 1_700_000_000_000 + number * 1_000,
        events: events
            .into_iter()
            .enumerate()
            .map(|(i, event)| IndexedEvent {
                index: i as u32 + 1,
                contract: CONTRACT,
                event,
            })
            .collect(),
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

#[tokio::test]
async fn a_fresh_store_has_no_cursor_and_no_rows() {
    let f = sqlite().await;
    assert_eq!(f.store.cursor().await.expect("cursor"), None);
    assert!(
        f.store
            .consents_of_patient(&PATIENT)
            .await
            .expect("consents")
            .is_empty()
    );
    let status = f.store.status().await.expect("status");
    assert_eq!(status.cursor, None);
}

#[tokio::test]
async fn a_grant_becomes_the_current_consent_and_a_revoke_marks_it() {
    // given
    let f = sqlite().await;
    let org = ChainEvent::OrgRegistered {
        org: PROVIDER,
        role: "Provider",
        flags: 0,
    };
    // when
    assert!(
        f.store
            .apply_block(&block(3, vec![org, granted(1, 0b1_0000)]))
            .await
            .expect("apply")
    );
    // then
    let consents = f
        .store
        .consents_of_patient(&PATIENT)
        .await
        .expect("consents");
    assert_eq!(consents.len(), 1);
    let c = &consents[0];
    assert_eq!(
        (c.grantee, c.categories, c.version, c.revoked),
        (PROVIDER, 0b1_0000, 1, false)
    );
    assert_eq!(c.updated_block, 3);
    assert_eq!(c.expires_at, Some(2_000_000_000_000));
    let org = f
        .store
        .organization(&PROVIDER)
        .await
        .expect("org")
        .expect("registered");
    assert_eq!(org.role, "Provider");

    // when: a new grant replaces it, then it is revoked
    f.store
        .apply_block(&block(5, vec![granted(2, 0b10_0000)]))
        .await
        .expect("apply");
    let revoke = ChainEvent::ConsentRevoked {
        patient: PATIENT,
        grantee: PROVIDER,
        version: 2,
        by: PATIENT,
    };
    f.store
        .apply_block(&block(6, vec![revoke]))
        .await
        .expect("apply");
    // then
    let consents = f
        .store
        .consents_of_patient(&PATIENT)
        .await
        .expect("consents");
    assert_eq!(consents.len(), 1, "one current consent per pair");
    let c = &consents[0];
    assert_eq!((c.categories, c.version, c.revoked), (0b10_0000, 2, true));
    assert_eq!(c.updated_block, 6);
    assert!(
        f.store
            .consents_of_patient(&PROVIDER)
            .await
            .expect("consents")
            .is_empty()
    );
}

#[tokio::test]
async fn a_replayed_block_changes_nothing() {
    // given
    let f = sqlite().await;
    let b = block(4, vec![granted(1, 1)]);
    assert!(f.store.apply_block(&b).await.expect("first apply"));
    // when: the same block, and an older one, arrive again (a restart after a crash)
    let replay = f.store.apply_block(&b).await.expect("replay");
    let older = f
        .store
        .apply_block(&block(2, vec![granted(9, 4)]))
        .await
        .expect("older");
    // then
    assert!(!replay && !older);
    let consents = f
        .store
        .consents_of_patient(&PATIENT)
        .await
        .expect("consents");
    assert_eq!((consents[0].version, consents[0].categories), (1, 1));
    assert_eq!(
        f.store.cursor().await.expect("cursor").map(|c| c.number),
        Some(4)
    );
}

#[tokio::test]
async fn the_cursor_follows_empty_blocks_too() {
    let f = sqlite().await;
    f.store.apply_block(&block(1, vec![])).await.expect("apply");
    f.store.apply_block(&block(2, vec![])).await.expect("apply");
    let cursor = f.store.cursor().await.expect("cursor").expect("set");
    assert_eq!((cursor.number, cursor.hash), (2, Hash32([2; 32])));
    f.store.set_finalized_head(10).await.expect("head");
    let status = f.store.status().await.expect("status");
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

#[tokio::test]
async fn an_anchored_commitment_can_be_looked_up() {
    let f = sqlite().await;
    let commitment = Hash32([0xc1; 32]);
    f.store
        .apply_block(&block(
            8,
            vec![anchored(PROVIDER, Hash32([0xaa; 32]), commitment)],
        ))
        .await
        .expect("apply");
    let rows = f.store.record_versions(&commitment).await.expect("lookup");
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
        f.store
            .record_versions(&Hash32([0; 32]))
            .await
            .expect("lookup")
            .is_empty()
    );
}

#[tokio::test]
async fn the_same_record_id_and_commitment_under_two_custodians_are_two_anchors() {
    // a copier anchoring someone's commitment lands in its own key space
    let f = sqlite().await;
    let (record, commitment) = (Hash32([0xaa; 32]), Hash32([0xc1; 32]));
    f.store
        .apply_block(&block(1, vec![anchored(PATIENT, record, commitment)]))
        .await
        .expect("apply the copy");
    f.store
        .apply_block(&block(2, vec![anchored(PROVIDER, record, commitment)]))
        .await
        .expect("apply the honest anchor");
    let custodians: Vec<_> = f
        .store
        .record_versions(&commitment)
        .await
        .expect("lookup")
        .into_iter()
        .map(|r| (r.custodian, r.block_number))
        .collect();
    assert_eq!(custodians, [(PATIENT, 1), (PROVIDER, 2)]);
}

#[tokio::test]
async fn a_block_that_fails_midway_leaves_nothing_behind() {
    // given: a store with block 1 applied
    let f = sqlite().await;
    f.store
        .apply_block(&block(1, vec![granted(1, 1)]))
        .await
        .expect("apply");
    // when: block 2 carries two events with the same index (the second insert fails)
    let mut bad = block(2, vec![granted(2, 2), granted(3, 3)]);
    bad.events[1].index = bad.events[0].index;
    let result = f.store.apply_block(&bad).await;
    // then: the error is reported and neither rows nor cursor moved
    assert!(result.is_err());
    let consents = f
        .store
        .consents_of_patient(&PATIENT)
        .await
        .expect("consents");
    assert_eq!(consents[0].version, 1);
    assert_eq!(
        f.store.cursor().await.expect("cursor").map(|c| c.number),
        Some(1)
    );
}

#[tokio::test]
async fn a_postgres_url_is_refused_with_a_clear_message() {
    let err = medledger_store::open("postgres://localhost/x")
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("PostgreSQL is not supported yet"),
        "{err}"
    );
}

#[tokio::test]
async fn suspension_and_reinstatement_update_the_organization() {
    let f = sqlite().await;
    let registered = ChainEvent::OrgRegistered {
        org: PROVIDER,
        role: "Provider",
        flags: 0,
    };
    f.store
        .apply_block(&block(1, vec![registered]))
        .await
        .expect("apply");
    f.store
        .apply_block(&block(2, vec![ChainEvent::OrgSuspended { org: PROVIDER }]))
        .await
        .expect("apply");
    let org = f
        .store
        .organization(&PROVIDER)
        .await
        .expect("read")
        .expect("registered");
    assert!(!org.active);
    f.store
        .apply_block(&block(3, vec![ChainEvent::OrgReinstated { org: PROVIDER }]))
        .await
        .expect("apply");
    let org = f
        .store
        .organization(&PROVIDER)
        .await
        .expect("read")
        .expect("registered");
    assert!(org.active);
}

#[tokio::test]
async fn an_amendment_adds_a_version_and_supersedes_the_previous_one() {
    let f = sqlite().await;
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
    f.store
        .apply_block(&block(
            1,
            vec![
                anchored(PROVIDER, record, v1),
                anchored(PATIENT, record, v1),
            ],
        ))
        .await
        .expect("apply");
    f.store
        .apply_block(&block(2, vec![amended]))
        .await
        .expect("apply");
    let v1_rows = f.store.record_versions(&v1).await.expect("read");
    let mut superseded: Vec<_> = v1_rows
        .iter()
        .map(|r| (r.custodian, r.superseded_by))
        .collect();
    superseded.sort_by_key(|(custodian, _)| custodian.0);
    assert_eq!(superseded, [(PATIENT, None), (PROVIDER, Some(v2))]);
    let new = f.store.record_versions(&v2).await.expect("read");
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
