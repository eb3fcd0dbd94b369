//! End-to-end tests of `zhenxing report` and `zhenxing snapshot` on a generated registry: the
//! workbooks are read back with calamine (title, headers, totals, sheet name) and their sheet
//! XML (frozen panes), the CSV files byte by byte (BOM, header, totals), and every refused
//! argument leaves no file behind. Like `cli.rs`, every scenario runs on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` names a server.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use calamine::{Data, Reader, Xlsx, open_workbook};
use common::{Backend, Env, stats, zx};
use std::io::Read;
use std::path::Path;
use zhenxing_io::reports::REPORTS;

scenarios!(reports_write_workbooks_and_csv, bad_arguments_write_nothing);

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        other => format!("{other}"),
    }
}

/// The sheet's XML, for what calamine does not expose (frozen panes).
fn sheet_xml(path: &Path) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).expect("the workbook is a zip archive");
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .expect("one worksheet")
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// Checks one workbook and returns its data rows and its totals row (numbers by column; text
/// columns as NaN).
fn check_workbook(path: &Path, code: &str) -> (Vec<Vec<Data>>, Vec<Data>) {
    let info = REPORTS.iter().find(|r| r.code == code).unwrap();
    let mut wb: Xlsx<_> = open_workbook(path).expect("calamine opens the workbook");
    assert_eq!(wb.sheet_names(), vec![info.sheet_zh.to_owned()]);
    let range = wb.worksheet_range(info.sheet_zh).unwrap();
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let title = text(&rows[0][0]);
    // The title names the level of the rows (分区县, 分乡镇（街道）, 分村（社区）).
    use zhenxing_core::{DivisionLevel, Lang};
    assert!(
        [
            DivisionLevel::County,
            DivisionLevel::Township,
            DivisionLevel::Village
        ]
        .into_iter()
        .any(|level| title.contains(&info.title_for(Lang::Zh, level))
            && title.contains(&info.title_for(Lang::En, level))),
        "{title}"
    );
    assert_eq!(text(&rows[2][0]), "名称");
    assert_eq!(text(&rows[3][0]), "Name");
    assert_eq!(text(&rows[2][1]), "区划代码");
    let total_at = rows
        .iter()
        .position(|r| text(&r[0]) == "合计 Total")
        .expect("a totals row");
    let totals = rows[total_at].clone();
    let data: Vec<Vec<Data>> = rows[4..total_at].to_vec();
    // Under a blank row, the footer an upward report carries.
    let footer: Vec<String> = rows[total_at + 2..]
        .iter()
        .map(|r| format!("{}|{}", text(&r[0]), text(&r[1])))
        .collect();
    assert_eq!(footer.len(), 4, "{code}: {footer:?}");
    assert!(
        footer[0].starts_with("填报单位 Reporting unit|"),
        "{footer:?}"
    );
    assert!(
        footer[1].starts_with("填表人 Prepared by|")
            && footer[1].len() > "填表人 Prepared by|".len(),
        "{footer:?}"
    );
    assert_eq!(footer[2], "审核人 Reviewed by|");
    assert!(
        footer[3].starts_with("报出日期 Date of report|20"),
        "{footer:?}"
    );
    // Every numeric column's total is the sum of its rows (amounts to the fen).
    for (c, total) in totals.iter().enumerate().skip(1) {
        if matches!(total, Data::String(_) | Data::Empty) {
            continue;
        }
        let sum: f64 = data.iter().map(|r| number(&r[c])).sum();
        assert!(
            (sum - number(total)).abs() < 0.005,
            "{code} column {c}: {sum} ≠ {total}"
        );
    }
    // The totals are formulas over the data rows.
    let formulas = wb.worksheet_formula(info.sheet_zh).unwrap();
    let last = total_at as u32;
    let first_number = totals
        .iter()
        .position(|t| matches!(t, Data::Float(_) | Data::Int(_)))
        .expect("a numeric column");
    let letter = char::from(b'A' + first_number as u8);
    let f = formulas
        .get_value((last, first_number as u32))
        .map(String::as_str)
        .unwrap_or("");
    if data.is_empty() {
        assert_eq!(f, "0", "{code}");
    } else {
        assert_eq!(f, format!("SUM({letter}5:{letter}{last})"), "{code}");
    }
    let xml = sheet_xml(path);
    assert!(
        xml.contains(r#"<pane xSplit="1" ySplit="4" topLeftCell="B5" activePane="bottomRight" state="frozen"/>"#),
        "{code}: panes frozen below the headers: {}",
        &xml[..xml.len().min(1500)]
    );
    (data, totals)
}

fn reports_write_workbooks_and_csv(env: Env) {
    let db = env.fresh_db("reports");
    zx(&db, &["generate", "--scale", "0.002"]).assert_success("generate");
    let whole = stats(&db, &[]);
    zx(&db, &["snapshot"])
        .assert_success("snapshot")
        .assert_contains("1070 divisions", "rows of a snapshot");
    zx(&db, &["snapshot"]).assert_contains("1070 rows replaced", "taken again");
    let list = zx(&db, &["report", "--list"]);
    list.assert_success("list");
    for r in REPORTS {
        list.assert_contains(r.code, "list")
            .assert_contains(r.title_zh, "list")
            .assert_contains(r.title_en, "list");
    }
    for r in REPORTS {
        let xlsx = env.path(&format!("{}.xlsx", r.code));
        let csv = env.path(&format!("{}.csv", r.code));
        zx(&db, &["report", r.code, "--out", xlsx.to_str().unwrap()]).assert_success(r.code);
        zx(&db, &["report", r.code, "--out", csv.to_str().unwrap()]).assert_success(r.code);
        let (data, totals) = check_workbook(&xlsx, r.code);
        if r.code != "measures" {
            assert_eq!(data.len(), 38, "{}: one row per county", r.code);
        }
        let bytes = std::fs::read(&csv).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{}: a BOM", r.code);
        let body = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(
            lines[0].starts_with("名称 / Name,区划代码 / Code,"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines.len(),
            data.len() + 2 + 5,
            "{}: header, rows, totals, a blank line and the footer's four",
            r.code
        );
        let csv_totals: Vec<&str> = lines[data.len() + 1].split(',').collect();
        assert!(
            lines[data.len() + 3].starts_with("填报单位 Reporting unit,"),
            "{}",
            r.code
        );
        assert_eq!(csv_totals[0], "合计 / Total");
        for (c, t) in totals.iter().enumerate() {
            if let Data::Float(_) | Data::Int(_) = t {
                let v: f64 = csv_totals[c].parse().unwrap();
                assert!(
                    (v - number(t)).abs() < 0.005,
                    "{}: CSV and XLSX totals",
                    r.code
                );
            }
        }
        if r.code == "counts" {
            // Lifted-out and ordinary households add up to the registry's households.
            let households = number(&totals[2]) + number(&totals[4]);
            assert_eq!(households as i64, whole["households"].as_i64().unwrap());
            assert_eq!(
                number(&totals[3]) as i64,
                3812,
                "members lifted out at scale 0.002"
            );
        }
        if r.code == "coverage" {
            assert_eq!(
                number(&totals[2]) as i64,
                whole["monitored_households"].as_i64().unwrap()
            );
        }
        // LibreOffice opens the workbook without repair and computes the same totals.
        if let Some(converted) = libreoffice_csv(&env, &xlsx) {
            let last = converted
                .lines()
                .find(|l| l.trim_start_matches('"').starts_with("合计"))
                .unwrap()
                .to_owned();
            let cells: Vec<&str> = last.split(',').collect();
            assert!(cells[0].contains("合计"), "{last}");
            for (c, t) in totals.iter().enumerate() {
                if let Data::Float(_) | Data::Int(_) = t {
                    let v: f64 = cells[c].trim_matches('"').parse().unwrap_or(f64::NAN);
                    assert!(
                        (v - number(t)).abs() < 0.005,
                        "{}: LibreOffice's total {c}: {last}",
                        r.code
                    );
                }
            }
        }
    }
    // A county's townships.
    let county = env.path("county.xlsx");
    zx(
        &db,
        &[
            "report",
            "counts",
            "--division",
            "500229000000",
            "--out",
            county.to_str().unwrap(),
        ],
    )
    .assert_success("a county");
    let (data, _) = check_workbook(&county, "counts");
    assert!(data.iter().all(|r| text(&r[1]).starts_with("500229")));
    // A village's table is its one row, which it sends to its township.
    let township = text(&data[0][1]);
    let village = env.path("village.xlsx");
    let township_file = env.path("township.xlsx");
    let report = |code: &str, file: &Path| {
        zx(
            &db,
            &[
                "report",
                "coverage",
                "--division",
                code,
                "--out",
                file.to_str().unwrap(),
            ],
        )
        .assert_success(code);
    };
    report(&township, &township_file);
    let (township_rows, _) = check_workbook(&township_file, "coverage");
    report(&text(&township_rows[0][1]), &village);
    let (village_rows, _) = check_workbook(&village, "coverage");
    assert_eq!(village_rows.len(), 1);
    let first = &township_rows[0];
    assert_eq!(
        text(&village_rows[0][1]),
        text(&first[1]),
        "the township's first village"
    );
    assert_eq!(
        number(&village_rows[0][2]),
        number(&first[2]),
        "the same monitored households"
    );
}

/// The workbook converted to CSV by LibreOffice (`soffice --headless --convert-to csv`), when
/// LibreOffice is installed; `None` otherwise (outside CI), which the test says on stderr. In CI
/// (`CI` set) a missing LibreOffice fails the test, so the check cannot be skipped silently.
fn libreoffice_csv(env: &Env, xlsx: &Path) -> Option<String> {
    let soffice = ["soffice", "libreoffice"].into_iter().find(|p| {
        std::process::Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(soffice) = soffice else {
        assert!(
            std::env::var_os("CI").is_none(),
            "LibreOffice (soffice) is needed in CI"
        );
        eprintln!("skipped: LibreOffice is not installed");
        return None;
    };
    let out = env.path("lo");
    let profile = env.path("lo-profile");
    let run = std::process::Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false",
            "--outdir",
        ])
        .arg(&out)
        .arg(xlsx)
        .output()
        .expect("soffice runs");
    assert!(
        run.status.success(),
        "soffice: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let name = xlsx.file_stem().unwrap().to_str().unwrap();
    let bytes = std::fs::read(out.join(format!("{name}.csv"))).expect("LibreOffice wrote a CSV");
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn bad_arguments_write_nothing(env: Env) {
    let db = env.fresh_db("refused");
    zx(&db, &["generate", "--scale", "0.001"]).assert_success("generate");
    let out = env.path("out.xlsx");
    let o = out.to_str().unwrap();
    let ods = env.path("out.ods");
    for (args, says) in [
        (
            vec!["report", "counts", "--out", ods.to_str().unwrap()],
            ".xlsx or .csv",
        ),
        (
            vec!["report", "counts", "--month", "2999-01", "--out", o],
            "has not begun",
        ),
        (
            vec!["report", "counts", "--month", "2026-13", "--out", o],
            "YYYY-MM",
        ),
        (
            vec!["report", "counts", "--month", "yesterday", "--out", o],
            "YYYY-MM",
        ),
        (vec!["report", "nothing", "--out", o], "no report named"),
        (
            vec!["report", "counts", "--division", "500229999000", "--out", o],
            "not in the registry",
        ),
        (
            vec!["report", "counts", "--division", "5002", "--out", o],
            "12 digits",
        ),
        (
            vec!["report", "counts", "--division", "500229100999", "--out", o],
            "not in the registry",
        ),
        (vec!["report", "counts"], "--out"),
        (vec!["report"], "--list"),
        (vec!["snapshot", "--month", "2999-01"], "has not begun"),
        (vec!["snapshot", "--month", "2020-01"], "only this month"),
    ] {
        let run = zx(&db, &args);
        assert!(!run.success(), "{}", run.all());
        run.assert_contains(says, "the reason");
        assert!(
            !out.exists() && !ods.exists(),
            "nothing written: {}",
            run.all()
        );
    }
    // No stray temporary file either.
    let left: Vec<_> = std::fs::read_dir(env.path(""))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
