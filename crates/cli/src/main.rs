//! `zhenxing`: the command line. Each subcommand wires the crates together; the work itself
//! lives in them (parsing in zhenxing-io, rules in zhenxing-core, SQL in zhenxing-store).

#[macro_use]
mod output;
mod commands;

/// Bulk loads allocate millions of small strings from two threads; glibc's allocator spent a
/// third of a generate run in malloc and free (measured with perf), mimalloc a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use zhenxing_core::Lang;

#[derive(Parser)]
#[command(
    name = "zhenxing",
    version,
    about = "振兴: the registry and monitoring system of a bureau of rural revitalization"
)]
struct Cli {
    /// Database URL: sqlite://FILE (embedded, the default) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "ZHENXING_DATABASE_URL", default_value = zhenxing_store::DEFAULT_DATABASE_URL)]
    database: String,
    /// Language of messages: zh (simplified Chinese) or en.
    #[arg(long, global = true, env = "ZHENXING_LANG", default_value = "zh", value_parser = parse_lang)]
    lang: Lang,
    /// The audit anchor's key file (default: beside the SQLite database, or
    /// zhenxing-audit.key in the working directory for PostgreSQL). Keep it off the
    /// database's volume.
    #[arg(long, global = true, env = "ZHENXING_AUDIT_KEY")]
    audit_key: Option<PathBuf>,
    /// The audit anchor's checkpoint file (default: beside the SQLite database, or
    /// zhenxing-audit-DATABASE.checkpoint in the working directory for PostgreSQL).
    #[arg(long, global = true, env = "ZHENXING_AUDIT_CHECKPOINT")]
    audit_checkpoint: Option<PathBuf>,
    /// The key file of the personal data encrypted at rest (default: registry.db.keys beside
    /// the SQLite database, or zhenxing-DATABASE.keys in the working directory for
    /// PostgreSQL). ZHENXING_KEYS may hold the file's JSON itself instead. Back it up apart
    /// from the database: without it the ID and phone numbers cannot be read.
    #[arg(long, global = true, env = "ZHENXING_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language '{s}': use zh or en"))
}

