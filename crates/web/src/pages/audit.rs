//! The audit trail for auditors and administrators (`Action::ReadAudit`): operations found by
//! person, record, division, action and date, newest first in keyset pages; one operation with
//! its items; the state of the hash chain at the top. ID and phone numbers in what the trail
//! recorded are shown masked. An account attached below the municipality sees the operations
//! that touch its own division only.

use crate::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};
use crate::pages::Params;
use crate::pages::list_export::{ExportRecord, ListFile, ListFormat};
use crate::pages::place_names::Places;
use crate::pages::{Chrome, blank, pager, query_string, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use fluent_bundle::FluentValue;
use serde::Deserialize;
use time::Date;
use time::macros::format_description;
use zhenxing_core::china_time::{china_time_text, start_of_china_day, start_of_next_china_day};
use zhenxing_core::mask::{mask_free_text, mask_json_text};
use zhenxing_core::{Action, DivisionCode, DivisionLevel};
use zhenxing_io::ColumnSpec;
use zhenxing_store::audit::{AuditRecord, verify};
use zhenxing_store::audit_query::{self, AuditFilter, AuditItemRecord};

const PAGE_SIZE: u32 = 50;
const ITEMS_PER_PAGE: u32 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list))
        .route("/audit.xlsx", get(export))
        .route("/audit.csv", get(export))
        .route("/audit/{seq}", get(detail))
}

/// The operations the pages know by name: (action, message key). Others show their code.
const ACTIONS: &[(&str, &str)] = &[
    ("auth.sign_in", "audit-action-sign-in"),
    ("auth.sign_in_failed", "audit-action-sign-in-failed"),
    ("auth.sign_out", "audit-action-sign-out"),
    ("registry.write", "audit-action-registry-write"),
    (
        "registry.legacy_monitoring",
        "audit-action-registry-legacy-monitoring",
    ),
    ("registry.export", "audit-action-registry-export"),
    ("audit.export", "audit-action-audit-export"),
    ("personal_data.reveal", "audit-action-reveal"),
    ("account.create", "audit-action-account-create"),
    ("account.disable", "audit-action-account-disable"),
    ("account.profile", "audit-action-account-profile"),
    ("account.enable", "audit-action-account-enable"),
    ("account.password", "audit-action-account-password"),
    ("token.create", "audit-action-token-create"),
    ("divisions.import", "audit-action-divisions-import"),
    (
        "divisions.former_poverty_villages",
        "audit-action-former-poverty-villages",
    ),
    ("update", "audit-action-update"),
    ("monitor.run", "audit-action-monitor-run"),
    ("rules.add", "audit-action-rules-add"),
    ("rules.builtin", "audit-action-rules-builtin"),
    ("warning.assign", "audit-action-warning-assign"),
    ("warning.verify", "audit-action-warning-verify"),
    ("warning.dismiss", "audit-action-warning-dismiss"),
    ("warning.report.visit", "audit-action-warning-visit"),
    (
        "warning.report.self_declaration",
        "audit-action-warning-self-declaration",
    ),
    (
        "warning.link_household",
        "audit-action-warning-link-household",
    ),
    ("portal.declaration", "audit-action-portal-declaration"),
    ("portal.code_recovery", "audit-action-portal-code-recovery"),
    ("portal.ticket", "audit-action-portal-ticket"),
    ("ticket.assign", "audit-action-ticket-assign"),
    ("ticket.answer", "audit-action-ticket-answer"),
    ("ticket.close", "audit-action-ticket-close"),
    ("announcement.draft", "audit-action-announcement-draft"),
    ("announcement.edit", "audit-action-announcement-edit"),
    ("announcement.publish", "audit-action-announcement-publish"),
    (
        "announcement.withdraw",
        "audit-action-announcement-withdraw",
    ),
    ("portal.designate", "audit-action-portal-designate"),
    ("portal.undesignate", "audit-action-portal-undesignate"),
    ("settings.portal", "audit-action-settings-portal"),
    ("access.denied", "audit-action-access-denied"),
    ("access.csrf_failed", "audit-action-access-csrf-failed"),
    ("auth.rate_limited", "audit-action-auth-rate-limited"),
    ("households.export", "audit-action-households-export"),
    ("warnings.export", "audit-action-warnings-export"),
    ("cases.export", "audit-action-cases-export"),
    ("coverage.export", "audit-action-coverage-export"),
    ("tickets.export", "audit-action-tickets-export"),
    ("accounts.export", "audit-action-accounts-export"),
    ("report.export", "audit-action-report-export"),
    ("visits.export", "audit-action-visits-export"),
    ("visit.record", "audit-action-visit-record"),
    ("visit.decide", "audit-action-visit-decide"),
    ("warning.assign_batch", "audit-action-warning-assign-batch"),
    ("warning.open", "audit-action-warning-open"),
    ("warning.update", "audit-action-warning-update"),
    ("warning.close", "audit-action-warning-close"),
    ("warning.move", "audit-action-warning-move"),
    ("warning.step", "audit-action-warning-step"),
    (
        "case.open.identification",
        "audit-action-case-open-identification",
    ),
    (
        "case.open.elimination",
        "audit-action-case-open-elimination",
    ),
    ("case.open", "audit-action-case-open"),
    ("case.attach", "audit-action-case-attach"),
    ("case.step", "audit-action-case-step"),
    ("household.monitoring", "audit-action-household-monitoring"),
    ("assistance.pairing.add", "audit-action-pairing-add"),
    ("assistance.pairing.end", "audit-action-pairing-end"),
    ("assistance.measure.add", "audit-action-measure-add"),
    (
        "assistance.measure.implement",
        "audit-action-measure-implement",
    ),
    ("assistance.measure.cancel", "audit-action-measure-cancel"),
    ("department.import", "audit-action-department-import"),
    ("history.generate", "audit-action-history-generate"),
    ("snapshot.take", "audit-action-snapshot-take"),
    ("snapshot.backfill", "audit-action-snapshot-backfill"),
    ("audit.anchor", "audit-action-audit-anchor"),
    ("audit.archive", "audit-action-audit-archive"),
    ("backup.create", "audit-action-backup-create"),
    ("backup.restore", "audit-action-backup-restore"),
    ("keys.rotate", "audit-action-keys-rotate"),
    ("keys.retire", "audit-action-keys-retire"),
    ("settings.procedure", "audit-action-settings-procedure"),
    ("settings.holidays", "audit-action-settings-holidays"),
    (
        "settings.security_policy",
        "audit-action-settings-security-policy",
    ),
    (
        "settings.audit_retention",
        "audit-action-settings-audit-retention",
    ),
    ("incomes.test", "audit-action-incomes-test"),
];

