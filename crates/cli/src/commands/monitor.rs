//! `zhenxing monitor …`: screening runs, what-if thresholds and rule sets.
//!
//! A thin caller of `zhenxing_app::monitoring` and its `pass`, which the web
//! application shares: a run is three timed steps there (load, evaluate, write); this module
//! draws the loading progress bar from the pass's progress reports and prints the outcome.

use crate::output::{progress, say};
use crate::{MonitorCommand, RulesCommand};
use anyhow::Result;
use indicatif::ProgressBar;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use zhenxing_app::monitoring::pass::{self, Change, Named, PassError, Phase, Progress};
use zhenxing_app::monitoring::{self, WhatIfReport, WhatIfRequest};
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::monitoring::CHONGQING;
use zhenxing_core::{DivisionCode, DivisionLevel, Fen, Lang};
use zhenxing_engine::WhatIfCounts;
use zhenxing_store::Db;
use zhenxing_store::monitoring::StoredRuleSet;

/// Checks the arguments before the database is opened.
pub fn check_arguments(cmd: &MonitorCommand) -> Result<()> {
    if let MonitorCommand::Whatif { threshold, .. } = cmd {
        parse_threshold(threshold)?;
    }
    Ok(())
}

fn parse_threshold(input: &str) -> Result<Fen> {
    pass::parse_threshold(input).map_err(anyhow::Error::new)
}

/// The pass's error as the CLI reports it: a reason in the reader's language, or the store's.
fn stopped(e: PassError) -> anyhow::Error {
    match e {
        PassError::Stopped(t) => anyhow::Error::new(t),
        PassError::Store(e) => anyhow::Error::new(e),
    }
}

pub async fn run(
    db: &Db,
    lang: Lang,
    cmd: MonitorCommand,
    scope: Option<&DivisionCode>,
) -> Result<ExitCode> {
    let actor = super::cli_actor();
    zhenxing_store::monitoring::ensure_builtin_rule_sets(db, &actor).await?;
    match cmd {
        MonitorCommand::Run { year, .. } => screen(db, lang, scope, year, &actor).await,
        MonitorCommand::Whatif {
            threshold,
            year,
            json,
            list,
            ..
        } => {
            let output = WhatIfOutput { json, list };
            whatif(db, lang, scope, year, parse_threshold(&threshold)?, output).await
        }
        MonitorCommand::Rules(RulesCommand::List { json }) => list(db, lang, json).await,
        MonitorCommand::Rules(RulesCommand::Add { file }) => add(db, lang, &file, &actor).await,
    }
}

fn rule_set_lines(lang: Lang, rs: &StoredRuleSet) -> Vec<String> {
    let mut lines = vec![format!(
        "{}{}",
        say(lang, "规则集：", "rule set: "),
        rs.rules.label().get(lang)
    )];
    if rs.rules.assumed {
        lines.push(say(
            lang,
            "注意：该规则集的数值为假定值（演示），并非省里公布的标准；请录入实际数值作为新版本。",
            "note: this rule set's values are assumptions (demo), not the province's published ones; enter the real values as a new version.",
        ));
        if let Some(note) = &rs.rules.note {
            lines.push(format!("  {}", note.get(lang)));
        }
    }
    lines
}

fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The loading progress bar, drawn from the pass's progress reports.
fn loading_bar(lang: Lang) -> ProgressBar {
    progress(0, &say(lang, "读取登记库", "loading"))
}

fn draw(bar: &ProgressBar, p: Progress) {
    match p.phase {
        Phase::Loading => {
            bar.set_length(p.total);
            bar.set_position(p.done);
        }
        Phase::Evaluating | Phase::Writing => bar.finish_and_clear(),
    }
}

