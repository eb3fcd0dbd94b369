//! The account behind a request, and the division tree with its figures.

use crate::AppState;
use crate::api::dto::{ApiError, ChildDivisionInfo, DivisionDetail, DivisionInfo, Figures, Me};
use crate::api::path_rejection;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::scope::scoped_division;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::{Extension, Json};

/// The account behind the request.
///
/// Its name, role, division and language. Any signed-in account may ask.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    operation_id = "me",
    responses(
        (status = 200, description = "The account", body = Me),
        (status = 401, description = "No valid token or session", body = ApiError),
    ),
)]
pub async fn me(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> AppResult<Json<Me>> {
    let account = viewer.account()?;
    let division = state.db.division(&account.division).await?;
    Ok(Json(Me::of(&viewer, account, division.as_ref())))
}

/// A division with its figures and its children.
///
/// The division's registry figures, and its children (counties, townships or villages) with
/// their counts. A division outside the account's scope answers 404, exactly like a code that
/// does not exist.
#[utoipa::path(
    get,
    path = "/api/v1/divisions/{code}",
    tag = "registry",
    operation_id = "get_division",
    params(("code" = String, Path, description = "12-digit statistical division code", example = "500229000000")),
    responses(
        (status = 200, description = "The division", body = DivisionDetail),
        (status = 401, description = "No valid token or session", body = ApiError),
        (status = 403, description = "The role may not read the registry", body = ApiError),
        (status = 404, description = "No such division within the account's scope", body = ApiError),
    ),
)]
pub async fn division(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    code: Result<Path<String>, PathRejection>,
) -> AppResult<Json<DivisionDetail>> {
    viewer.account()?;
    let Path(code) = code.map_err(path_rejection)?;
    let code = scoped_division(&viewer, &code)?;
    let Some(division) = state.db.division(&code).await? else {
        return Err(AppError::NotFound);
    };
    let stats = state.db.stats(Some(&code)).await?;
    let children = state.db.child_divisions(&code).await?;
    Ok(Json(DivisionDetail {
        division: DivisionInfo::of(&division),
        figures: Figures::of(&stats),
        children: children.iter().map(ChildDivisionInfo::of).collect(),
    }))
}