#[derive(Subcommand)]
enum Command {
    /// Generate the demo registry if the database is empty, then serve it.
    Demo {
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Generate the synthetic registry (deterministic for a seed) into an empty database.
    Generate {
        /// 1 reproduces the record: 1,906,000 members of lifted-out households.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        #[arg(long, default_value_t = 2021)]
        seed: u64,
        /// Members of ordinary rural households (default: half the lifted-out members).
        #[arg(long)]
        ordinary_members: Option<u64>,
    },
    /// Import a file: the division list or the registry (CSV, or an XLSX, XLS or ODS workbook).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export the registry or an empty import template.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Registry figures for the municipality or a division.
    Stats {
        #[arg(long)]
        division: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Serve the web application.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        tls: TlsArgs,
    },
    /// Take the monthly snapshot of the key figures (municipality, counties, townships);
    /// taking a month again replaces it.
    Snapshot {
        /// YYYY-MM: this month (the default, China time) or the last one.
        #[arg(long)]
        month: Option<String>,
    },
    /// Write one of the standard monthly report tables (XLSX or CSV by the file's extension;
    /// audited as report.export, like the web's downloads), or list them with --list.
    Report {
        /// The report's name (see --list).
        name: Option<String>,
        /// List the reports: name, Chinese and English title.
        #[arg(long)]
        list: bool,
        /// The division whose children are the rows (default: the municipality).
        #[arg(long)]
        division: Option<String>,
        /// YYYY-MM (default: this month, China time).
        #[arg(long)]
        month: Option<String>,
        /// The file to write: .xlsx or .csv.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Back the database up into FILE while the server runs: SQLite's online backup API or
    /// PostgreSQL's pg_dump (custom format), with a manifest (registry, row counts, audit
    /// head, digest); with --encrypt, encrypted with the current data key of the key file.
    Backup {
        file: PathBuf,
        /// Encrypt the whole backup with the registry's current data key (AES-256-GCM or
        /// SM4-GCM, as the key file says); the ID and phone numbers inside are sealed anyway.
        #[arg(long)]
        encrypt: bool,
    },
    /// Restore a backup made by `zhenxing backup`, then check the audit chain and the row
    /// counts against its manifest and anchor the chain at the restored head. Stop the server
    /// first. A corrupt, truncated or foreign backup, or a wrong key, changes nothing.
    Restore {
        file: PathBuf,
        /// Replace a database that already holds this registry's data.
        #[arg(long)]
        replace: bool,
    },
    /// Accounts of the people who use zhenxing.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens, for programs that act as an account.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Dynamic monitoring: screening runs, what-if thresholds and rule sets.
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// The keys of the personal data encrypted at rest: init, status, rotate, retire.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Other departments' files: import (matched, checked with the rule set in force, warnings
    /// raised) and the list of uploads.
    #[command(subcommand)]
    Department(DepartmentCommand),
    /// The State Council's holiday notices that time limits in working days follow (2021 to
    /// 2026 ship with zhenxing): list them, or add a year.
    #[command(subcommand)]
    Holidays(HolidaysCommand),
}

#[derive(Subcommand)]
enum HolidaysCommand {
    /// Add (or replace) the notices of the years in FILE: CSV in UTF-8 with the header
    /// year,notice,name_zh,name_en,off_from,off_to,working_days, one row per holiday of the
    /// notice, swapped working days separated by ";". Checked whole first; audited.
    Add { file: PathBuf },
    /// The calendar in use: each year's holidays and swapped working days.
    List {
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        json: bool,
    },
}

/// ID and phone numbers are stored encrypted (AES-256-GCM or SM4-GCM) with the data keys of the
/// key file; full-number lookups use a blind index under its separate index key.
#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new key file (for a new registry); never overwrites one.
    Init {
        /// international (AES-256-GCM, HMAC-SHA-256; the default) or national (SM4-GCM,
        /// HMAC-SM3).
        #[arg(long, default_value = "international")]
        cipher_suite: String,
    },
    /// The suite, the data keys and how many values each encrypts; no secret is printed.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Add a data key and re-encrypt every value under an older key with it, in batches each
    /// committed on its own, while the server keeps running; a rerun resumes an interrupted
    /// rotation. Audited.
    Rotate {
        /// Stop after this many batches (the rest is done by the next run).
        #[arg(long)]
        batches: Option<u64>,
    },
    /// Remove an old data key from the key file, once no value uses it. Audited.
    Retire { key: u32 },
}

/// TLS served by zhenxing itself (TLS 1.2 and 1.3); cookies are then `Secure` and answers
/// carry HSTS. Without them, terminate TLS in a reverse proxy (README).
#[derive(clap::Args, Debug, Clone)]
struct TlsArgs {
    /// The certificate chain, PEM (server certificate first).
    #[arg(long, requires = "tls_key", env = "ZHENXING_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert", env = "ZHENXING_TLS_KEY")]
    tls_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum DepartmentCommand {
    /// Import a department's file (CSV, XLSX, XLS or ODS, keyed by ID number); all or nothing.
    /// The columns of each kind are in docs/department-formats.md (the medical file's optional
    /// 医疗类别 feeds outpatient_out_of_pocket, the education file's optional 学年 and
    /// 非义务教育阶段费用 feed schooling_costs).
    Import {
        /// medical, education, housing, disaster, civil_affairs or unemployment (or the
        /// kind's Chinese or English name).
        #[arg(long)]
        kind: String,
        file: PathBuf,
        /// Upload as this account (a department officer or the municipal administrator):
        /// its name is recorded and only households in its division are matched.
        #[arg(long = "as")]
        as_account: Option<String>,
    },
    /// List the uploads, newest first.
    Uploads {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MonitorCommand {
    /// Evaluate the rule set in force over the registry (or a division) and open, update or
    /// close warnings; re-running with unchanged data changes nothing.
    Run {
        #[arg(long)]
        division: Option<String>,
        /// The year whose rule set applies (default: this year).
        #[arg(long)]
        year: Option<u16>,
    },
    /// How many households and people would be at or below another threshold, and how many
    /// would enter or leave the monitoring range; writes nothing.
    Whatif {
        /// Per-capita net income in yuan, e.g. 7500.
        #[arg(long)]
        threshold: String,
        #[arg(long)]
        division: Option<String>,
        /// The year whose rule set is compared with (default: this year).
        #[arg(long)]
        year: Option<u16>,
        #[arg(long)]
        json: bool,
        /// Also list the households that would enter or leave the monitoring range.
        #[arg(long)]
        list: bool,
    },
    /// Rule sets: versioned, never edited in place.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List every rule set version.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a rule set from a JSON file, as the next version of its year and jurisdiction.
    Add { file: PathBuf },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A division list (代码, 名称, 英文名称).
    Divisions {
        file: PathBuf,
        #[arg(long)]
        dry_run: bool,
    },
    /// Households and members; all or nothing.
    Registry {
        /// CSV (UTF-8, UTF-8 with a BOM, GB18030) or a workbook (.xlsx, .xls, .ods; the first
        /// worksheet), told apart by content, not by extension.
        file: PathBuf,
        /// Check everything and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Why the data is imported (recorded in the audit trail).
        #[arg(long)]
        reason: Option<String>,
        /// Households monitored before zhenxing kept records: write the file's monitoring
        /// categories as they are. Without it a category may only stay as stored, since the
        /// procedures alone set it. Needs --reason; audited as registry.legacy_monitoring.
        #[arg(long)]
        legacy_monitoring: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The registry as CSV or XLSX (by extension).
    Registry {
        file: PathBuf,
        #[arg(long)]
        division: Option<String>,
    },
    /// An empty XLSX workbook with the headers, text-formatted ID and phone columns and
    /// drop-down lists.
    Template { file: PathBuf },
    /// The month's completed identifications and risk eliminations in the national monitoring
    /// system's columns, for upload (录入建档; XLSX or CSV by extension). It holds the heads'
    /// full ID numbers: audited as national.export.
    National {
        file: PathBuf,
        /// YYYY-MM: the cases completed in that month (default: this month, China time).
        #[arg(long)]
        month: Option<String>,
        /// The division whose cases are written (default: the municipality).
        #[arg(long)]
        division: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-compute the hash chain and report any altered or deleted record, and a trail cut or
    /// wiped behind the checkpoint kept outside the database; keyed records need the audit key.
    /// With --archive, check an audit archive instead.
    Verify {
        /// An archive made by `zhenxing audit archive`: its MAC, its chain, and the records the
        /// database still holds.
        #[arg(long)]
        archive: Option<PathBuf>,
    },
    /// Write the audit records and their items, with their hashes, to FILE, MACed under the
    /// audit key (audited).
    Archive {
        #[arg(long)]
        to: PathBuf,
        /// The last day (Beijing time, YYYY-MM-DD) whose records go in (default: all).
        #[arg(long)]
        through: Option<String>,
    },
    /// Show the audit retention, or set it in months (at least 6; audited).
    Retention { months: Option<u32> },
    /// Delete the records older than the retention (and 6 months in any case) that are in
    /// ARCHIVE, once it verifies against the database; the chain's verification then starts at
    /// the pruned boundary. Audited as audit.prune.
    Prune {
        #[arg(long)]
        archive: PathBuf,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Checkpoint the chain's current head, recorded in the trail: for a trail that has no
    /// checkpoint yet, or after a restore the operator has checked.
    Anchor {
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
}

/// Passwords are never arguments (the shell history and `ps` would keep them): they are the
/// first line of standard input when it is piped, or generated and printed once.
#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Add {
        name: String,
        /// municipal_admin (system administrator), security_admin, auditor, county_officer,
        /// township_officer, village_cadre or department_officer (or the role's Chinese or
        /// English name). The three administrators' accounts are made only here: none of them
        /// can make or reset another's.
        #[arg(long)]
        role: String,
        /// The division the account works in; its level must fit the role.
        #[arg(long)]
        division: String,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its sessions end and its API tokens are revoked.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
    /// Set a new password (from standard input, or generated and printed); the account must
    /// change it at its next sign-in, and its API tokens are revoked.
    Password { name: String },
    /// Remove the account's second factor and recovery codes (a lost phone); its sessions end
    /// and, if its role or the policy requires a factor, it enrols again at its next sign-in.
    ResetFactor {
        name: String,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an account; the token is printed once, alone on the last line.
    Create {
        name: String,
        /// How many days the token is valid (default 90, at most 365).
        #[arg(long)]
        days: Option<i64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs are key-value events on stderr; `ZHENXING_LOG_FORMAT=json` makes them one JSON
    // object per line for a log collector. They never hold personal data (see ARCHITECTURE.md).
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZHENXING_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,sqlx=error,zhenxing_web=info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ZHENXING_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lang = cli.lang;
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", output::error_text(&e, lang));
            ExitCode::FAILURE
        }
    }
}
