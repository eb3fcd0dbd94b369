//! `zhenxing monitor …`: screening runs, what-if thresholds and rule sets.
//!
//! A run is three timed steps: load (two scans of the registry side by side into the engine's
//! snapshot), evaluate (the engine, in parallel), write (the store, one transaction).

use crate::output::{progress, say};
use crate::{MonitorCommand, RulesCommand};
use anyhow::Result;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zhenxing_core::id_number::today_in_china;
use zhenxing_core::monitoring::CHONGQING;
use zhenxing_core::{DivisionCode, Fen, Lang, Text, text};
use zhenxing_engine::{
    HouseholdColumns, HouseholdInput, MemberColumns, MemberInput, Snapshot, WhatIfCounts,
};
use zhenxing_store::Db;
use zhenxing_store::monitoring::{self, ScreeningResult, ScreeningRun, StoredRuleSet};

/// Checks the arguments before the database is opened.
pub fn check_arguments(cmd: &MonitorCommand) -> Result<()> {
    if let MonitorCommand::Whatif { threshold, .. } = cmd {
        parse_threshold(threshold)?;
    }
    Ok(())
}

fn parse_threshold(input: &str) -> Result<Fen> {
    let value = Fen::parse_non_negative(input).map_err(|e| anyhow::Error::new(e.text()))?;
    if value.0 == 0 {
        return Err(anyhow::Error::new(text!(
            "监测范围须大于0元",
            "the threshold must be above 0 yuan"
        )));
    }
    Ok(value)
}

