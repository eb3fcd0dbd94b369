#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The route inventory: every route the web crate registers (each `.route("…", …)` under
//! `crates/web/src`, the path given as a literal or as a `const` of the crate) must be requested
//! by the access matrix, `crates/web/tests/access.rs`, where every route is tried as every
//! role. A new route without its row there fails this test, which names it.
//!
//! The matrix's paths are read from its string literals: `/households/CK0001/edit` requests
//! `/households/{no}/edit`. A `{name}` inside a literal (a `format!` argument) stands for one
//! segment, or for the literal or the list of literals the file binds to `name`
//! (`let base = "…"`, `for step in ["…", …]`); at the start of a literal, a name bound to
//! something else (a `Location` header: `{case}/attachments`) stands for one or more segments,
//! and then the rest must hold a literal segment, so that `{x}/{y}` matches nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Rust sources under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A token of Rust source, as much as this test needs: string literals (unescaped enough for
/// paths), identifiers and single punctuation characters. Comments are skipped.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Ident(String),
    Punct(char),
}

fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && matches!(chars.get(i + 1), Some('"' | '#')) {
            // A raw string: r"…" or r#"…"#.
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(Token::Ident("r".into()));
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let rest: String = chars[j + 1..].iter().collect();
            let end = rest.find(&close).unwrap_or(rest.len());
            out.push(Token::Str(rest[..end].to_owned()));
            i = j + 1 + rest[..end].chars().count() + close.chars().count();
        } else if c == '"' || (c == 'b' && chars.get(i + 1) == Some(&'"')) {
            let byte = c == 'b';
            i += if byte { 2 } else { 1 };
            let mut text = String::new();
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            if !byte {
                out.push(Token::Str(text));
            }
        } else if c == '\'' {
            // A character literal ('"', '\'', 'x') or a lifetime ('a).
            if chars.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            if !c.is_whitespace() {
                out.push(Token::Punct(c));
            }
            i += 1;
        }
    }
    out
}

/// A registered route: its path pattern and the file that registers it.
#[derive(Debug)]
struct Route {
    path: String,
    file: String,
}

/// Every `.route(PATH, …)` under `crates/web/src`, PATH a literal or a `const NAME: &str`
/// of the crate. Refuses `.nest(` and `.route_service(`, whose paths this inventory would miss.
fn registered_routes() -> Vec<Route> {
    let root = workspace();
    let mut files = Vec::new();
    sources(&root.join("crates/web/src"), &mut files);
    files.sort();
    let mut consts = BTreeMap::new();
    let mut found = Vec::new();
    for file in &files {
        let toks = tokens(&std::fs::read_to_string(file).unwrap());
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (i, t) in toks.iter().enumerate() {
            // const NAME: &str = "…";
            if let (Token::Ident(k), Some(Token::Ident(n)), Some(Token::Str(s))) =
                (t, toks.get(i + 1), toks.get(i + 6))
                && k == "const"
                && toks.get(i + 2..i + 6)
                    == Some(&[
                        Token::Punct(':'),
                        Token::Punct('&'),
                        Token::Ident("str".into()),
                        Token::Punct('='),
                    ])
            {
                consts.insert(n.clone(), s.clone());
            }
            if t != &Token::Punct('.') {
                continue;
            }
            match (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
                (Some(Token::Ident(m)), Some(Token::Punct('(')), Some(arg)) if m == "route" => {
                    found.push((arg.clone(), name.clone()));
                }
                (Some(Token::Ident(m)), Some(Token::Punct('(')), _)
                    if m == "nest" || m == "route_service" || m == "nest_service" =>
                {
                    panic!(
                        "{name} calls .{m}(: the route inventory (crates/tidy/tests/routes.rs) \
                         reads only .route(PATH, …); teach it this call first"
                    );
                }
                _ => {}
            }
        }
    }
    found
        .into_iter()
        .map(|(arg, file)| {
            let path = match &arg {
                Token::Str(s) => s.clone(),
                Token::Ident(n) => consts.get(n).cloned().unwrap_or_else(|| {
                    panic!("{file}: .route({n}, …): no `const {n}: &str` in crates/web/src")
                }),
                other => panic!("{file}: .route({other:?}, …) is neither a literal nor a const"),
            };
            Route { path, file }
        })
        .collect()
}

/// What a part of a matrix path stands for.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Exactly this segment.
    Literal(String),
    /// Any one segment (`{id}` in `/cases/{id}`, or `SB-{id}`).
    One,
    /// One or more leading segments (a path held in a variable: `{case}/attachments`).
    Prefix,
}

