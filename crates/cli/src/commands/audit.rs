use anyhow::Result;
use std::process::ExitCode;
use zhenxing_core::Lang;
use zhenxing_store::{Db, audit};

pub async fn verify(db: &Db, lang: Lang) -> Result<ExitCode> {
    let report = audit::verify(db).await?;
    for problem in &report.problems {
        outln!("{}", problem.text().get(lang));
    }
    let (n, last) = (report.records, report.last_seq);
    if report.problems.is_empty() {
        outln!(
            "{}",
            match lang {
                Lang::Zh => format!("审计记录{n}条，哈希链完整（最后一条序号{last}）"),
                Lang::En =>
                    format!("{n} audit records, the hash chain is intact (last record {last})"),
            }
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}
