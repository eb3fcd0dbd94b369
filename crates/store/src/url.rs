//! Database URLs. A URL without a scheme never silently creates an empty registry: it is taken
//! as an existing SQLite file or refused (the lesson Vaultwarden learned).

use crate::{Result, StoreError};
use zhenxing_core::text;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://zhenxing.db";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `create`: whether a missing file may be created (only with an explicit `sqlite:` scheme).
    Sqlite {
        url: String,
        create: bool,
    },
    Postgres {
        url: String,
    },
}

impl DatabaseUrl {
    pub fn parse(input: &str) -> Result<DatabaseUrl> {
        let s = input.trim();
        if s.starts_with("sqlite:") {
            return Ok(DatabaseUrl::Sqlite {
                url: s.to_owned(),
                create: true,
            });
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres { url: s.to_owned() });
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(StoreError::Config(text!(
                "不支持的数据库地址类型“{scheme}://”；请使用 sqlite://文件名 或 postgres://用户@主机/库名",
                "unsupported database URL scheme '{scheme}://'; use sqlite://FILE or postgres://USER@HOST/DB"
            )));
        }
        if s.is_empty() {
            return Err(StoreError::Config(text!(
                "数据库地址为空",
                "the database URL is empty"
            )));
        }
        if std::path::Path::new(s).is_file() {
            return Ok(DatabaseUrl::Sqlite {
                url: format!("sqlite://{s}"),
                create: false,
            });
        }
        Err(StoreError::Config(text!(
            "数据库地址“{s}”没有类型前缀，且不是已有的数据库文件。为避免误建空登记库，未做任何操作。新建请写 sqlite://{s}，连接 PostgreSQL 请写 postgres://…",
            "the database URL '{s}' has no scheme and is not an existing database file. Nothing was created, so that a typo never starts an empty registry. To create one write sqlite://{s}; for PostgreSQL write postgres://..."
        )))
    }

    /// The URL with any password replaced, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { url, .. } => url.clone(),
            DatabaseUrl::Postgres { url } => match (url.find("://"), url.rfind('@')) {
                (Some(start), Some(at)) if at > start => {
                    let userinfo = &url[start + 3..at];
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{}{}:***{}", &url[..start + 3], user, &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://x.db"),
            Ok(DatabaseUrl::Sqlite { create: true, .. })
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@h/d"),
            Ok(DatabaseUrl::Postgres { .. })
        ));
        assert!(DatabaseUrl::parse("mysql://h/d").is_err());
    }

    #[test]
    fn no_scheme_never_creates() {
        let err = DatabaseUrl::parse("/nonexistent/typo.db").unwrap_err();
        assert!(err.to_string().contains("no scheme"), "{err}");
        let file = tempfile::NamedTempFile::new().unwrap();
        let path = file.path().to_str().unwrap();
        assert_eq!(
            DatabaseUrl::parse(path).unwrap(),
            DatabaseUrl::Sqlite {
                url: format!("sqlite://{path}"),
                create: false
            }
        );
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://zx:secret@localhost/zx").unwrap();
        assert_eq!(url.redacted(), "postgres://zx:***@localhost/zx");
    }
}
