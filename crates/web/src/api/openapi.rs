//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and the
//! DTOs' `ToSchema` derives, served at `/api/openapi.json`. Its content depends on the code
//! only (no clock, no host name, no hash-map order), so the snapshot test is deterministic.

use crate::api::{department, divisions, dto, households};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "zhenxing API",
        version = "1.0.0",
        description = "The JSON API of zhenxing (振兴), the register of rural households of the bureau of rural revitalization. Authenticate with `Authorization: Bearer <token>` (tokens are issued per account by an administrator). Every answer is JSON; errors carry a machine-readable `error` code and the message in Chinese and English. ID and phone numbers are always masked. Records outside the account's division answer 404, like records that do not exist.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        divisions::me,
        divisions::division,
        households::list,
        households::detail,
        households::patch,
        department::upload,
        department::list,
    ),
    components(schemas(dto::ApiError, dto::HouseholdTypeCode, dto::MonitoringCategoryCode)),
    modifiers(&BearerToken),
    security(("bearer" = [])),
    tags(
        (name = "accounts", description = "The account behind the request"),
        (name = "registry", description = "Divisions and households, within the account's scope"),
        (name = "department", description = "Other departments' files, screened against the registry"),
    ),
)]
pub struct ApiDoc;

/// The bearer token scheme the whole API is secured by.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token of an account (`zx_` and 64 hexadecimal characters), issued by an administrator.",
                    ))
                    .build(),
            ),
        );
    }
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
});

/// `GET /api/openapi.json`: the document, for anyone (it holds no data).
pub async fn document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}