fn action_label(c: &Chrome, action: &str) -> String {
    if let Some((_, key)) = ACTIONS.iter().find(|(code, _)| *code == action) {
        return c.t(key);
    }
    // A step of a case: "程序办理 · 县级审批通过", in the core's words for the step.
    if let Some(step) = action
        .strip_prefix("case.")
        .and_then(zhenxing_core::procedure::StepKind::from_code)
    {
        return format!(
            "{} · {}",
            c.t("audit-action-case-step"),
            step.label(c.tr.lang)
        );
    }
    action.to_owned()
}

/// Every action the audit page's filter offers: the table's, and each step of a case.
fn filter_actions(c: &Chrome) -> Vec<(String, String)> {
    let steps = zhenxing_core::procedure::StepKind::ALL
        .iter()
        .filter(|k| **k != zhenxing_core::procedure::StepKind::Open)
        .map(|k| format!("case.{}", k.code()));
    ACTIONS
        .iter()
        .map(|(code, _)| (*code).to_owned())
        .chain(steps)
        .map(|code| {
            let label = action_label(c, &code);
            (code, label)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Times

fn parse_date(value: &str, zh: &str, en: &str) -> AppResult<Date> {
    Date::parse(value, format_description!("[year]-[month]-[day]")).map_err(|_| {
        AppError::bad_request(
            format!("{zh}须为日期，格式为年-月-日，例如2026-03-01"),
            format!("{en} must be a date written YYYY-MM-DD, e.g. 2026-03-01"),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub record: Option<String>,
    pub division: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
}

/// The division prefix an account is held to; `None` at the municipality.
fn scope_prefix(viewer: &Viewer) -> AppResult<Option<String>> {
    let account = viewer.may(Action::ReadAudit)?;
    Ok((account.division.level() != DivisionLevel::Province)
        .then(|| account.division.prefix().to_owned()))
}

/// The division prefix asked for: a 12-digit code (its meaningful digits) or 2 to 12 digits.
fn division_prefix(value: &str) -> AppResult<String> {
    if let Ok(code) = DivisionCode::parse(value) {
        return Ok(code.prefix().to_owned());
    }
    if (2..=12).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(value.to_owned());
    }
    Err(AppError::bad_request(
        "区划须为区划代码或其开头的数字，例如500229（城口县）",
        "division must be a division code or its leading digits, e.g. 500229 (Chengkou)",
    ))
}

fn parse_filter(viewer: &Viewer, query: &AuditQuery) -> AppResult<(AuditFilter, Option<i64>)> {
    let scope = scope_prefix(viewer)?;
    let too_long = |v: &str| v.chars().count() > 200;
    for v in [&query.actor, &query.record, &query.action]
        .into_iter()
        .filter_map(blank)
    {
        if too_long(v) {
            return Err(AppError::bad_request(
                "查询条件最多200字",
                "a search term is at most 200 characters",
            ));
        }
    }
    let at_from = blank(&query.from)
        .map(|d| parse_date(d, "起始日期", "from").map(start_of_china_day))
        .transpose()?;
    let at_before = blank(&query.to)
        .map(|d| parse_date(d, "截止日期", "to").map(start_of_next_china_day))
        .transpose()?;
    let before = blank(&query.before)
        .map(|b| {
            b.parse::<i64>().map_err(|_| {
                AppError::bad_request("参数before须为整数", "parameter before must be an integer")
            })
        })
        .transpose()?;
    Ok((
        AuditFilter {
            actor: blank(&query.actor).map(str::to_owned),
            object_id: blank(&query.record).map(str::to_owned),
            division_prefix: blank(&query.division).map(division_prefix).transpose()?,
            scope_prefix: scope,
            action: blank(&query.action).map(str::to_owned),
            at_from,
            at_before,
        },
        before,
    ))
}

pub struct Row {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action_code: String,
    pub action: String,
    pub object: String,
    pub division: String,
    pub reason: String,
    pub items: i64,
}

fn row(c: &Chrome, r: &AuditRecord, places: &Places) -> Row {
    Row {
        seq: r.seq,
        at: china_time_text(&r.at),
        actor: r.actor.clone(),
        action_code: r.action.clone(),
        action: action_label(c, &r.action),
        object: match &r.object_id {
            Some(id) => format!("{} {}", r.object_type, mask_free_text(id)),
            None => r.object_type.clone(),
        },
        division: r
            .division_code
            .as_deref()
            .map(|code| match places.label(code) {
                label if label == code => label,
                label => format!("{label} {code}"),
            })
            .unwrap_or_default(),
        reason: mask_free_text(r.reason.as_deref().unwrap_or("")),
        items: r.item_count,
    }
}

/// The chain's state, as a heading and any problems, in the page's language.
pub struct ChainStatus {
    pub ok: bool,
    pub summary: String,
    pub problems: Vec<String>,
}

async fn chain_status(state: &AppState, c: &Chrome) -> AppResult<ChainStatus> {
    let report = verify(&state.db).await?;
    let records = FluentValue::from(report.records as f64);
    let items = FluentValue::from(report.items as f64);
    let ok = report.problems.is_empty();
    Ok(ChainStatus {
        ok,
        summary: if ok {
            c.tr.t_args("audit-chain-ok", &[("records", records), ("items", items)])
        } else {
            c.tr.t_args(
                "audit-chain-broken",
                &[
                    ("records", records),
                    ("problems", FluentValue::from(report.problems.len() as f64)),
                ],
            )
        },
        problems: report
            .problems
            .iter()
            .take(100)
            .map(|p| c.tr.text(&p.text()))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct ListPage {
    c: Chrome,
    /// The filters, for the export links.
    export_query: String,
    chain: ChainStatus,
    actor: String,
    record: String,
    division: String,
    action: String,
    from: String,
    to: String,
    actions: Vec<(String, String)>,
    rows: Vec<Row>,
    next: Option<String>,
    first_page: Option<String>,
    scoped: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<AuditQuery>, AppError>,
) -> AppResult<Response> {
    viewer.may(Action::ReadAudit)?;
    let Params(query) = params?;
    let (filter, before) = parse_filter(&viewer, &query)?;
    let page = audit_query::search(&state.db, &filter, before, PAGE_SIZE).await?;
    let places = Places::of(
        &state,
        viewer.lang,
        page.records
            .iter()
            .filter_map(|r| r.division_code.as_deref()),
    )
    .await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = c.t("audit-title");
    let chain = chain_status(&state, &c).await?;
    let values = [
        ("actor", blank(&query.actor).unwrap_or("")),
        ("record", blank(&query.record).unwrap_or("")),
        ("division", blank(&query.division).unwrap_or("")),
        ("action", blank(&query.action).unwrap_or("")),
        ("from", blank(&query.from).unwrap_or("")),
        ("to", blank(&query.to).unwrap_or("")),
    ];
    let (next, first_page) = pager(
        "/audit",
        &values,
        "before",
        page.next_before,
        before.is_none(),
    );
    let export_query = query_string(&values);
    let page = ListPage {
        export_query,
        chain,
        actor: values[0].1.to_owned(),
        record: values[1].1.to_owned(),
        division: values[2].1.to_owned(),
        action: values[3].1.to_owned(),
        from: values[4].1.to_owned(),
        to: values[5].1.to_owned(),
        actions: filter_actions(&c)
            .into_iter()
            .filter(|(code, _)| code != "update")
            .collect(),
        rows: page.records.iter().map(|r| row(&c, r, &places)).collect(),
        next,
        first_page,
        scoped: filter.scope_prefix.clone(),
        c,
    };
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------------------
// The list as a file

/// Operations read per query while exporting.
const EXPORT_PAGE: u32 = 5_000;

/// Every operation the list's filters select (from `before` on, when given), with the page's
/// columns and masking, newest first.
pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    params: Result<Params<AuditQuery>, AppError>,
    ListFormat(format): ListFormat,
) -> AppResult<Response> {
    viewer.may(Action::ReadAudit)?;
    let Params(query) = params?;
    let (filter, mut before) = parse_filter(&viewer, &query)?;
    let c = Chrome::new(&state, &viewer, String::new());
    let header = |key: &str| ColumnSpec::new(c.t(key));
    let text = |key: &str| ColumnSpec::text(c.t(key));
    let columns = [
        ColumnSpec::number(c.t("audit-col-seq")),
        text("audit-col-time"),
        text("audit-col-actor"),
        header("audit-col-action"),
        text("audit-col-object"),
        text("audit-col-division"),
        header("audit-col-reason"),
        ColumnSpec::number(c.t("audit-col-items")),
    ];
    let mut file = ListFile::create("audit", format, &columns)?;
    loop {
        let page = audit_query::search(&state.db, &filter, before, EXPORT_PAGE).await?;
        let places = Places::of(
            &state,
            viewer.lang,
            page.records
                .iter()
                .filter_map(|r| r.division_code.as_deref()),
        )
        .await?;
        let rows = page
            .records
            .iter()
            .map(|r| {
                let r = row(&c, r, &places);
                vec![
                    r.seq.to_string(),
                    r.at,
                    r.actor,
                    r.action,
                    r.object,
                    r.division,
                    r.reason,
                    r.items.to_string(),
                ]
            })
            .collect();
        file.write(rows).await?;
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let filters = serde_json::json!({
        "actor": blank(&query.actor),
        "record": blank(&query.record).map(mask_free_text),
        "division": blank(&query.division),
        "action": blank(&query.action),
        "from": blank(&query.from),
        "to": blank(&query.to),
    });
    // The division the export covers: the one asked for when it is a division, else the
    // account's own (its scope).
    let account = viewer.account()?;
    let division = blank(&query.division)
        .and_then(|d| DivisionCode::parse(d).ok())
        .filter(|d| account.scope().contains(d))
        .unwrap_or(account.division);
    let record = ExportRecord {
        action: "audit.export",
        division,
        filters,
    };
    file.send(&state, &viewer, record).await
}

// ---------------------------------------------------------------------------------------------
// One operation

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailQuery {
    pub after: Option<String>,
}

pub struct ItemRow {
    pub item: i64,
    pub action: String,
    pub object: String,
    pub division: String,
    pub before: String,
    pub after: String,
}

fn item_row(c: &Chrome, i: &AuditItemRecord) -> ItemRow {
    ItemRow {
        item: i.item,
        action: action_label(c, &i.action),
        object: format!("{} {}", i.object_type, mask_free_text(&i.object_id)),
        division: i.division_code.clone().unwrap_or_default(),
        before: i
            .before_data
            .as_deref()
            .map(mask_json_text)
            .unwrap_or_default(),
        after: i
            .after_data
            .as_deref()
            .map(mask_json_text)
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "audit_detail.html")]
struct DetailPage {
    c: Chrome,
    op: Row,
    action_code: String,
    county: String,
    before: String,
    after: String,
    hash: String,
    prev_hash: String,
    items: Vec<ItemRow>,
    more_items: Option<String>,
    /// Items of the operation outside the viewer's scope, counted but not shown.
    hidden_items: String,
}

pub async fn detail(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(seq): Path<String>,
    params: Result<Params<DetailQuery>, AppError>,
) -> AppResult<Response> {
    let scope = scope_prefix(&viewer)?;
    let seq: i64 = seq.parse().map_err(|_| AppError::NotFound)?;
    let Params(query) = params?;
    let after = blank(&query.after)
        .map(|a| {
            a.parse::<i64>().map_err(|_| {
                AppError::bad_request("参数after须为整数", "parameter after must be an integer")
            })
        })
        .transpose()?;
    let Some(record) = audit_query::operation(&state.db, seq, scope.as_deref()).await? else {
        return Err(AppError::NotFound);
    };
    let items = audit_query::items(&state.db, seq, after, ITEMS_PER_PAGE, scope.as_deref()).await?;
    let hidden = audit_query::items_outside_scope(&state.db, seq, scope.as_deref()).await?;
    let mut c = Chrome::new(&state, &viewer, String::new());
    c.title = format!("{} {}", c.t("audit-operation"), record.seq);
    let more_items = (items.len() == ITEMS_PER_PAGE as usize)
        .then(|| {
            items
                .last()
                .map(|i| format!("/audit/{seq}?after={}", i.item))
        })
        .flatten();
    let places = Places::of(&state, viewer.lang, record.division_code.as_deref()).await?;
    let page = DetailPage {
        op: row(&c, &record, &places),
        action_code: record.action.clone(),
        county: record.county_code.clone().unwrap_or_default(),
        before: record
            .before_data
            .as_deref()
            .map(mask_json_text)
            .unwrap_or_default(),
        after: record
            .after_data
            .as_deref()
            .map(mask_json_text)
            .unwrap_or_default(),
        hash: record.hash.clone(),
        prev_hash: record.prev_hash.clone(),
        items: items.iter().map(|i| item_row(&c, i)).collect(),
        more_items,
        hidden_items: if hidden > 0 {
            c.tr.t_args(
                "audit-items-hidden",
                &[("count", FluentValue::from(hidden as f64))],
            )
        } else {
            String::new()
        },
        c,
    };
    Ok(render(&page))
}

#[cfg(test)]
mod action_tests {
    use super::ACTIONS;

    /// Every action the code writes to the audit trail has its words on the audit page (and so
    /// its place in the filter): the literal ones found in the sources, and the families built
    /// with `format!` (case steps, opening a case, warning and ticket steps, reports).
    #[test]
    fn every_action_written_has_words() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut found = Vec::new();
        let mut dirs: Vec<std::path::PathBuf> = ["store/src", "web/src", "app/src", "cli/src"]
            .iter()
            .map(|d| std::path::Path::new(root).join(d))
            .collect();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("action: \"") {
                    let rest = &text[i + 9..];
                    if let Some(end) = rest.find('"') {
                        found.push((path.display().to_string(), rest[..end].to_owned()));
                    }
                }
            }
        }
        assert!(
            found.len() > 30,
            "the scan found the actions ({})",
            found.len()
        );
        let known = |a: &str| ACTIONS.iter().any(|(code, _)| *code == a);
        let missing: Vec<_> = found
            .iter()
            .filter(|(_, a)| a.contains('.') && !known(a))
            .collect();
        assert!(missing.is_empty(), "actions without words: {missing:?}");
    }
}
