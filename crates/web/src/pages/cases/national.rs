//! The month's completed identifications and risk eliminations in the national monitoring
//! system's columns, for upload (录入建档): `GET /cases/national?month=YYYY-MM&division=CODE`,
//! an XLSX of the viewer's division (or a division inside it). It holds heads' full ID numbers,
//! so it takes the registry export's permission and is audited (`national.export`).

use super::*;
use crate::extract::blank;
use crate::pages::download::{FileFormat, TempDownload};
use crate::pages::transfer::export_failed;
use crate::scope::scoped_division;
use zhenxing_app::export::{self, Exporter, Via};
use zhenxing_store::report_tables::requested_month;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalQuery {
    month: Option<String>,
    division: Option<String>,
}

pub async fn national_file(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Params(query): Params<NationalQuery>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ExportRegistry)?.clone();
    let division = match blank(&query.division) {
        Some(code) => scoped_division(&viewer, code)?,
        None => account.division,
    };
    let month =
        requested_month(blank(&query.month), today_in_china()).map_err(AppError::BadRequest)?;
    let file = TempDownload::create(
        format!("national-{}-{month}.xlsx", division.as_str()),
        FileFormat::Xlsx,
    )?;
    let exporter = Exporter {
        actor: &account.name,
        via: Via::Web {
            client: &viewer.client,
        },
    };
    let cases = export::national(
        &state.db,
        exporter,
        &division,
        month,
        file.path(),
        file.file_name(),
    )
    .await
    .map_err(export_failed)?;
    let response = file.send().await?;
    tracing::info!(account = account.id, cases, "national upload file exported");
    Ok(response)
}
