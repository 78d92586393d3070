//! The patient's web page, embedded in the binary and served at `/` beside `/graphql`.
//!
//! The page itself is TypeScript in `web/page`, built into `web/dist` by `cargo xtask web`
//! (npm and esbuild; `cargo xtask dev` and `cargo xtask test` run it). The build is embedded
//! when this crate compiles, in debug builds too (`debug-embed`), and a new build of the page
//! compiles it again (build.rs); without one the crate still compiles and `/` says how to
//! build the page. `/config.json` tells the page where the chain and the contracts are, from the
//! deployment the server was started with: nothing about a chain is hard-coded in the page.
//!
//! This crate serves files and that one document; it must not talk to the chain or the
//! store.

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

#[derive(rust_embed::Embed)]
#[folder = "dist/"]
#[allow_missing = true]
struct Dist;

/// Where the page finds the chain: what `/config.json` holds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageConfig {
    /// The node's WebSocket URL, as the browser reaches it.
    pub node_url: String,
    /// The GraphQL endpoint, relative to the page.
    pub graphql: String,
    pub consent_registry: ContractConfig,
    pub record_registry: ContractConfig,
}

/// One contract: its address and its ink! metadata (the `.contract` bundle without the code).
#[derive(Debug, Clone, Serialize)]
pub struct ContractConfig {
    pub address: String,
    pub metadata: serde_json::Value,
}

/// The page's routes: `/` and its files, and `/config.json` when `config` is given (a server
/// started without a deployment serves the page, which then says what is missing).
pub fn router(config: Option<PageConfig>) -> Router {
    // Serialized once; each request shares the bytes (they carry both contracts' metadata).
    let config =
        config.map(|c| axum::body::Bytes::from(serde_json::to_string(&c).unwrap_or_default()));
    Router::new()
        .route(
            "/config.json",
            get(move || {
                let config = config.clone();
                async move {
                    match config {
                        Some(json) => {
                            ([(header::CONTENT_TYPE, "application/json")], json).into_response()
                        }
                        None => (
                            StatusCode::NOT_FOUND,
                            "this server was started without a deployment: start it with \
                             `medledger serve --deployment FILE` (or `medledger dev`)\n",
                        )
                            .into_response(),
                    }
                }
            }),
        )
        .fallback(get(file))
}

async fn file(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Dist::get(path) {
        Some(content) => (
            [(
                header::CONTENT_TYPE,
                content.metadata.mimetype().to_string(),
            )],
            content.data,
        )
            .into_response(),
        None if path == "index.html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// `/` when the binary was compiled without the page.
const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>medledger</title></head><body><h1>The page was not built into this binary</h1>\
<p>Build it with <code>cargo xtask web</code> (npm and esbuild), then build the binary \
again. The GraphQL API is at <a href=\"/graphql\">/graphql</a>.</p></body></html>";
