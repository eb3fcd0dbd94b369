use anyhow::Result;
use std::process::ExitCode;
use zhenxing_core::{DivisionCode, Lang};
use zhenxing_store::Db;

pub async fn run(
    db: &Db,
    lang: Lang,
    scope: Option<&DivisionCode>,
    json: bool,
) -> Result<ExitCode> {
    if let Some(code) = scope
        && db.division(code).await?.is_none()
    {
        let c = code.as_str();
        return Err(anyhow::Error::new(zhenxing_core::text!(
            "区划{c}不在登记库中",
            "division {c} is not in the registry"
        )));
    }
    let s = db.stats(scope).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{}", s.division);
    for (zh, en, v) in s.labelled() {
        let label = if lang == Lang::Zh { zh } else { en };
        outln!("{label:<24} {v:>12}");
    }
    Ok(ExitCode::SUCCESS)
}
