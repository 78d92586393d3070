use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::parser::parse_query;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse, GraphQLSubscription};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use lru::LruCache;
use medledger_store::Store;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::schema::MedledgerSchema;

/// Which browser origins may call the API (CORS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// None but the page's own origin (no CORS headers): the default.
    #[default]
    SameOrigin,
    /// Any origin (`*`): the API is read-only and public.
    Any,
    /// These origins, e.g. `https://portal.example.org`.
    Origins(Vec<HeaderValue>),
}

impl Cors {
    /// From `--cors-origin` values: none, `*`, or origins (`scheme://host[:port]`).
    ///
    /// # Errors
    /// One line naming the value that is not an origin.
    pub fn parse(values: &[String]) -> Result<Cors, String> {
        if values.is_empty() {
            return Ok(Cors::SameOrigin);
        }
        if values.iter().any(|v| v == "*") {
            return Ok(Cors::Any);
        }
        values
            .iter()
            .map(|v| {
                let origin = v.trim_end_matches('/');
                let well_formed = (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin["https://".len().min(origin.len())..].contains('/');
                if !well_formed {
                    return Err(format!(
                        "--cors-origin {v:?} is not an origin like https://app.example.org"
                    ));
                }
                HeaderValue::from_str(origin)
                    .map_err(|_| format!("--cors-origin {v:?} is not an origin"))
            })
            .collect::<Result<_, _>>()
            .map(Cors::Origins)
    }
}

/// How the HTTP server guards itself.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The largest request body read, in bytes; a larger one is answered 413 unread.
    pub max_body_bytes: usize,
    /// A request not answered within this is answered 408.
    pub timeout: Duration,
    pub cors: Cors,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_body_bytes: 64 * 1024,
            timeout: Duration::from_secs(10),
            cors: Cors::SameOrigin,
        }
    }
}

/// GraphiQL's page. Its code and style (`/graphiql.js`, `/graphiql.css`) are built into the
/// binary with the patient's page (`medledger-web`): nothing is loaded from anywhere else,
/// so it works offline and sends no visitor to a third party.
async fn graphiql() -> impl IntoResponse {
    Html(GRAPHIQL)
}

const GRAPHIQL: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>medledger GraphQL API</title><link rel=\"stylesheet\" href=\"/graphiql.css\">\
<style>html,body,#graphiql{height:100%;margin:0}</style></head><body>\
<div id=\"graphiql\"><noscript>GraphiQL needs JavaScript. The API answers POST requests at \
this address.</noscript></div><script src=\"/graphiql.js\"></script></body></html>";

/// How many parsed documents a server keeps.
const DOCUMENTS: NonZeroUsize = NonZeroUsize::new(256).expect("not zero");

/// The longest document kept: longer than any app's (graphql-js's introspection query is
/// under 2 KiB), far shorter than the body limit.
const DOCUMENT_BYTES: usize = 16 * 1024;

/// Parsed documents by their text. Apps send a few documents over and over with different
/// variables; each is parsed once (validation still runs for every request, against its
/// variables). Only a document answered without errors is kept: it passed the depth and
/// complexity limits, which bound what keeping it costs.
#[derive(Clone)]
struct Documents(Arc<Mutex<LruCache<String, Arc<ExecutableDocument>>>>);

impl Documents {
    fn new() -> Self {
        Documents(Arc::new(Mutex::new(LruCache::new(DOCUMENTS))))
    }

    fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        self.0.lock().ok()?.get(query).cloned()
    }

    fn keep(&self, query: String, document: Arc<ExecutableDocument>) {
        if let Ok(mut cache) = self.0.lock() {
            cache.put(query, document);
        }
    }
}

/// A request body that is no GraphQL request, answered as GraphQL errors are (JSON, one
/// sentence) rather than with the parser's debug output.
struct BadRequest(async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for BadRequest {
    fn from(e: async_graphql::ParseRequestError) -> Self {
        BadRequest(e)
    }
}

impl axum::response::IntoResponse for BadRequest {
    fn into_response(self) -> axum::response::Response {
        use async_graphql::ParseRequestError as E;
        let (status, message) = match self.0 {
            E::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is over the server's limit".to_string(),
            ),
            E::InvalidRequest(e) => (
                StatusCode::BAD_REQUEST,
                format!(
                    "the request body is not a GraphQL request ({e}): send JSON such as \
                     {{\"query\": \"{{ indexerStatus {{ healthy }} }}\"}}"
                ),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("the request is not a GraphQL request: {other}"),
            ),
        };
        let body = serde_json::json!({ "errors": [{ "message": message }] });
        (status, axum::Json(body)).into_response()
    }
}

async fn graphql(
    State((schema, documents)): State<(MedledgerSchema, Documents)>,
    req: GraphQLRequest<BadRequest>,
) -> GraphQLResponse {
    let mut request = req.into_inner();
    if let Some(document) = documents.get(&request.query) {
        request.set_parsed_query(ExecutableDocument::clone(&document));
        return schema.execute(request).await.into();
    }
    // Parsed here when it may be kept; a document that does not parse is left to `execute`,
    // which answers with the error.
    let parsed = (request.query.len() <= DOCUMENT_BYTES)
        .then(|| parse_query(&request.query).ok())
        .flatten()
        .map(Arc::new);
    let query = parsed.as_ref().map(|document| {
        request.set_parsed_query(ExecutableDocument::clone(document));
        request.query.clone()
    });
    let response = schema.execute(request).await;
    if let (Some(document), Some(query)) = (parsed, query)
        && response.is_ok()
    {
        documents.keep(query, document);
    }
    response.into()
}

async fn healthz() -> &'static str {
    "ok"
}

/// The HTTP routes: `GET /graphql` (GraphiQL), `POST /graphql`, subscriptions over WebSocket
/// at `/graphql/ws` (`graphql-transport-ws`, and the older `graphql-ws`), `GET /healthz`,
/// with the body limit, the timeout and CORS of `options`.
pub fn router(store: Arc<dyn Store>, options: &HttpOptions) -> Router {
    let schema = crate::schema::build_schema(store.clone());
    let cors = match &options.cors {
        Cors::SameOrigin => None,
        Cors::Any => Some(AllowOrigin::any()),
        Cors::Origins(list) => Some(AllowOrigin::list(list.clone())),
    }
    .map(|origins| {
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(Duration::from_secs(3600))
    });
    let router = Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route_service("/graphql/ws", GraphQLSubscription::new(schema.clone()))
        .route("/healthz", get(healthz))
        .with_state((schema, Documents::new()))
        .merge(
            Router::new()
                .route("/cds-services", get(crate::cds::discovery))
                .route(
                    &format!("/cds-services/{}", crate::cds::HOOK),
                    axum::routing::post(crate::cds::consult),
                )
                .with_state(store),
        )
        .layer(RequestBodyLimitLayer::new(options.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.timeout,
        ));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Serves the API on `listener` until `shutdown` completes.
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    options: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store, &options))
        .with_graceful_shutdown(shutdown)
        .await
}
