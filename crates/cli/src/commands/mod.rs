//! One module per subcommand.

mod audit;
mod backup;
mod demo;
mod demo_visits;
mod department;
mod export;
mod generate;
mod holidays;
mod import;
mod keys;
mod monitor;
mod report;
mod stats;
pub mod users;

use crate::{
    AuditCommand, Cli, Command, DepartmentCommand, ExportCommand, HolidaysCommand, ImportCommand,
    KeysCommand, MonitorCommand, TlsArgs, TokenCommand,
};
use anyhow::Result;
use std::process::ExitCode;
use zhenxing_core::{DivisionCode, Text};
use zhenxing_store::Db;
use zhenxing_store::registry::MonitoringPermission;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let lang = cli.lang;
    // Arguments are checked before the database is opened, so that a typo creates nothing.
    let scope = match &cli.command {
        Command::Stats { division, .. }
        | Command::Export(ExportCommand::Registry { division, .. })
        | Command::Export(ExportCommand::National { division, .. })
        | Command::Monitor(MonitorCommand::Run { division, .. })
        | Command::Monitor(MonitorCommand::Whatif { division, .. }) => {
            division.as_deref().map(parse_division).transpose()?
        }
        _ => None,
    };
    if let Command::Monitor(cmd) = &cli.command {
        monitor::check_arguments(cmd)?;
    }
    let department_kind = match &cli.command {
        Command::Department(DepartmentCommand::Import { kind, .. }) => {
            Some(department::parse_kind(kind)?)
        }
        _ => None,
    };
    // A report's arguments, and a snapshot's month, are checked before the database opens.
    let report_request = match &cli.command {
        Command::Report {
            name,
            list,
            division,
            month,
            out,
        } => Some(report::check_arguments(
            name.as_deref(),
            *list,
            division.as_deref(),
            month.as_deref(),
            out.as_deref(),
        )?),
        _ => None,
    };
    let snapshot_month = match &cli.command {
        Command::Snapshot { month } => Some(report::parse_month(month.as_deref())?),
        Command::Export(ExportCommand::National { month, file, .. }) => {
            report::check_table_file(file)?;
            Some(report::parse_month(month.as_deref())?)
        }
        _ => None,
    };
    // A holiday file is read and checked whole before the database opens.
    let holidays_to_add = match &cli.command {
        Command::Holidays(HolidaysCommand::Add { file }) => {
            match holidays::read_file(lang, file)? {
                Some(periods) => Some(periods),
                None => return Ok(ExitCode::FAILURE),
            }
        }
        _ => None,
    };
    let user_action = match &cli.command {
        Command::User(cmd) => Some(users::prepare(cmd)?),
        _ => None,
    };
    if let Some(report::Request::List) = report_request {
        report::list(lang);
        return Ok(ExitCode::SUCCESS);
    }
    let new_suite = match &cli.command {
        Command::Keys(KeysCommand::Init { cipher_suite }) => Some(keys::parse_suite(cipher_suite)?),
        _ => None,
    };
    let url = zhenxing_store::DatabaseUrl::parse(&cli.database)?;
    tracing::info!(database = %url.redacted(), "opening");
    let mut key_config = zhenxing_store::keys::KeyConfig::from_env();
    key_config.key_file = cli.key_file.clone();
    key_config.new_suite = new_suite;
    if let Some(suite) = new_suite {
        return keys::init(&cli.database, key_config, suite, lang).await;
    }
    zhenxing_store::keys::configure(key_config);
    // Every command anchors the audit chain, so the server and the CLI keep one checkpoint.
    let db = open(
        &cli.database,
        cli.audit_key.clone(),
        cli.audit_checkpoint.clone(),
    )
    .await?;
    if let Command::Restore { file, replace } = &cli.command {
        let reopen = backup::Reopen {
            url: cli.database.clone(),
            audit_key: cli.audit_key.clone(),
            audit_checkpoint: cli.audit_checkpoint.clone(),
        };
        return backup::restore(db, reopen, lang, file, *replace).await;
    }
    let code = match cli.command {
        Command::Demo {
            scale,
            seed,
            bind,
            tls,
        } => {
            let empty = db.stats(None).await?.households == 0;
            if empty {
                generate::run(&db, lang, scale, seed, None).await?;
            }
            for line in demo_banner(lang) {
                eprintln!("{line}");
            }
            let accounts = users::ensure_demo_accounts(&db).await?;
            let cases = demo::seed_cases(&db, &accounts).await?;
            if cases > 0 {
                eprintln!(
                    "{}",
                    crate::output::say(
                        lang,
                        &format!("演示：在演示村登记了{cases}件识别程序，处于不同环节。"),
                        &format!(
                            "Demo: {cases} identification cases opened in the demo village, at different stages."
                        ),
                    )
                );
            }
            let visits = demo_visits::seed_visits(&db, &accounts).await?;
            if visits > 0 {
                eprintln!(
                    "{}",
                    crate::output::say(
                        lang,
                        &format!("演示：为各村村干部的监测户记录了{visits}次走访。"),
                        &format!(
                            "Demo: {visits} visits recorded for the village cadres' monitored households."
                        ),
                    )
                );
            }
            users::print_demo_accounts(&accounts, lang);
            serve(&db, bind, &tls, true).await?;
            ExitCode::SUCCESS
        }
        Command::Generate {
            scale,
            seed,
            ordinary_members,
        } => generate::run(&db, lang, scale, seed, ordinary_members).await?,
        Command::Import(ImportCommand::Registry {
            file,
            dry_run,
            reason,
            legacy_monitoring,
        }) => {
            let monitoring = if legacy_monitoring {
                MonitoringPermission::LegacyMonitoring
            } else {
                MonitoringPermission::ProceduresOnly
            };
            import::registry(&db, lang, &file, dry_run, reason, monitoring).await?
        }
        Command::Import(ImportCommand::Divisions { file, dry_run }) => {
            import::divisions(&db, lang, &file, dry_run).await?
        }
        Command::Export(ExportCommand::Registry { file, .. }) => {
            export::registry(&db, lang, &file, scope.as_ref()).await?
        }
        Command::Export(ExportCommand::Template { file }) => export::template(lang, &file)?,
        Command::Export(ExportCommand::National { file, .. }) => match snapshot_month {
            Some(month) => export::national(&db, lang, &file, scope.as_ref(), month).await?,
            None => ExitCode::FAILURE,
        },
        Command::Stats { json, .. } => stats::run(&db, lang, scope.as_ref(), json).await?,
        Command::Serve { bind, tls } => {
            serve(&db, bind, &tls, false).await?;
            ExitCode::SUCCESS
        }
        Command::Snapshot { .. } => match snapshot_month {
            Some(month) => report::snapshot(&db, lang, month).await?,
            None => ExitCode::FAILURE,
        },
        Command::Report { .. } => match report_request {
            Some(request) => report::write(&db, lang, request).await?,
            None => ExitCode::FAILURE,
        },
        Command::Audit(AuditCommand::Verify { archive: None }) => audit::verify(&db, lang).await?,
        Command::Audit(AuditCommand::Verify {
            archive: Some(file),
        }) => audit::verify_archive(&db, lang, &file).await?,
        Command::Audit(AuditCommand::Archive { to, through }) => {
            audit::archive(&db, lang, &to, through.as_deref()).await?
        }
        Command::Audit(AuditCommand::Retention { months }) => {
            audit::retention(&db, lang, months).await?
        }
        Command::Audit(AuditCommand::Prune { archive, reason }) => {
            audit::prune(&db, lang, &archive, &reason).await?
        }
        Command::Backup { file, encrypt } => {
            backup::backup(&db, &cli.database, lang, &file, encrypt).await?
        }
        Command::Restore { .. } => ExitCode::FAILURE,
        Command::Audit(AuditCommand::Anchor { reason }) => {
            audit::anchor(&db, lang, &reason).await?
        }
        Command::User(cmd) => {
            let action = match user_action {
                Some(action) => action,
                None => users::prepare(&cmd)?,
            };
            users::run(&db, lang, action).await?
        }
        Command::Token(TokenCommand::Create { name, days }) => {
            users::token_create(&db, lang, &name, days).await?
        }
        Command::Monitor(cmd) => monitor::run(&db, lang, cmd, scope.as_ref()).await?,
        Command::Department(DepartmentCommand::Import {
            kind,
            file,
            as_account,
        }) => {
            let kind = match department_kind {
                Some(k) => k,
                None => department::parse_kind(&kind)?,
            };
            department::import(&db, lang, kind, &file, as_account.as_deref()).await?
        }
        Command::Keys(KeysCommand::Status { json }) => keys::status(&db, lang, json).await?,
        Command::Keys(KeysCommand::Rotate { batches }) => keys::rotate(&db, lang, batches).await?,
        Command::Keys(KeysCommand::Retire { key }) => keys::retire(&db, lang, key).await?,
        // Handled before the database is opened.
        Command::Keys(KeysCommand::Init { .. }) => ExitCode::FAILURE,
        Command::Department(DepartmentCommand::Uploads { json }) => {
            department::uploads(&db, lang, json).await?
        }
        Command::Holidays(HolidaysCommand::Add { .. }) => match holidays_to_add {
            Some(periods) => holidays::add(&db, lang, &periods).await?,
            None => ExitCode::FAILURE,
        },
        Command::Holidays(HolidaysCommand::List { year, json }) => {
            holidays::list(&db, lang, year, json).await?
        }
    };
    db.close().await;
    Ok(code)
}

