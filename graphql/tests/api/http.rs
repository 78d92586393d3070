//! The running server: routes, the body limit, the timeout, CORS, and store failures.

use std::sync::Arc;
use std::time::Duration;

use medledger_graphql::{Cors, HttpOptions};
use medledger_store::{
    AccessRow, AccountId, BatchRow, ClaimRow, ConsentChange, ConsentRow, ContractRow, Cursor,
    DelegationRow, DuplicateUseRow, EmergencyBlockRow, EmergencyWindow, EventKey, Hash32,
    IndexerStatus, Mirror, OrganizationRow, Page, PatientHistory, PreparedBlock, RecordRow,
    RecordVersionRow, Store, StoreError, StoredEvent, Upto,
};
use serde_json::{Value, json};

use crate::helpers::*;

fn consents_query() -> Value {
    json!({"query": format!(r#"{{ consents(patient: "{PATIENT}") {{ nodes {{ version }} }} }}"#)})
}

#[tokio::test]
async fn http_serves_queries_graphiql_and_health() {
    let s = seeded().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let http = reqwest::Client::new();

    let answer = app.post(&consents_query()).await;
    assert_eq!(answer["data"]["consents"]["nodes"], json!([{"version": 1}]));

    let page = http
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .expect("get");
    assert!(page.status().is_success());
    assert!(page.text().await.expect("body").contains("graphiql"));
    let health = http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.text().await.expect("body"), "ok");
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_is_no_graphql_request_is_one_clear_json_error() {
    let s = seeded().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let http = reqwest::Client::new();
    for body in ["hello", "{\"query\": 1}", ""] {
        let answer = http
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), 400, "{body:?}");
        let json: Value = answer.json().await.expect("a JSON answer");
        let message = json["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("the request body is not a GraphQL request")
                && message.contains("send JSON such as")
                && !message.contains('\n'),
            "{body:?}: {json}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn one_document_sent_again_answers_each_request_by_its_own_variables() {
    // Apps send one document over and over with other variables; the server parses it once.
    let s = seeded().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let document = "query Consents($patient: AccountId!) { consents(patient: $patient) { nodes { version } } }";
    let ask = |variables: Value| {
        let app = &app;
        async move {
            app.post(&json!({ "query": document, "variables": variables }))
                .await
        }
    };
    let versions = |answer: &Value| answer["data"]["consents"]["nodes"].clone();
    assert_eq!(
        versions(&ask(json!({"patient": PATIENT.to_string()})).await),
        json!([{"version": 1}])
    );
    assert_eq!(
        versions(&ask(json!({"patient": LAB.to_string()})).await),
        json!([])
    );
    let bad = ask(json!({"patient": "not an account"})).await;
    assert!(bad["data"].is_null(), "{bad}");
    assert!(
        error(&bad).contains("\"not an account\" is not an SS58 address"),
        "{bad}"
    );
    assert_eq!(
        versions(&ask(json!({"patient": PATIENT.to_string()})).await),
        json!([{"version": 1}])
    );
    // and a document that does not parse is refused every time
    for _ in 0..2 {
        let answer = app.post(&json!({ "query": "{ consents(patient: " })).await;
        assert!(error(&answer).contains("expected"), "{answer}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread_and_the_server_goes_on() {
    let s = seeded().await;
    let app = spawn_app(s.store.clone(), HttpOptions::default()).await;
    let http = reqwest::Client::new();
    // A 20 MiB query: a comment that a parser would have to read to the end.
    let huge = json!({"query": format!("{{ __typename }} #{}", "x".repeat(20 << 20))});
    let refused = http
        .post(format!("{}/graphql", app.base))
        .json(&huge)
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    let fine = http
        .post(format!("{}/graphql", app.base))
        .json(&consents_query())
        .send()
        .await
        .expect("post");
    assert!(fine.status().is_success());
    app.stop().await;
}

async fn preflight(app: &App, origin: &str) -> Option<String> {
    let answer = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("preflight");
    answer
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

#[tokio::test]
async fn browser_origins_are_let_in_only_as_configured() {
    let s = seeded().await;
    let portal = "https://portal.example.org";
    let cors = Cors::parse(&[portal.to_string()]).expect("an origin");
    let app = spawn_app(
        s.store.clone(),
        HttpOptions {
            cors,
            ..HttpOptions::default()
        },
    )
    .await;
    assert_eq!(preflight(&app, portal).await.as_deref(), Some(portal));
    assert_eq!(preflight(&app, "https://evil.example.com").await, None);
    app.stop().await;

    let closed = spawn_app(s.store.clone(), HttpOptions::default()).await;
    assert_eq!(preflight(&closed, portal).await, None, "no CORS by default");
    closed.stop().await;

    let any = Cors::parse(&["*".to_string()]).expect("any");
    assert_eq!(any, Cors::Any);
    let bad = Cors::parse(&["portal.example.org/path".to_string()]).expect_err("not an origin");
    assert!(bad.contains("is not an origin"), "{bad}");
}

/// A store that fails every read with a cause clients must not see, or never answers.
enum Broken {
    Failing,
    Hanging,
}

impl Broken {
    async fn fail<T>(&self) -> Result<T, StoreError> {
        if let Broken::Hanging = self {
            std::future::pending::<()>().await;
        }
        Err(StoreError::Corrupt(
            "table consents: disk /dev/sdb3 failed".into(),
        ))
    }
}

#[async_trait::async_trait]
impl Store for Broken {
    async fn cursor(&self) -> Result<Option<Cursor>, StoreError> {
        self.fail().await
    }
    async fn check_mirror(&self, _: &Mirror) -> Result<(), StoreError> {
        self.fail().await
    }
    async fn apply_prepared(&self, _: Vec<PreparedBlock>) -> Result<usize, StoreError> {
        self.fail().await
    }
    async fn set_finalized_head(&self, _: u64) -> Result<(), StoreError> {
        self.fail().await
    }
    async fn consents_of_patient(&self, _: &AccountId) -> Result<Vec<ConsentRow>, StoreError> {
        self.fail().await
    }
    async fn record_versions(&self, _: &Hash32) -> Result<Vec<RecordVersionRow>, StoreError> {
        self.fail().await
    }
    async fn organization(&self, _: &AccountId) -> Result<Option<OrganizationRow>, StoreError> {
        self.fail().await
    }
    async fn contracts(&self) -> Result<Vec<ContractRow>, StoreError> {
        self.fail().await
    }
    async fn history(
        &self,
        _: &AccountId,
        _: Option<&AccountId>,
        _: Upto,
    ) -> Result<PatientHistory, StoreError> {
        self.fail().await
    }
    async fn block_time(&self, _: u64) -> Result<Option<u64>, StoreError> {
        self.fail().await
    }
    async fn patient_events(
        &self,
        _: &AccountId,
        _: Option<EventKey>,
        _: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.fail().await
    }
    async fn patient_event_count(&self, _: &AccountId) -> Result<u64, StoreError> {
        self.fail().await
    }
    async fn patient_events_between(&self, _: u64, _: u64) -> Result<Vec<StoredEvent>, StoreError> {
        self.fail().await
    }
    async fn organizations(
        &self,
        _: Option<&str>,
        _: Option<&str>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<OrganizationRow>, StoreError> {
        self.fail().await
    }
    async fn consent_changes(
        &self,
        _: &AccountId,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<ConsentChange>, StoreError> {
        self.fail().await
    }
    async fn delegations(
        &self,
        _: Option<&AccountId>,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<DelegationRow>, StoreError> {
        self.fail().await
    }
    async fn emergency_windows(
        &self,
        _: Option<&AccountId>,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<EmergencyWindow>, StoreError> {
        self.fail().await
    }
    async fn emergency_blocks(
        &self,
        _: Option<&AccountId>,
        _: bool,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<EmergencyBlockRow>, StoreError> {
        self.fail().await
    }
    async fn access_log(
        &self,
        _: Option<&AccountId>,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<AccessRow>, StoreError> {
        self.fail().await
    }
    async fn records(
        &self,
        _: Option<&AccountId>,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<RecordRow>, StoreError> {
        self.fail().await
    }
    async fn record(
        &self,
        _: &AccountId,
        _: &Hash32,
    ) -> Result<Option<(RecordRow, Vec<RecordVersionRow>)>, StoreError> {
        self.fail().await
    }
    async fn claims(
        &self,
        _: Option<&AccountId>,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<ClaimRow>, StoreError> {
        self.fail().await
    }
    async fn claims_using(&self, _: &Hash32) -> Result<Vec<ClaimRow>, StoreError> {
        self.fail().await
    }
    async fn duplicate_claim_uses(
        &self,
        _: Option<&AccountId>,
        _: Option<&AccountId>,
        _: Option<&str>,
        _: usize,
    ) -> Result<Page<DuplicateUseRow>, StoreError> {
        self.fail().await
    }
    async fn batches_with_root(&self, _: &Hash32) -> Result<Vec<BatchRow>, StoreError> {
        self.fail().await
    }
    fn commits(&self) -> tokio::sync::broadcast::Receiver<u64> {
        tokio::sync::broadcast::channel(1).1
    }
    async fn status(&self) -> Result<IndexerStatus, StoreError> {
        self.fail().await
    }
}

#[tokio::test]
async fn a_store_failure_reaches_the_client_as_internal_error_only() {
    let app = spawn_app(Arc::new(Broken::Failing), HttpOptions::default()).await;
    let answer = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .json(&consents_query())
        .send()
        .await
        .expect("post");
    let text = answer.text().await.expect("body");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(error(&v), "internal error", "{v}");
    assert!(!text.contains("sdb3"), "the cause stays in the log: {text}");
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_answered_408() {
    let app = spawn_app(
        Arc::new(Broken::Hanging),
        HttpOptions {
            timeout: Duration::from_millis(300),
            ..HttpOptions::default()
        },
    )
    .await;
    let answer = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .json(&consents_query())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("an answer, not a hang");
    assert_eq!(answer.status(), reqwest::StatusCode::REQUEST_TIMEOUT);
    app.stop().await;
}
