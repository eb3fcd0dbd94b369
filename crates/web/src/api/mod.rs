//! The JSON API under `/api/v1`, for API clients (bearer tokens) and the browser (session
//! cookie, read-only). Described by the OpenAPI document at `/api/openapi.json`, generated
//! from these handlers and snapshot-tested.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
