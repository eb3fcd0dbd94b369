//! `zhenxing generate`: the synthetic registry, generated county by county on one thread while
//! the previous county is written on another, all in one transaction (a generation that fails
//! half-way leaves the database empty, as it was). Each county comes with the history of its
//! monitored caseload since 2021 (cases, pairings, measures: `zhenxing_synth::history`), written
//! after its households (`store::history`).

use crate::output::{progress, say};
use anyhow::Result;
use std::process::ExitCode;
use std::sync::Arc;
use zhenxing_core::china_time::today_in_china;
use zhenxing_core::{Lang, text};
use zhenxing_store::Db;
use zhenxing_store::divisions::set_former_poverty_villages;
use zhenxing_store::history::{CountyRecords, HistoryCounts, write_county};
use zhenxing_store::registry::{
    MonitoringPermission, WriteRequest, refresh_all_village_counts, restore_indexes,
    suspend_indexes, write_in_transaction,
};
use zhenxing_store::snapshots::{self, Month};
use zhenxing_synth::{SynthConfig, plan, villages_from_divisions};

pub async fn run(
    db: &Db,
    lang: Lang,
    scale: f64,
    seed: u64,
    ordinary_members: Option<u64>,
) -> Result<ExitCode> {
    let existing = db.stats(None).await?.households;
    if existing > 0 {
        return Err(anyhow::Error::new(text!(
            "登记库中已有{existing}户；合成数据只写入空库。请用 --database sqlite://新文件名.db 指定新库",
            "the registry already holds {existing} households; synthetic data only goes into an empty one. Use --database sqlite://NEW_FILE.db"
        )));
    }
    let names = db.division_names().await?;
    let villages = villages_from_divisions(names.iter().map(|(c, n)| (*c, n.as_str())));
    let counties = db.former_poverty_counties().await?;
    let mut config = SynthConfig::new(scale, seed, today_in_china());
    config.ordinary_members = ordinary_members;
    let plan =
        Arc::new(plan(&config, &villages, &counties).map_err(|e| anyhow::Error::new(e.text()))?);
    let actor = super::cli_actor();

    let bar = progress(plan.total_members(), &say(lang, "生成人口", "generating"));
    // Two at a time in flight: one being generated, one being written.
    let (sender, mut receiver) = tokio::sync::mpsc::channel(1);
    let producer = {
        let plan = Arc::clone(&plan);
        std::thread::spawn(move || {
            for county in plan.counties() {
                let generated = plan
                    .generate_county_with_history(county)
                    .map(|(households, history)| (*county, households, history));
                if sender.blocking_send(generated).is_err() {
                    break;
                }
            }
        })
    };
    let request = WriteRequest {
        actor: actor.clone(),
        source: format!("generate --scale {scale} --seed {seed}"),
        reason: None,
        dry_run: false,
        known_new: true,
        defer_counts: true,
        // The synthetic registry stands for one kept before zhenxing: its monitored households
        // were identified then, not by zhenxing's procedures.
        monitoring: MonitoringPermission::LegacyMonitoring,
    };
    // The built-in rule sets, so that the history's warnings name the rule set whose rules
    // raised them.
    zhenxing_store::monitoring::ensure_builtin_rule_sets(db, &actor).await?;
    let mut tx = db.begin_write().await?;
    set_former_poverty_villages(&mut tx, plan.former_poverty_villages(), &request.actor).await?;
    let indexes = suspend_indexes(&mut tx).await?;
    let mut history = HistoryCounts::default();
    while let Some(generated) = receiver.recv().await {
        let (county, households, county_history) = generated.map_err(|e| {
            anyhow::anyhow!("the synthetic history breaks a rule of the procedures: {e}")
        })?;
        let members: u64 = households.iter().map(|h| h.members.len() as u64).sum();
        write_in_transaction(&mut tx, &households, &request, &|_| {}).await?;
        // The history of the county's caseload, after its households (the cases name them).
        let county_code = county.as_str().get(..6).unwrap_or(county.as_str());
        let records = CountyRecords {
            cases: &county_history.cases,
            pairings: &county_history.pairings,
            measures: &county_history.measures,
            warnings: &county_history.warnings,
            tickets: &county_history.tickets,
            incomes: &county_history.incomes,
        };
        let written = write_county(&mut tx, &actor, county_code, &records).await?;
        history += written;
        bar.inc(members);
    }
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread failed"))?;
    bar.set_message(say(lang, "建立索引", "indexing"));
    restore_indexes(&mut tx, indexes).await?;
    refresh_all_village_counts(&mut tx).await?;
    // The monthly snapshots of the months the history lived through, so that the trend has a
    // line for each since the transition period began.
    let backfilled =
        snapshots::backfill(&mut tx, &actor, Month::TRANSITION_BEGAN, plan.today()).await?;
    tx.commit().await?;
    bar.finish_and_clear();
    let s = db.stats(None).await?;
    let (h, m, lm, v, c, mm) = (
        s.households,
        s.members,
        s.lifted_out_members,
        s.former_poverty_villages,
        s.former_poverty_counties,
        s.monitored_members,
    );
    outln!(
        "{}",
        text!(
            "已生成：{h}户{m}人，其中脱贫人口{lm}人；脱贫村{v}个，脱贫区县{c}个；监测对象{mm}人（合成数据）",
            "generated: {h} households, {m} members, {lm} of them in lifted-out households; {v} former poverty villages in {c} former poverty counties; {mm} monitored members (synthetic)"
        )
        .get(lang)
    );
    let (cases, steps, pairings, measures, warnings, tickets) = (
        history.cases,
        history.steps,
        history.pairings,
        history.measures,
        history.warnings,
        history.tickets,
    );
    let months = backfilled.months;
    outln!(
        "{}",
        text!(
            "监测历史（2020年起，逐步经程序规则校验）：预警{warnings}条，识别和风险消除程序{cases}件、办理步骤{steps}步，帮扶责任人结对{pairings}个，帮扶措施{measures}项，群众诉求{tickets}件；月度快照{months}个月",
            "monitoring history (since 2020, every step checked by the procedures' rules): {warnings} warnings, {cases} identification and risk-elimination cases with {steps} steps, {pairings} pairings with responsible cadres, {measures} measures, {tickets} tickets of the public line; monthly snapshots of {months} months"
        )
        .get(lang)
    );
    Ok(ExitCode::SUCCESS)
}
