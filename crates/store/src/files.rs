//! The files people attach: a case's scans and photos, a ticket's pictures and receipts, a
//! self-declaration's photos. One rule for all of them: at most [`MAX_FILE_BYTES`], a JPEG, PNG
//! or PDF by its first bytes (never by its name, which the sender chooses), and a name safe to
//! show and to download. The public's submissions keep theirs in one table each, of the same
//! shape ([`PublicFiles`]: `ticket_files`, `declaration_files`), written and read here.

use crate::{Db, Result, Tx, on_pool, on_tx};
use sha2::{Digest, Sha256};
use zhenxing_core::{Text, text};

/// The largest file accepted: a phone photo or a scanned page fits.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// A file that passed the checks, with what is stored beside its bytes.
#[derive(Debug, Clone)]
pub struct AcceptedFile {
    pub name: String,
    pub content_type: &'static str,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// The content type of an accepted file, from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// The file as it will be stored, or why it is refused (naming the file).
pub fn accept(file_name: &str, bytes: Vec<u8>) -> Result<AcceptedFile, Text> {
    let name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    let name = if name.trim().is_empty() {
        "attachment".to_owned()
    } else {
        name
    };
    if bytes.is_empty() || bytes.len() > MAX_FILE_BYTES {
        let mb = MAX_FILE_BYTES / 1024 / 1024;
        return Err(text!(
            "文件“{name}”为空或超过{mb} MB：每个附件应为非空文件，最大{mb} MB",
            "the file '{name}' is empty or larger than {mb} MB: each attachment must be a non-empty file of at most {mb} MB"
        ));
    }
    let Some(content_type) = sniff(&bytes) else {
        return Err(text!(
            "文件“{name}”不是JPEG、PNG照片或PDF扫描件，只接受这三种",
            "the file '{name}' is not a JPEG or PNG photo or a PDF scan, the only kinds accepted"
        ));
    };
    Ok(AcceptedFile {
        sha256: hex::encode(Sha256::digest(&bytes)),
        name,
        content_type,
        bytes,
    })
}

/// A table of the files sent with a public submission: keyed by the submission's county and
/// number (`owner`) and the file's number from 1, never edited (migrations 0013 and 0026).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicFiles {
    table: &'static str,
    owner: &'static str,
}

pub(crate) const TICKET_FILES: PublicFiles = PublicFiles {
    table: "ticket_files",
    owner: "ticket_id",
};

pub(crate) const DECLARATION_FILES: PublicFiles = PublicFiles {
    table: "declaration_files",
    owner: "declaration_id",
};

/// A stored file, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredFile {
    pub number: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
}

impl PublicFiles {
    /// Stores `files`, numbered from 1, with the submission `(county_code, owner_id)`, inside
    /// its write transaction.
    pub(crate) async fn insert(
        self,
        tx: &mut Tx,
        (county_code, owner_id): (&str, i64),
        files: &[AcceptedFile],
        now: &str,
    ) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (county_code, {}, number, file_name, content_type, size_bytes, \
             sha256, content, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            self.table, self.owner
        );
        for (number, f) in (1i64..).zip(files) {
            on_tx!(tx, conn => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(county_code).bind(owner_id).bind(number).bind(&f.name)
                .bind(f.content_type).bind(f.bytes.len() as i64).bind(&f.sha256).bind(&f.bytes)
                .bind(now)
                .execute(conn).await.map(drop)?);
        }
        Ok(())
    }

    /// The files of a submission the caller has found the reader may read, in their order.
    pub(crate) async fn list(
        self,
        db: &Db,
        (county_code, owner_id): (&str, i64),
    ) -> Result<Vec<StoredFile>> {
        let sql = format!(
            "SELECT number, file_name, content_type, size_bytes FROM {} \
             WHERE county_code = $1 AND {} = $2 ORDER BY number",
            self.table, self.owner
        );
        Ok(
            on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(county_code).bind(owner_id).fetch_all(pool).await?),
        )
    }

    /// One file of such a submission: its name, content type and bytes.
    pub(crate) async fn one(
        self,
        db: &Db,
        (county_code, owner_id): (&str, i64),
        number: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>> {
        let sql = format!(
            "SELECT file_name, content_type, content FROM {} \
             WHERE county_code = $1 AND {} = $2 AND number = $3",
            self.table, self.owner
        );
        Ok(
            on_pool!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(county_code).bind(owner_id).bind(number).fetch_optional(pool).await?),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"<html>"), None);
    }

    #[test]
    fn photos_and_scans_are_accepted_by_their_bytes_not_their_names() {
        let png = b"\x89PNG\r\n\x1a\nrest".to_vec();
        let f = accept("C:\\Users\\李\\公告栏.exe", png).unwrap();
        assert_eq!(
            (f.name.as_str(), f.content_type),
            ("公告栏.exe", "image/png")
        );
        assert_eq!(accept("", b"%PDF-1.7".to_vec()).unwrap().name, "attachment");
        let refused = accept("照片.jpg", b"<script>".to_vec()).unwrap_err();
        assert!(refused.zh.contains("照片.jpg"), "{}", refused.zh);
        assert!(accept("a.pdf", Vec::new()).is_err());
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_FILE_BYTES + 1, b' ');
        assert!(
            accept("big.pdf", big)
                .unwrap_err()
                .en
                .contains("larger than 5 MB")
        );
    }
}
