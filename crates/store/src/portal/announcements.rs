//! Publications: announcements saved as drafts, published from a day, withdrawn.

use super::intake::next_id;
use crate::accounts::Account;
use crate::audit::{AuditEntry, Operation};
use crate::outcome::{Outcome, Written};
use crate::{Db, Result, on_pool, on_tx};
use serde_json::json;
use time::Date;
use zhenxing_core::china_time::now_stored;
use zhenxing_core::portal::{Announcement, AnnouncementStatus};
use zhenxing_core::{Action, text};

/// A publication as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnnouncementRow {
    pub id: i64,
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub status: String,
    pub publish_on: Option<String>,
    pub updated_by: String,
    pub updated_at: String,
    pub row_version: i64,
}

impl AnnouncementRow {
    pub fn status(&self) -> Option<AnnouncementStatus> {
        AnnouncementStatus::from_code(&self.status)
    }

    /// Whether the public sees it on `today`.
    pub fn is_public(&self, today: Date) -> bool {
        self.status() == Some(AnnouncementStatus::Published)
            && self
                .publish_on
                .as_deref()
                .is_some_and(|d| d <= today.to_string().as_str())
    }

    /// The title in `lang`; the Chinese one until the English translation is written.
    pub fn title(&self, lang: zhenxing_core::Lang) -> &str {
        match lang {
            zhenxing_core::Lang::En if !self.title_en.is_empty() => &self.title_en,
            _ => &self.title_zh,
        }
    }

    pub fn body(&self, lang: zhenxing_core::Lang) -> &str {
        match lang {
            zhenxing_core::Lang::En if !self.body_en.is_empty() => &self.body_en,
            _ => &self.body_zh,
        }
    }
}

const ANNOUNCEMENT_SELECT: &str = "SELECT id, kind, title_zh, title_en, body_zh, body_en, status, \
    publish_on, updated_by, updated_at, CAST(row_version AS BIGINT) AS row_version \
    FROM announcements";

/// Every publication, newest first (the back office's list).
pub async fn announcements(db: &Db) -> Result<Vec<AnnouncementRow>> {
    let sql = format!("{ANNOUNCEMENT_SELECT} ORDER BY id DESC");
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .fetch_all(pool).await?),
    )
}

/// What the public sees on `today`: published, from a publication day not after today, the
/// newest publication day first.
pub async fn published(db: &Db, today: Date) -> Result<Vec<AnnouncementRow>> {
    let sql = format!(
        "{ANNOUNCEMENT_SELECT} WHERE status = 'published' AND publish_on <= $1 \
         ORDER BY publish_on DESC, id DESC LIMIT 200"
    );
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(today.to_string()).fetch_all(pool).await?),
    )
}

pub async fn announcement(db: &Db, id: i64) -> Result<Option<AnnouncementRow>> {
    let sql = format!("{ANNOUNCEMENT_SELECT} WHERE id = $1");
    Ok(
        on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id).fetch_optional(pool).await?),
    )
}

fn announcement_json(a: &Announcement) -> serde_json::Value {
    json!({"kind": a.kind.code(), "title_zh": a.title_zh, "title_en": a.title_en,
           "body_zh_chars": a.body_zh.chars().count(), "body_en_chars": a.body_en.chars().count()})
}

