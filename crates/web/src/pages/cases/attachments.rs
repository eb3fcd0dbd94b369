//! A case's attachments: upload and download.

use super::*;

pub async fn upload(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    use crate::upload::{UploadError, small_bytes, small_text};
    let account = viewer.may(Action::WorkCases)?;
    let id = parse_id(&id)?;
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut checked = false;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| UploadError::from(e).into_app_error())?;
        let Some(mut field) = field else { break };
        match field.name().unwrap_or("") {
            "csrf" => {
                csrf = small_text(&mut field, 200)
                    .await
                    .map_err(UploadError::into_app_error)?;
                viewer.check_csrf(&csrf)?;
                checked = true;
            }
            "file" if checked => {
                let name = field.file_name().unwrap_or("").to_owned();
                // One more byte than allowed tells a file that is too large from one that fits.
                let bytes = small_bytes(&mut field, zhenxing_store::files::MAX_FILE_BYTES + 1)
                    .await
                    .map_err(UploadError::into_app_error)?;
                file = Some((name, bytes));
            }
            _ => crate::upload::skip(&mut field)
                .await
                .map_err(UploadError::into_app_error)?,
        }
    }
    viewer.check_csrf(&csrf)?;
    let Some((name, bytes)) = file else {
        return detail_page(
            &state,
            &viewer,
            id,
            vec![
                Text::new("请选择要上传的文件", "choose a file to upload")
                    .get(viewer.lang)
                    .to_owned(),
            ],
            Kept::default(),
        )
        .await;
    };
    match procedures::attach(&state.db, account, id, &name, &bytes)
        .await?
        .or_refused()?
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(why) => {
            detail_page(
                &state,
                &viewer,
                id,
                vec![why.get(viewer.lang).to_owned()],
                Kept::default(),
            )
            .await
        }
    }
}

pub async fn download(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path((id, file)): Path<(String, String)>,
) -> AppResult<Response> {
    let account = viewer.may(Action::ReadCases)?;
    let (id, file) = (parse_id(&id)?, parse_id(&file)?);
    let (name, content_type, bytes) = procedures::attachment(&state.db, &account.scope(), id, file)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::pages::send_attachment(&name, &content_type, bytes))
}