/// The paths the matrix requests, as parts; `{name}`s bound in the file to literals are
/// expanded to each of them.
fn matrix_paths(source: &str) -> Vec<Vec<Part>> {
    let toks = tokens(source);
    // let NAME = "…";   for NAME in ["…", …]
    let mut bound: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, t) in toks.iter().enumerate() {
        match (t, toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)) {
            (
                Token::Ident(k),
                Some(Token::Ident(n)),
                Some(Token::Punct('=')),
                Some(Token::Str(s)),
            ) if k == "let" => {
                bound.entry(n.clone()).or_default().push(s.clone());
            }
            (Token::Ident(k), Some(Token::Ident(n)), Some(Token::Ident(in_)), _)
                if k == "for" && in_ == "in" && toks.get(i + 3) == Some(&Token::Punct('[')) =>
            {
                let mut values = Vec::new();
                for t in &toks[i + 4..] {
                    match t {
                        Token::Str(s) => values.push(s.clone()),
                        Token::Punct(',') => {}
                        _ => break,
                    }
                }
                bound.entry(n.clone()).or_default().extend(values);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in &toks {
        let Token::Str(s) = t else { continue };
        if !(s.starts_with('/') || s.starts_with('{')) {
            continue;
        }
        for path in expand(s, &bound) {
            let path = path.split('?').next().unwrap_or_default().to_owned();
            if let Some(parts) = parts(&path) {
                out.push(parts);
            }
        }
    }
    out
}

/// `text` with each `{name}` bound to literals replaced by each of them in turn.
fn expand(text: &str, bound: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut search = 0;
    while let Some(open) = text[search..].find('{').map(|o| o + search) {
        let Some(close) = text[open..].find('}').map(|c| c + open) else {
            break;
        };
        if let Some(values) = bound.get(&text[open + 1..close]) {
            return values
                .iter()
                .flat_map(|v| {
                    expand(
                        &format!("{}{v}{}", &text[..open], &text[close + 1..]),
                        bound,
                    )
                })
                .collect();
        }
        search = close + 1;
    }
    vec![text.to_owned()]
}

/// A matrix path as parts; `None` for one that cannot name a route (`{x}/{y}`).
fn parts(path: &str) -> Option<Vec<Part>> {
    let mut out = Vec::new();
    let rest = if let Some(stripped) = path.strip_prefix('/') {
        stripped
    } else {
        // A leading `{name}` bound to nothing: a path held in a variable.
        let close = path.find('}')?;
        out.push(Part::Prefix);
        path[close + 1..].strip_prefix('/')?
    };
    if !rest.is_empty() {
        for segment in rest.split('/') {
            out.push(if segment.contains('{') {
                Part::One
            } else {
                Part::Literal(segment.to_owned())
            });
        }
    }
    let has_literal = out.iter().any(|p| matches!(p, Part::Literal(_)));
    (out.first() != Some(&Part::Prefix) || has_literal).then_some(out)
}

/// Whether the matrix path `parts` requests the route `pattern` (`/cases/{id}/steps/{step}`).
fn requests(parts: &[Part], pattern: &str) -> bool {
    let route: Vec<&str> = pattern
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let is_parameter = |segment: &str| segment.starts_with('{') && segment.ends_with('}');
    let fits = |parts: &[Part], route: &[&str]| {
        parts.len() == route.len()
            && parts.iter().zip(route).all(|(part, segment)| match part {
                Part::Literal(l) => l == segment || is_parameter(segment),
                Part::One => true,
                Part::Prefix => false,
            })
    };
    match parts.first() {
        Some(Part::Prefix) => {
            // After a leading variable, some literal must meet the same literal in the route:
            // `{warning}/assign` is `/warnings/{id}/assign`, not `/tickets/{id}`.
            let tail = &parts[1..];
            (1..route.len()).any(|skip| {
                let rest = &route[skip..];
                fits(tail, rest)
                    && tail
                        .iter()
                        .zip(rest)
                        .any(|(part, segment)| *part == Part::Literal((*segment).to_owned()))
            })
        }
        _ => fits(parts, &route),
    }
}

#[test]
fn every_registered_route_has_a_row_in_the_access_matrix() {
    let routes = registered_routes();
    assert!(
        routes.len() > 50,
        "the inventory found only {} routes under crates/web/src: is it still reading them?",
        routes.len()
    );
    let matrix = workspace().join("crates/web/tests/access.rs");
    let paths = matrix_paths(&std::fs::read_to_string(&matrix).unwrap());
    let missing: Vec<String> = routes
        .iter()
        .filter(|route| !paths.iter().any(|p| requests(p, &route.path)))
        .map(|route| format!("{} (registered in {})", route.path, route.file))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the access matrix (crates/web/tests/access.rs: request each as \
         every role and assert what each gets): {missing:#?}"
    );
}

#[test]
fn the_matcher_reads_paths_as_the_matrix_writes_them() {
    let source = r#"
        let base = "/households/CK0001/assistance";
        c.get(&format!("{base}/pairings/{pairing}/end"));
        for step in ["assign", "verify"] { c.post_form(&format!("{warning}/{step}"), &[]); }
        c.get(&format!("{case}/attachments/1"));
        c.get("/reports/counts?division=500229102000"); // "/not/a/request"
        c.get(&format!("{a}/{b}"));
    "#;
    let paths = matrix_paths(source);
    let requested = |route: &str| paths.iter().any(|p| requests(p, route));
    assert!(requested("/households/{no}/assistance"));
    assert!(requested("/households/{no}/assistance/pairings/{id}/end"));
    assert!(requested("/warnings/{id}/assign"));
    assert!(requested("/warnings/{id}/verify"));
    assert!(
        !requested("/warnings/{id}/dismiss"),
        "only the listed steps"
    );
    assert!(requested("/cases/{id}/attachments/{file}"));
    assert!(!requested("/cases/{id}/attachments"), "one segment short");
    assert!(requested("/reports/{name}"));
    assert!(!requested("/not/a/request"), "comments are not requests");
    assert!(!requested("/tickets/{id}"), "{{a}}/{{b}} requests nothing");
}
