use std::future::Future;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::schema::MedledgerSchema;

async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn graphql(State(schema): State<MedledgerSchema>, req: GraphQLRequest) -> GraphQLResponse {
    schema.execute(req.into_inner()).await.into()
}

async fn healthz() -> &'static str {
    "ok"
}

/// The HTTP routes: `GET /graphql` (GraphiQL), `POST /graphql`, `GET /healthz`.
pub fn router(schema: MedledgerSchema) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(healthz))
        .with_state(schema)
}

/// Serves the API on `listener` until `shutdown` completes.
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    schema: MedledgerSchema,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(schema))
        .with_graceful_shutdown(shutdown)
        .await
}