pub async fn run(
    db: &Db,
    lang: Lang,
    cmd: MonitorCommand,
    scope: Option<&DivisionCode>,
) -> Result<ExitCode> {
    let actor = super::cli_actor();
    monitoring::ensure_builtin_rule_sets(db, &actor).await?;
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

async fn check_scope(db: &Db, scope: Option<&DivisionCode>) -> Result<()> {
    if let Some(code) = scope
        && db.division(code).await?.is_none()
    {
        let c = code.as_str();
        return Err(anyhow::Error::new(text!(
            "区划{c}不在登记库中",
            "division {c} is not in the registry"
        )));
    }
    Ok(())
}

/// The rule set in force in `year` (this year by default) for Chongqing.
async fn rule_set_in_force(db: &Db, year: Option<u16>) -> Result<StoredRuleSet> {
    let year = year.unwrap_or_else(|| u16::try_from(today_in_china().year()).unwrap_or(0));
    monitoring::current_rule_set(db, CHONGQING, year)
        .await?
        .ok_or_else(|| {
            anyhow::Error::new(text!(
                "{year}年度及以前没有适用于重庆市（{CHONGQING}）的规则集；请先用 zhenxing monitor rules add 添加",
                "there is no rule set for Chongqing ({CHONGQING}) in force in {year}; add one with zhenxing monitor rules add"
            ))
        })
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

/// Streams the registry (or a division) into a snapshot; members too when `with_members`.
async fn load(
    db: &Db,
    lang: Lang,
    scope: Option<&DivisionCode>,
    with_members: bool,
) -> Result<Snapshot> {
    let stats = db.stats(scope).await?;
    let households_expected = usize::try_from(stats.households).unwrap_or(0);
    let members_expected = if with_members {
        usize::try_from(stats.members).unwrap_or(0)
    } else {
        0
    };
    let bar = progress(
        (households_expected + members_expected) as u64,
        &say(lang, "读取登记库", "loading"),
    );
    let mut households = HouseholdColumns::with_capacity(households_expected);
    let mut members = MemberColumns::with_capacity(members_expected);
    let mut household_error: Option<Text> = None;
    let mut member_error: Option<Text> = None;
    const TICK: u64 = 8_192;
    let (hbar, mbar) = (bar.clone(), bar.clone());
    let mut hn = 0u64;
    let households_future = monitoring::load_households(db, scope, |h| {
        hn += 1;
        if hn.is_multiple_of(TICK) {
            hbar.inc(TICK);
        }
        if household_error.is_some() {
            return;
        }
        if let Err(e) = households.push(HouseholdInput {
            id: h.id,
            household_no: h.household_no,
            division_code: h.division_code,
            household_type: h.household_type,
            member_count: h.member_count,
            per_capita_net_income: h.per_capita_net_income,
            out_of_pocket: h.out_of_pocket,
            housing_safe: h.housing_safe,
            water_safe: h.water_safe,
        }) {
            household_error = Some(e);
        }
    });
    let mut mn = 0u64;
    let members_future = async {
        if !with_members {
            return Ok(0);
        }
        monitoring::load_members(db, scope, |m| {
            mn += 1;
            if mn.is_multiple_of(TICK) {
                mbar.inc(TICK);
            }
            if member_error.is_some() {
                return;
            }
            if let Err(e) = members.push(MemberInput {
                household_id: m.household_id,
                birth_date: m.birth_date,
                school_status: m.school_status,
                health: m.health,
                labor: m.labor,
                medical_insurance: m.medical_insurance,
            }) {
                member_error = Some(e);
            }
        })
        .await
    };
    tokio::try_join!(households_future, members_future)?;
    bar.finish_and_clear();
    if let Some(e) = household_error.or(member_error) {
        return Err(anyhow::Error::new(e));
    }
    Ok(if with_members {
        Snapshot::assemble(households, members)
    } else {
        Snapshot::households_only(households)
    })
}

async fn screen(
    db: &Db,
    lang: Lang,
    scope: Option<&DivisionCode>,
    year: Option<u16>,
    actor: &str,
) -> Result<ExitCode> {
    check_scope(db, scope).await?;
    let rule_set = rule_set_in_force(db, year).await?;
    for line in rule_set_lines(lang, &rule_set) {
        println!("{line}");
    }
    let started = Instant::now();
    let snapshot = load(db, lang, scope, true).await?;
    let load_time = started.elapsed();

    let started = Instant::now();
    let prepared = rule_set.rules.prepare(today_in_china());
    let found = zhenxing_engine::evaluate(&snapshot, &prepared);
    let evaluate_time = started.elapsed();

    let started = Instant::now();
    let h = &snapshot.households;
    let results: Vec<ScreeningResult> = found
        .par_iter()
        .filter_map(|(i, a)| {
            let i = *i as usize;
            ScreeningResult::new(h.household_no(i), &h.division_code(i), a)
        })
        .collect();
    let run = ScreeningRun {
        rule_set: &rule_set,
        scope,
        evaluated: snapshot.len() as u64,
        actor,
    };
    let summary = monitoring::apply_screening(db, &run, results).await?;
    let write_time = started.elapsed();
    tracing::info!(
        households = summary.evaluated,
        warnings = found.len(),
        load_ms = load_time.as_millis() as u64,
        evaluate_ms = evaluate_time.as_millis() as u64,
        write_ms = write_time.as_millis() as u64,
        "monitor run"
    );
    let (n, o, u, c, same, settled) = (
        summary.evaluated,
        summary.opened,
        summary.updated,
        summary.closed,
        summary.unchanged,
        summary.settled,
    );
    let warned = found.len();
    println!(
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
        seconds(load_time),
        seconds(evaluate_time),
        seconds(write_time),
    );
    println!(
        "{}",
        match lang {
            Lang::Zh => format!("用时：读取{l}，评估{e}，写入{w}"),
            Lang::En => format!("time: load {l}, evaluate {e}, write {w}"),
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The 12-digit code of the county or township a village code belongs to.
fn ancestor(village: u64, level: u64) -> u64 {
    village / level * level
}
const COUNTY: u64 = 1_000_000;
/// A division's code, Chinese and English names, and its counts.
type NamedCounts = (String, String, String, WhatIfCounts);
const TOWNSHIP: u64 = 1_000;

async fn names(db: &Db, code: u64) -> Result<(String, String, String)> {
    let code = format!("{code:012}");
    let parsed = DivisionCode::parse(&code).map_err(|e| anyhow::Error::new(e.text()))?;
    Ok(match db.division(&parsed).await? {
        Some(d) => (code, d.name_zh, d.name_en),
        None => (code, String::new(), String::new()),
    })
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

fn group(by_village: &BTreeMap<u64, WhatIfCounts>, level: u64) -> BTreeMap<u64, WhatIfCounts> {
    let mut out: BTreeMap<u64, WhatIfCounts> = BTreeMap::new();
    for (v, c) in by_village {
        out.entry(ancestor(*v, level)).or_default().add(c);
    }
    out
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
    check_scope(db, scope).await?;
    let rule_set = rule_set_in_force(db, year).await?;
    let current = rule_set.rules.threshold.unwrap_or(Fen::ZERO);
    let snapshot = load(db, lang, scope, false).await?;
    let by_village = zhenxing_engine::whatif(&snapshot, current, threshold);
    let mut total = WhatIfCounts::default();
    for c in by_village.values() {
        total.add(c);
    }
    let mut levels: Vec<(&str, BTreeMap<u64, WhatIfCounts>)> =
        vec![("by_county", group(&by_village, COUNTY))];
    if scope.is_some() {
        levels.push(("by_township", group(&by_village, TOWNSHIP)));
        levels.push(("by_village", by_village.clone()));
    }
    // The households that change sides: number, village, per-capita net income, entering.
    let changes: Vec<(String, String, Fen, bool)> = if output.list {
        let h = &snapshot.households;
        zhenxing_engine::whatif_changes(&snapshot, current, threshold)
            .into_iter()
            .map(|(i, entering)| {
                let i = i as usize;
                (
                    h.household_no(i).to_owned(),
                    h.division_code(i),
                    Fen(h.per_capita_net_income[i]),
                    entering,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut named: Vec<(&str, Vec<NamedCounts>)> = Vec::new();
    for (key, map) in &levels {
        let mut rows = Vec::new();
        for (code, c) in map {
            let (code, zh, en) = names(db, *code).await?;
            rows.push((code, zh, en, *c));
        }
        named.push((key, rows));
    }
    if json_out {
        let mut out = counts_json(&total);
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
        for (key, rows) in &named {
            let list: Vec<Value> = rows
                .iter()
                .map(|(code, zh, en, c)| {
                    let mut m = serde_json::Map::new();
                    m.insert("code".into(), json!(code));
                    m.insert("name_zh".into(), json!(zh));
                    m.insert("name_en".into(), json!(en));
                    m.extend(counts_json(c));
                    Value::Object(m)
                })
                .collect();
            out.insert((*key).into(), Value::Array(list));
        }
        if output.list {
            for (key, entering) in [("entering", true), ("leaving", false)] {
                let list: Vec<Value> = changes
                    .iter()
                    .filter(|c| c.3 == entering)
                    .map(|(no, village, income, _)| {
                        json!({
                            "household_no": no,
                            "division_code": village,
                            "per_capita_net_income_yuan": income.to_string(),
                        })
                    })
                    .collect();
                out.insert(key.into(), Value::Array(list));
            }
        }
        println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
        return Ok(ExitCode::SUCCESS);
    }
    for line in rule_set_lines(lang, &rule_set) {
        println!("{line}");
    }
    let (t, cur) = (threshold.to_string(), current.to_string());
    println!(
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
    for (key, rows) in &named {
        let title = match (*key, lang) {
            ("by_county", Lang::Zh) => "按区县",
            ("by_county", Lang::En) => "by county",
            ("by_township", Lang::Zh) => "按乡镇",
            ("by_township", Lang::En) => "by township",
            (_, Lang::Zh) => "按村（社区）",
            (_, Lang::En) => "by village",
        };
        println!();
        println!("{title}");
        println!(
            "{:<44} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            header[0], header[1], header[2], header[3], header[4], header[5], header[6]
        );
        for (code, zh, en, c) in rows {
            let name = if lang == Lang::Zh { zh } else { en };
            println!(
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
    if output.list {
        println!();
        for (no, village, income, entering) in &changes {
            let change = match (entering, lang) {
                (true, Lang::Zh) => "新进入",
                (true, Lang::En) => "enters",
                (false, Lang::Zh) => "退出",
                (false, Lang::En) => "leaves",
            };
            let unit = say(lang, "元", "yuan");
            println!("{change} {no} {village} {income} {unit}");
        }
    }
    println!();
    let (h, m, he, me, hl, ml) = (
        total.households,
        total.members,
        total.households_entering,
        total.members_entering,
        total.households_leaving,
        total.members_leaving,
    );
    println!(
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
    Ok(ExitCode::SUCCESS)
}

async fn list(db: &Db, lang: Lang, json_out: bool) -> Result<ExitCode> {
    let sets = monitoring::rule_sets(db).await?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&sets)?);
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
        println!(
            "{} {} v{} {} {threshold} {status} {} {}",
            r.year,
            r.jurisdiction,
            r.version,
            say(lang, "监测范围", "threshold"),
            s.created_at,
            s.created_by
        );
        if let Some(note) = &r.note {
            println!("  {}", note.get(lang));
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn add(db: &Db, lang: Lang, file: &Path, actor: &str) -> Result<ExitCode> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| {
        anyhow::Error::new(text!(
            "无法读取文件{shown}：{e}",
            "cannot read the file {shown}: {e}"
        ))
    })?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(input) = std::str::from_utf8(body) else {
        println!(
            "{}",
            say(
                lang,
                "规则集文件须为UTF-8编码的JSON文本。规则集未保存。",
                "a rule set file is JSON text in UTF-8. The rule set was not saved."
            )
        );
        return Ok(ExitCode::FAILURE);
    };
    let rules = match monitoring::parse_rule_set_json(input) {
        Ok(r) => r,
        Err(e) => {
            println!("{}", e.get(lang));
            println!(
                "{}",
                say(lang, "规则集未保存。", "The rule set was not saved.")
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let named_version = rules.version;
    match monitoring::add_rule_set(db, rules, actor).await? {
        Err(problems) => {
            for p in &problems {
                println!("{}", p.get(lang));
            }
            let n = problems.len();
            println!(
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
            println!(
                "{}",
                match lang {
                    Lang::Zh => format!("已保存：{y}年度规则集（区划{j}）第{v}版"),
                    Lang::En => format!("saved: rule set {y} for {j}, version {v}"),
                }
            );
            if named_version != 0 && named_version != v {
                println!(
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