/// Opens the database with the audit chain anchored ([`Db::open_anchored`]).
pub async fn open(
    url: &str,
    audit_key: Option<std::path::PathBuf>,
    audit_checkpoint: Option<std::path::PathBuf>,
) -> Result<Db> {
    // The key ring as configured (`--key-file`, the environment, the default file); its suite
    // keys the audit chain too.
    Ok(Db::open_anchored(
        url,
        audit_key,
        audit_checkpoint,
        &zhenxing_store::keys::configured(),
    )
    .await?)
}

/// A file named on the command line, read whole; its UTF-8 byte-order mark (which spreadsheet
/// programs write) is left out.
fn read_input_file(file: &std::path::Path) -> Result<Vec<u8>> {
    let shown = file.display().to_string();
    let mut bytes = std::fs::read(file).map_err(|e| {
        anyhow::Error::new(zhenxing_core::text!(
            "无法读取文件{shown}：{e}",
            "cannot read the file {shown}: {e}"
        ))
    })?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    Ok(bytes)
}

fn parse_division(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow::Error::new(e.text()))
}

async fn serve(db: &Db, bind: std::net::SocketAddr, tls: &TlsArgs, demo: bool) -> Result<()> {
    let mut config = zhenxing_web::WebConfig::from_env().map_err(anyhow::Error::new)?;
    // The certificate and key are read before anything is bound: a bad file stops the start.
    let tls = match (&tls.tls_cert, &tls.tls_key) {
        (Some(cert), Some(key)) => {
            Some(zhenxing_web::tls::server_config(cert, key).map_err(anyhow::Error::new)?)
        }
        _ => None,
    };
    if tls.is_some() {
        config = config.served_over_tls();
    }
    let state = zhenxing_web::AppState::new(db.clone(), demo, config);
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!("{scheme}://{bind}/");
    let served = async {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        match tls {
            Some(tls) => zhenxing_web::serve_tls_on(listener, state, tls).await,
            None => zhenxing_web::serve_on(listener, state).await,
        }
    };
    served.await.map_err(|e| {
        anyhow::Error::new(Text::new(
            format!("无法在{bind}上提供服务：{e}"),
            format!("cannot serve on {bind}: {e}"),
        ))
    })
}

fn demo_banner(lang: zhenxing_core::Lang) -> Vec<String> {
    vec![crate::output::say(
        lang,
        "演示：数据为合成数据，并非真实人员。",
        "Demo: the registry is synthetic; nobody in it is real.",
    )]
}

/// Who the CLI acts as in the audit trail: the operating-system account.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}
