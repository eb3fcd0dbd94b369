//! What the CLI prints: reports, figures, errors; progress bars on standard error.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use zhenxing_core::{Lang, Text};
use zhenxing_io::registry::Problem;
use zhenxing_store::StoreError;

/// Prints a line on standard output, like `println!`, through [`write_line`]: every command
/// prints with it, so that a closed standard output ends any of them quietly.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

/// Writes a line on standard output. When the reader has gone (`zhenxing stats | head -1`) the
/// program ends at once, quietly and with success, as Unix tools do (`println!` would panic);
/// any other failure to write ends it with a message and failure.
pub fn write_line(line: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("cannot write to standard output: {e}");
            std::process::exit(1)
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal (CI logs, pipes).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({elapsed}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

pub fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub fn say(lang: Lang, zh: &str, en: &str) -> String {
    Text::new(zh, en).get(lang).to_owned()
}

/// Prints problems (all of them) and at most `max_warnings` warnings, then a summary line.
pub fn print_report(lang: Lang, problems: &[Problem], warnings: &[Problem], max_warnings: usize) {
    for p in problems {
        outln!("{}", p.render(lang));
    }
    if !warnings.is_empty() {
        outln!(
            "{}",
            match lang {
                Lang::Zh => format!("提示（不阻止导入）共{}条：", warnings.len()),
                Lang::En => format!(
                    "{} warning(s) (they do not block the import):",
                    warnings.len()
                ),
            }
        );
        for w in warnings.iter().take(max_warnings) {
            outln!("  {}", w.render(lang));
        }
        if warnings.len() > max_warnings {
            outln!(
                "  {}",
                match lang {
                    Lang::Zh => format!("……另有{}条", warnings.len() - max_warnings),
                    Lang::En => format!("... and {} more", warnings.len() - max_warnings),
                }
            );
        }
    }
}

/// An error for a person: the store's and the parsers' errors carry both languages.
pub fn error_text(e: &anyhow::Error, lang: Lang) -> String {
    if let Some(StoreError::Config(text)) = e.downcast_ref::<StoreError>() {
        return text.get(lang).to_owned();
    }
    if let Some(text) = e.downcast_ref::<Text>() {
        return text.get(lang).to_owned();
    }
    let prefix = say(lang, "错误", "error");
    format!("{prefix}: {e:#}")
}
