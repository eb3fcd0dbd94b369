//! What villages read: their notifications, and the public notices they post.

use super::{corrupt, parse_day};
use crate::accounts::Account;
use crate::browse::code_range;
use crate::{Db, Result, on_pool, on_tx};
use serde::Serialize;
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::procedure::CaseKind;
use zhenxing_core::{MonitoringCategory, Scope, VillageGroup};

/// A notification to a village, unread until one of its cadres reads it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub case_id: i64,
    pub message_zh: String,
    pub message_en: String,
    pub created_at: String,
}

/// The unread notifications of the divisions in `scope`, newest first.
pub async fn unread_notifications(db: &Db, scope: &Scope) -> Result<Vec<Notification>> {
    let (lo, hi) = code_range(scope.division());
    Ok(on_pool!(db, pool => sqlx::query_as(
        "SELECT id, case_id, message_zh, message_en, created_at FROM case_notifications \
         WHERE division_code BETWEEN $1 AND $2 AND read_at IS NULL \
         ORDER BY id DESC LIMIT 100")
        .bind(&lo).bind(&hi).fetch_all(pool).await?))
}

/// Marks a notification of the actor's scope read.
pub async fn mark_read(db: &Db, actor: &Account, id: i64) -> Result<bool> {
    let (lo, hi) = code_range(actor.scope().division());
    let mut tx = db.begin_write().await?;
    let n = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE case_notifications SET read_by = $1, read_at = $2 \
         WHERE id = $3 AND division_code BETWEEN $4 AND $5 AND read_at IS NULL")
        .bind(&actor.name).bind(now_stored()).bind(id).bind(&lo).bind(&hi)
        .execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(n == 1)
}

/// One household on a village's public notice (DOMAIN.md 1.7: names, village group, category
/// and the dates; never ID numbers, phone numbers, bank accounts or health conditions).
#[derive(Debug, Clone)]
pub struct NoticeEntry {
    pub case_id: i64,
    pub kind: CaseKind,
    pub head_name: String,
    /// 村民小组: the household's own (the exchange format's column), else read from the end of
    /// its address (`…太白村3组`) for households recorded before the column.
    pub village_group: Option<String>,
    pub category: Option<MonitoringCategory>,
    pub starts_on: Date,
    pub ends_on: Date,
}

/// The notices of a village (its code, exactly) whose period includes or ended within
/// `recent_days` before `today`, or starts later: what the noticeboard and the portal show.
pub async fn notices(
    db: &Db,
    village_code: &str,
    today: Date,
    recent_days: i64,
) -> Result<Vec<NoticeEntry>> {
    let since = (today - time::Duration::days(recent_days)).to_string();
    type Row = (
        i64,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(
        "SELECT c.id, c.kind, c.category, c.notice_starts_on, c.notice_ends_on, \
         (SELECT m.name FROM members m WHERE m.household_id = h.id AND m.relation = 'head' \
          ORDER BY m.position LIMIT 1), \
         h.village_group, h.address \
         FROM cases c JOIN households h ON h.household_no = c.household_no \
         WHERE c.division_code = $1 AND c.notice_starts_on IS NOT NULL \
         AND c.notice_ends_on >= $2 AND c.stage NOT IN ('rejected', 'withdrawn') \
         ORDER BY c.notice_starts_on, c.id")
        .bind(village_code).bind(&since).fetch_all(pool).await?);
    rows.into_iter()
        .map(|(id, kind, category, starts, ends, head, group, address)| {
            Ok(NoticeEntry {
                case_id: id,
                kind: CaseKind::from_code(&kind).ok_or_else(|| corrupt("kind", &kind))?,
                head_name: head.unwrap_or_default(),
                village_group: group.or_else(|| {
                    address
                        .as_deref()
                        .and_then(VillageGroup::from_address)
                        .map(|g| g.as_str().to_owned())
                }),
                category: category.as_deref().and_then(MonitoringCategory::from_code),
                starts_on: parse_day("notice start", &starts)?,
                ends_on: parse_day("notice end", &ends)?,
            })
        })
        .collect()
}