async fn screen(
    db: &Db,
    lang: Lang,
    scope: Option<&DivisionCode>,
    year: Option<u16>,
    actor: &str,
) -> Result<ExitCode> {
    let rule_set = monitoring::rule_set_for(db, scope, year)
        .await
        .map_err(stopped)?;
    for line in rule_set_lines(lang, &rule_set) {
        outln!("{line}");
    }
    let bar = loading_bar(lang);
    let outcome = pass::screen(db, &rule_set, scope, actor, today_in_china(), &|p| {
        draw(&bar, p)
    })
    .await;
    bar.finish_and_clear();
    let outcome = outcome.map_err(stopped)?;
    let summary = &outcome.summary;
    let (n, o, u, c, same, settled) = (
        summary.evaluated,
        summary.opened,
        summary.updated,
        summary.closed,
        summary.unchanged,
        summary.settled,
    );
    let warned = outcome.warned;
    outln!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "筛查{n}户，其中{warned}户触发预警：新开预警{o}条，更新{u}条，关闭{c}条，未变{same}条，已核实或排除不再预警{settled}条"
            ),
            Lang::En => format!(
                "screened {n} households, {warned} raise a warning: {o} opened, {u} updated, {c} closed, {same} unchanged, {settled} already verified or dismissed"
            ),
        }
    );
    let (l, e, w) = (
        seconds(outcome.load_time),
        seconds(outcome.evaluate_time),
        seconds(outcome.write_time),
    );
    outln!(
        "{}",
        match lang {
            Lang::Zh => format!("用时：读取{l}，评估{e}，写入{w}"),
            Lang::En => format!("time: load {l}, evaluate {e}, write {w}"),
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn counts_json(c: &WhatIfCounts) -> serde_json::Map<String, Value> {
    let v = json!({
        "households_at_or_below_threshold": c.households,
        "members_at_or_below_threshold": c.members,
        "households_entering": c.households_entering,
        "members_entering": c.members_entering,
        "households_leaving": c.households_leaving,
        "members_leaving": c.members_leaving,
        "current_households_at_or_below_threshold": c.households_current,
        "current_members_at_or_below_threshold": c.members_current,
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// How what-if prints: JSON or text, with or without the list of households.
struct WhatIfOutput {
    json: bool,
    list: bool,
}

async fn whatif(
    db: &Db,
    lang: Lang,
    scope: Option<&DivisionCode>,
    year: Option<u16>,
    threshold: Fen,
    output: WhatIfOutput,
) -> Result<ExitCode> {
    let json_out = output.json;
    let rule_set = monitoring::rule_set_for(db, scope, year)
        .await
        .map_err(stopped)?;
    let mut levels = vec![DivisionLevel::County];
    if scope.is_some() {
        levels.extend([DivisionLevel::Township, DivisionLevel::Village]);
    }
    let request = WhatIfRequest {
        rule_set: &rule_set,
        scope,
        proposed: threshold,
        levels: &levels,
        changes: output.list,
    };
    let bar = loading_bar(lang);
    let report = monitoring::whatif(db, &request, &|p| draw(&bar, p)).await;
    bar.finish_and_clear();
    let report = report.map_err(stopped)?;
    let WhatIfReport {
        current,
        total,
        levels,
        changes,
        ..
    } = report;
    let named: Vec<(&'static str, Vec<Named>)> = levels
        .into_iter()
        .map(|(level, rows)| {
            let key = match level {
                DivisionLevel::Township => "by_township",
                DivisionLevel::Village => "by_village",
                _ => "by_county",
            };
            (key, rows)
        })
        .collect();
    let shown = WhatIfShown {
        rule_set: &rule_set,
        scope,
        threshold,
        current,
        total,
        named,
        changes,
    };
    if json_out {
        whatif_json(&shown, output.list)?;
    } else {
        whatif_text(lang, &shown, output.list);
    }
    Ok(ExitCode::SUCCESS)
}

/// A what-if's outcome, as printed.
struct WhatIfShown<'a> {
    rule_set: &'a StoredRuleSet,
    scope: Option<&'a DivisionCode>,
    threshold: Fen,
    current: Fen,
    total: WhatIfCounts,
    /// The JSON key of each level (`by_county` …) and its divisions.
    named: Vec<(&'static str, Vec<Named>)>,
    changes: Vec<Change>,
}

fn whatif_json(shown: &WhatIfShown<'_>, list: bool) -> Result<()> {
    let WhatIfShown {
        rule_set,
        scope,
        threshold,
        current,
        total,
        named,
        changes,
    } = shown;
    let mut out = counts_json(total);
    out.insert("threshold_yuan".into(), json!(threshold.to_string()));
    out.insert("current_threshold_yuan".into(), json!(current.to_string()));
    out.insert(
        "division".into(),
        json!(scope.map(|c| c.as_str()).unwrap_or(CHONGQING)),
    );
    out.insert(
        "rule_set".into(),
        json!({
            "id": rule_set.id,
            "year": rule_set.rules.year,
            "jurisdiction": rule_set.rules.jurisdiction,
            "version": rule_set.rules.version,
            "assumed": rule_set.rules.assumed,
        }),
    );
    for (key, rows) in named {
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut m = serde_json::Map::new();
                m.insert("code".into(), json!(r.code));
                m.insert("name_zh".into(), json!(r.name_zh));
                m.insert("name_en".into(), json!(r.name_en));
                m.extend(counts_json(&r.counts));
                Value::Object(m)
            })
            .collect();
        out.insert((*key).into(), Value::Array(list));
    }
    if list {
        for (key, entering) in [("entering", true), ("leaving", false)] {
            let list: Vec<Value> = changes
                .iter()
                .filter(|c| c.entering == entering)
                .map(|c| {
                    json!({
                        "household_no": c.household_no,
                        "division_code": c.village,
                        "per_capita_net_income_yuan": c.per_capita_net_income.to_string(),
                    })
                })
                .collect();
            out.insert(key.into(), Value::Array(list));
        }
    }
    outln!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
    Ok(())
}

fn whatif_text(lang: Lang, shown: &WhatIfShown<'_>, list: bool) {
    let WhatIfShown {
        rule_set,
        threshold,
        current,
        total,
        named,
        changes,
        ..
    } = shown;
    for line in rule_set_lines(lang, rule_set) {
        outln!("{line}");
    }
    let (t, cur) = (threshold.to_string(), current.to_string());
    outln!(
        "{}",
        match lang {
            Lang::Zh => format!("假设监测范围为{t}元（现行{cur}元），未写入任何数据："),
            Lang::En => format!("with a threshold of {t} yuan (now {cur}); nothing is written:"),
        }
    );
    let header = match lang {
        Lang::Zh => [
            "区划",
            "不高于户数",
            "人数",
            "新进入户",
            "人",
            "退出户",
            "人",
        ],
        Lang::En => [
            "division",
            "households",
            "people",
            "entering",
            "people",
            "leaving",
            "people",
        ],
    };
    for (key, rows) in named {
        let title = match (*key, lang) {
            ("by_county", Lang::Zh) => "按区县",
            ("by_county", Lang::En) => "by county",
            ("by_township", Lang::Zh) => "按乡镇",
            ("by_township", Lang::En) => "by township",
            (_, Lang::Zh) => "按村（社区）",
            (_, Lang::En) => "by village",
        };
        outln!();
        outln!("{title}");
        outln!(
            "{:<44} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            header[0],
            header[1],
            header[2],
            header[3],
            header[4],
            header[5],
            header[6]
        );
        for r in rows {
            let (code, c) = (&r.code, &r.counts);
            let name = if lang == Lang::Zh {
                &r.name_zh
            } else {
                &r.name_en
            };
            outln!(
                "{:<44} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                format!("{code} {name}"),
                c.households,
                c.members,
                c.households_entering,
                c.members_entering,
                c.households_leaving,
                c.members_leaving
            );
        }
    }
    if list {
        outln!();
        for ch in changes {
            let (no, village, income) = (&ch.household_no, &ch.village, ch.per_capita_net_income);
            let change = match (ch.entering, lang) {
                (true, Lang::Zh) => "新进入",
                (true, Lang::En) => "enters",
                (false, Lang::Zh) => "退出",
                (false, Lang::En) => "leaves",
            };
            let unit = say(lang, "元", "yuan");
            outln!("{change} {no} {village} {income} {unit}");
        }
    }
    outln!();
    let (h, m, he, me, hl, ml) = (
        total.households,
        total.members,
        total.households_entering,
        total.members_entering,
        total.households_leaving,
        total.members_leaving,
    );
    outln!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "合计：{h}户{m}人不高于{t}元；与现行标准相比新进入{he}户{me}人，退出{hl}户{ml}人"
            ),
            Lang::En => format!(
                "total: {h} households, {m} people at or below {t} yuan; compared with now, {he} households ({me} people) enter and {hl} ({ml} people) leave"
            ),
        }
    );
}

async fn list(db: &Db, lang: Lang, json_out: bool) -> Result<ExitCode> {
    let sets = zhenxing_store::monitoring::rule_sets(db).await?;
    if json_out {
        outln!("{}", serde_json::to_string_pretty(&sets)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &sets {
        let r = &s.rules;
        let threshold = r.threshold.map(|t| t.to_string()).unwrap_or_default();
        let status = match (r.assumed, lang) {
            (true, Lang::Zh) => "假定值",
            (true, Lang::En) => "assumed",
            (false, Lang::Zh) => "正式",
            (false, Lang::En) => "published",
        };
        outln!(
            "{} {} v{} {} {threshold} {status} {} {}",
            r.year,
            r.jurisdiction,
            r.version,
            say(lang, "监测范围", "threshold"),
            s.created_at,
            s.created_by
        );
        if let Some(note) = &r.note {
            outln!("  {}", note.get(lang));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn add(db: &Db, lang: Lang, file: &Path, actor: &str) -> Result<ExitCode> {
    let bytes = super::read_input_file(file)?;
    let Ok(input) = std::str::from_utf8(&bytes) else {
        outln!(
            "{}",
            say(
                lang,
                "规则集文件须为UTF-8编码的JSON文本。规则集未保存。",
                "a rule set file is JSON text in UTF-8. The rule set was not saved."
            )
        );
        return Ok(ExitCode::FAILURE);
    };
    let rules = match zhenxing_store::monitoring::parse_rule_set_json(input) {
        Ok(r) => r,
        Err(e) => {
            outln!("{}", e.get(lang));
            outln!(
                "{}",
                say(lang, "规则集未保存。", "The rule set was not saved.")
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let named_version = rules.version;
    match zhenxing_store::monitoring::add_rule_set(db, rules, actor).await? {
        Err(problems) => {
            for p in &problems {
                outln!("{}", p.get(lang));
            }
            let n = problems.len();
            outln!(
                "{}",
                match lang {
                    Lang::Zh => format!("规则集被拒绝：{n}个问题。未保存任何数据。"),
                    Lang::En =>
                        format!("the rule set was refused: {n} problem(s). Nothing was saved."),
                }
            );
            Ok(ExitCode::FAILURE)
        }
        Ok(stored) => {
            let r = &stored.rules;
            let (y, j, v) = (r.year, &r.jurisdiction, r.version);
            outln!(
                "{}",
                match lang {
                    Lang::Zh => format!("已保存：{y}年度规则集（区划{j}）第{v}版"),
                    Lang::En => format!("saved: rule set {y} for {j}, version {v}"),
                }
            );
            if named_version != 0 && named_version != v {
                outln!(
                    "{}",
                    match lang {
                        Lang::Zh => format!(
                            "文件中的版本号{named_version}未采用：已保存的版本从不修改，新规则集总是新版本"
                        ),
                        Lang::En => format!(
                            "the file's version {named_version} was not used: saved versions are never edited, a new rule set is always a new version"
                        ),
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
