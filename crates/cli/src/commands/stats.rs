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
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: [(&str, &str, i64); 14] = [
        ("区县", "counties", s.counties),
        (
            "其中脱贫区县",
            "former poverty counties",
            s.former_poverty_counties,
        ),
        ("乡镇（街道）", "townships", s.townships),
        ("村", "villages", s.villages),
        ("社区", "communities", s.communities),
        (
            "其中脱贫村",
            "former poverty villages",
            s.former_poverty_villages,
        ),
        ("户", "households", s.households),
        ("人", "members", s.members),
        ("脱贫户", "lifted-out households", s.lifted_out_households),
        ("脱贫人口", "lifted-out members", s.lifted_out_members),
        ("一般农户", "ordinary households", s.ordinary_households),
        ("一般农户人口", "ordinary members", s.ordinary_members),
        ("监测户", "monitored households", s.monitored_households),
        ("监测人口", "monitored members", s.monitored_members),
    ];
    println!("{}", s.division);
    for (zh, en, v) in rows {
        let label = if lang == Lang::Zh { zh } else { en };
        println!("{label:<24} {v:>12}");
    }
    Ok(ExitCode::SUCCESS)
}