/// Saves a new draft (`existing` None) or the text of an existing publication (its id and the
/// version the editor's page showed; a published one stays published with the new text).
pub async fn save_announcement(
    db: &Db,
    actor: &Account,
    existing: Option<(i64, i64)>,
    a: &Announcement,
) -> Result<Outcome<Written>> {
    if !actor.may(Action::ManagePortal) {
        return Ok(Outcome::NotFound);
    }
    let now = now_stored();
    let mut tx = db.begin_write().await?;
    let (id, version) = match existing {
        Some((id, expected)) => {
            let current: Option<i64> = on_tx!(&mut tx, conn => sqlx::query_scalar(
                "SELECT CAST(row_version AS BIGINT) FROM announcements WHERE id = $1")
                .bind(id).fetch_optional(conn).await?);
            match current {
                None => return Ok(Outcome::NotFound),
                Some(v) if v != expected => return Ok(Outcome::Stale),
                Some(v) => (id, v + 1),
            }
        }
        None => (next_id(&mut tx, "announcements").await?, 1),
    };
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: if existing.is_some() {
                "announcement.edit".into()
            } else {
                "announcement.draft".into()
            },
            object_type: "announcement".into(),
            object_id: Some(id.to_string()),
            after: Some(announcement_json(a)),
            ..Default::default()
        },
    )
    .await?;
    let seq = operation.seq();
    if existing.is_some() {
        on_tx!(&mut tx, conn => sqlx::query(
            "UPDATE announcements SET kind = $1, title_zh = $2, title_en = $3, body_zh = $4, \
             body_en = $5, updated_by = $6, updated_at = $7, updated_seq = $8, \
             row_version = row_version + 1 WHERE id = $9")
            .bind(a.kind.code()).bind(&a.title_zh).bind(&a.title_en).bind(&a.body_zh)
            .bind(&a.body_en).bind(&actor.name).bind(&now).bind(seq).bind(id)
            .execute(conn).await.map(drop)?);
    } else {
        on_tx!(&mut tx, conn => sqlx::query(
            "INSERT INTO announcements (id, kind, title_zh, title_en, body_zh, body_en, status, \
             publish_on, created_by, created_at, updated_by, updated_at, updated_seq, row_version) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', NULL, $7, $8, $7, $8, $9, 1)")
            .bind(id).bind(a.kind.code()).bind(&a.title_zh).bind(&a.title_en).bind(&a.body_zh)
            .bind(&a.body_en).bind(&actor.name).bind(&now).bind(seq)
            .execute(conn).await.map(drop)?);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Written { id, version }))
}

/// Publishes from `on` (`Some`: today or a later day) or withdraws (`None`), audited.
pub async fn set_announcement_status(
    db: &Db,
    actor: &Account,
    id: i64,
    expected_version: i64,
    publish_on: Option<Date>,
    today: Date,
) -> Result<Outcome<Written>> {
    if !actor.may(Action::ManagePortal) {
        return Ok(Outcome::NotFound);
    }
    let Some(current) = announcement(db, id).await? else {
        return Ok(Outcome::NotFound);
    };
    if current.row_version != expected_version {
        return Ok(Outcome::Stale);
    }
    if let Some(day) = publish_on
        && day < today
    {
        return Ok(Outcome::Refused(text!(
            "发布日期不能早于今天（{today}）",
            "the publication day cannot be before today ({today})"
        )));
    }
    if publish_on.is_none() && current.status() != Some(AnnouncementStatus::Published) {
        return Ok(Outcome::Refused(text!(
            "只能撤回已发布的内容",
            "only a published item can be withdrawn"
        )));
    }
    let (status, action) = match publish_on {
        Some(_) => (AnnouncementStatus::Published, "announcement.publish"),
        None => (AnnouncementStatus::Withdrawn, "announcement.withdraw"),
    };
    let day = publish_on.map(|d| d.to_string());
    let mut tx = db.begin_write().await?;
    let operation = Operation::begin(
        &mut tx,
        AuditEntry {
            actor: actor.name.clone(),
            action: action.into(),
            object_type: "announcement".into(),
            object_id: Some(id.to_string()),
            before: Some(json!({"status": current.status, "publish_on": current.publish_on})),
            after: Some(json!({"status": status.code(), "publish_on": day})),
            ..Default::default()
        },
    )
    .await?;
    let changed = on_tx!(&mut tx, conn => sqlx::query(
        "UPDATE announcements SET status = $1, publish_on = COALESCE($2, publish_on), \
         updated_by = $3, updated_at = $4, updated_seq = $5, row_version = row_version + 1 \
         WHERE id = $6 AND row_version = $7")
        .bind(status.code()).bind(&day).bind(&actor.name).bind(now_stored())
        .bind(operation.seq()).bind(id).bind(expected_version)
        .execute(conn).await?.rows_affected());
    if changed != 1 {
        tx.rollback().await?;
        return Ok(Outcome::Stale);
    }
    operation.finish(&mut tx, None).await?;
    tx.commit().await?;
    Ok(Outcome::Done(Written {
        id,
        version: expected_version + 1,
    }))
}
