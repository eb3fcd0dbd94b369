//! End-to-end tests of the operator's commands of issue 15: `backup` and `restore`, the keyed
//! audit chain's `audit verify` without its key, `audit archive` and `audit verify --archive`,
//! and `serve` refusing bad TLS files. SQLite, and PostgreSQL when `TEST_DATABASE_URL` names a
//! server (the real pg_dump and pg_restore).

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::{Backend, Env, audit_checkpoint_file, fixture, key_file, stats, zx};

/// Runs `scenario` on SQLite, then on PostgreSQL when it is configured.
fn on_each_backend(scenario: fn(Env)) {
    scenario(Env::new(Backend::Sqlite));
    match Env::postgres() {
        Some(env) => scenario(env),
        None => eprintln!("PostgreSQL skipped: TEST_DATABASE_URL is not set"),
    }
}

/// A database with the fixture's households imported (audited, so the chain is keyed).
fn registry(env: &Env, name: &str) -> String {
    let db = env.fresh_db(name);
    zx(
        &db,
        &[
            "import",
            "registry",
            fixture("registry/good-utf8.csv").to_str().unwrap(),
            "--legacy-monitoring",
            "--reason",
            "fixture: monitored before zhenxing",
        ],
    )
    .assert_success("import");
    db
}

/// The audit key file the CLI uses for `db` (beside the SQLite file, or the tests' own for
/// PostgreSQL).
fn audit_key_file(db: &str) -> std::path::PathBuf {
    audit_checkpoint_file(db).with_extension("audit-key")
}

#[test]
fn backup_and_restore() {
    on_each_backend(|env| {
        let source = registry(&env, "source");
        let before = stats(&source, &[]);
        let file = env.path("registry.zxbackup");
        let file = file.to_str().unwrap();
        let run = zx(&source, &["backup", file]);
        run.assert_success("backup");
        run.assert_contains("backed up to", "backup");

        // Into a fresh database, with the source's audit key (its records are keyed).
        let key = audit_key_file(&source);
        let key = key.to_str().unwrap();
        let target = env.fresh_db("target");
        // Without the source's key file, its sealed ID and phone numbers would not open: refused
        // before anything changes.
        let run = zx(&target, &["--audit-key", key, "restore", file]);
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("another key file", "restore without the key file");
        run.assert_contains("nothing was changed", "restore without the key file");
        let keys = key_file(&source);
        let keys = keys.to_str().unwrap();
        // With another audit key than the source's, its keyed chain would not verify: refused
        // before anything changes too.
        let other_audit_key = env.path("other.audit-key");
        let run = zx(
            &target,
            &[
                "--key-file",
                keys,
                "--audit-key",
                other_audit_key.to_str().unwrap(),
                "restore",
                file,
            ],
        );
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("another audit key", "restore with another audit key");
        run.assert_contains("nothing was changed", "restore with another audit key");
        // With both (the new, empty target takes the key file given).
        let run = zx(
            &target,
            &["--key-file", keys, "--audit-key", key, "restore", file],
        );
        run.assert_success("restore");
        run.assert_contains("the audit chain is intact and anchored again", "restore");
        assert_eq!(
            stats(&target, &["--key-file", keys, "--audit-key", key]),
            before
        );
        let run = zx(
            &target,
            &["--key-file", keys, "--audit-key", key, "audit", "verify"],
        );
        run.assert_success("audit verify after restore");
        run.assert_contains("the hash chain is intact", "audit verify");

        // The target holds the registry now: only with --replace.
        let run = zx(
            &target,
            &["--key-file", keys, "--audit-key", key, "restore", file],
        );
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("--replace", "restore without --replace");
        let run = zx(
            &target,
            &[
                "--key-file",
                keys,
                "--audit-key",
                key,
                "restore",
                file,
                "--replace",
            ],
        );
        run.assert_success("restore --replace");

        // A cut file changes nothing.
        let bytes = std::fs::read(file).unwrap();
        let cut = env.path("cut.zxbackup");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let run = zx(
            &target,
            &[
                "--key-file",
                keys,
                "--audit-key",
                key,
                "restore",
                cut.to_str().unwrap(),
                "--replace",
            ],
        );
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("nothing was changed", "a cut backup");
        assert_eq!(
            stats(&target, &["--key-file", keys, "--audit-key", key]),
            before
        );
    });
}

#[test]
fn keyed_chain_verification_needs_the_key_and_archives_verify() {
    on_each_backend(|env| {
        let db = registry(&env, "keyed");
        let run = zx(&db, &["audit", "verify"]);
        run.assert_success("audit verify");

        let archive = env.path("trail.zxaudit");
        let archive = archive.to_str().unwrap();
        let run = zx(&db, &["audit", "archive", "--to", archive]);
        run.assert_success("audit archive");
        run.assert_contains("archived to", "audit archive");
        let run = zx(&db, &["audit", "verify", "--archive", archive]);
        run.assert_success("audit verify --archive");
        run.assert_contains("the archive is intact", "audit verify --archive");
        let run = zx(
            &db,
            &[
                "audit",
                "archive",
                "--to",
                archive,
                "--through",
                "2000-01-01",
            ],
        );
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("no audit records to archive", "an archive of nothing");
        let run = zx(
            &db,
            &[
                "audit",
                "archive",
                "--to",
                archive,
                "--through",
                "yesterday",
            ],
        );
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("should be YYYY-MM-DD", "a bad date");

        // Without the key: verification says it needs it, and nothing audited is written.
        let key = audit_key_file(&db);
        let saved = env.path("saved.audit-key");
        std::fs::rename(&key, &saved).unwrap();
        let run = zx(&db, &["audit", "verify"]);
        assert!(!run.success(), "{}", run.all());
        run.assert_contains(
            "checking them needs the audit key file",
            "audit verify without key",
        );
        let run = zx(&db, &["audit", "verify", "--archive", archive]);
        assert!(!run.success(), "{}", run.all());
        run.assert_contains(
            "audit key file (--audit-key) is needed",
            "archive without key",
        );
        let run = zx(
            &db,
            &["audit", "anchor", "--reason", "trying without the key"],
        );
        assert!(!run.success(), "{}", run.all());
        run.assert_contains("no audit record can be written", "a write without key");
        assert!(!key.exists(), "a new key was made");
        std::fs::rename(&saved, &key).unwrap();
        zx(&db, &["audit", "verify"]).assert_success("audit verify with the key back");
    });
}

#[test]
fn serve_refuses_bad_tls_files_at_start() {
    let env = Env::new(Backend::Sqlite);
    let db = env.fresh_db("tls");
    let garbage = env.path("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let run = zx(
        &db,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            garbage,
            "--tls-key",
            garbage,
        ],
    );
    assert!(!run.success(), "{}", run.all());
    run.assert_contains("holds no certificate", "serve with a bad certificate");
    let run = zx(
        &db,
        &["serve", "--bind", "127.0.0.1:0", "--tls-cert", garbage],
    );
    assert!(!run.success(), "{}", run.all());
    run.assert_contains("--tls-key", "serve with a certificate and no key");
}
