//! The schema as tools see it: the checked-in SDL, and the introspection query that
//! GraphiQL, codegen and client libraries send, which the limits must let through while
//! refusing deeper nesting.

use std::path::Path;

use medledger_graphql::build_schema;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_checked_in_sdl_matches_the_schema() {
    let s = seeded().await;
    let sdl = build_schema(s.store.clone()).sdl();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != sdl {
        let fresh = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema.graphql");
        std::fs::write(&fresh, &sdl).expect("write the fresh SDL");
        panic!(
            "graphql/schema.graphql is out of date: the schema's SDL is in {}; \
             copy it over graphql/schema.graphql and commit it",
            fresh.display()
        );
    }
}

async fn introspect(file: &str) -> Value {
    let s = seeded().await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    let query = std::fs::read_to_string(&path).expect("the introspection query");
    run(&s.store, &query).await
}

#[tokio::test]
async fn graphql_js_introspection_queries_pass_the_limits() {
    for file in ["introspection.graphql", "introspection-all-options.graphql"] {
        let v = introspect(file).await;
        assert_eq!(v["errors"], Value::Null, "{file}: {v}");
        let types = v["data"]["__schema"]["types"].as_array().map(Vec::len);
        assert!(types > Some(20), "{file}: the schema's types: {v}");
    }
}

#[tokio::test]
async fn queries_nested_deeper_than_any_tool_needs_are_refused() {
    let s = seeded().await;
    // __schema > types > fields > type > 20 × ofType > name
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(20),
        "} ".repeat(20)
    );
    let v = run(&s.store, &deep).await;
    assert!(error(&v).contains("nested too deep"), "{v}");
}
