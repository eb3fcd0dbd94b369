#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The use cases of `zhenxing-app` against real databases: SQLite always, PostgreSQL as well
//! when `TEST_DATABASE_URL` is set (`store::testing`), with the repository's fixtures. One test
//! binary, one module a use case.

mod department;
mod export;
mod households;
mod import;
mod monitoring;
mod pass;
mod support;
mod visits;
