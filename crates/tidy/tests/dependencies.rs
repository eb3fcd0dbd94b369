#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! Which crate may depend on what, checked against the real `cargo metadata` (the resolved
//! graph, so a renamed dependency such as `sha2-for-hmac` counts as the package it is).
//! Only normal and build dependencies count: dev-dependencies are the tests' business (the CLI's
//! and the web's tests open the audit tables with `sqlx` to tamper with them, the web's tests
//! drive the server with `hyper-util`'s client).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Crates that speak SQL or link SQLite: only `zhenxing-store` may depend on them.
const SQL: &[&str] = &[
    "sqlx",
    "sqlx-core",
    "sqlx-sqlite",
    "sqlx-postgres",
    "rusqlite",
    "libsqlite3-sys",
];

/// Crates that serve HTTP or render HTML (the server, its TLS, its templates): only
/// `zhenxing-web` may depend on them.
const HTTP: &[&str] = &[
    "axum",
    "axum-core",
    "hyper",
    "hyper-util",
    "tower",
    "tower-http",
    "tower-layer",
    "tower-service",
    "rustls",
    "tokio-rustls",
    "askama",
];

/// The crates whose whole list of dependencies ARCHITECTURE.md states, each dependency with
/// the reason it is allowed. Anything else is refused: add it here, with its reason, only if
/// the design changes (and ARCHITECTURE.md with it).
const ONLY: &[(&str, &[(&str, &str)])] = &[
    (
        "zhenxing-core",
        &[
            (
                "serde",
                "rule sets, forms and enumerations are data that the store and the web read and write as JSON; core itself does no I/O",
            ),
            (
                "serde_json",
                "core::mask masks the ID and phone numbers inside the audit trail's JSON, as a value in memory",
            ),
            (
                "time",
                "dates are domain values: birth dates in ID numbers, deadlines, China's day",
            ),
        ],
    ),
    (
        "zhenxing-synth",
        &[
            (
                "zhenxing-core",
                "it generates households of the domain's types",
            ),
            (
                "time",
                "birth dates and the day the registry is generated for",
            ),
        ],
    ),
    (
        "zhenxing-engine",
        &[
            (
                "zhenxing-core",
                "the rules it evaluates and the facts it evaluates them on",
            ),
            ("rayon", "households are classified in parallel"),
            (
                "rustc-hash",
                "the snapshot groups members under households by a fast integer-keyed map",
            ),
        ],
    ),
    (
        "zhenxing-charts",
        &[
            ("zhenxing-core", "`Lang`, the reader's language"),
            (
                "serde_json",
                "to read the built-in GeoJSON of the county map",
            ),
        ],
    ),
];

/// The layers: which workspace crates each workspace crate may depend on. Every crate of the
/// workspace must have a row, so that a new crate states its place. `zhenxing-app` (the use
/// cases both front ends call, issue 16) sits above the store and the engine, below the front
/// ends; the engine is pure evaluation, and the pass that reads the store is the app's.
const LAYERS: &[(&str, &[&str])] = &[
    ("zhenxing-core", &[]),
    ("zhenxing-crypto", &[]),
    ("zhenxing-io", &["zhenxing-core"]),
    ("zhenxing-synth", &["zhenxing-core"]),
    ("zhenxing-charts", &["zhenxing-core"]),
    ("zhenxing-store", &["zhenxing-core", "zhenxing-crypto"]),
    ("zhenxing-engine", &["zhenxing-core"]),
    (
        "zhenxing-app",
        &[
            "zhenxing-core",
            "zhenxing-crypto",
            "zhenxing-store",
            "zhenxing-io",
            "zhenxing-engine",
        ],
    ),
    (
        "zhenxing-web",
        &[
            "zhenxing-core",
            "zhenxing-store",
            "zhenxing-io",
            "zhenxing-engine",
            "zhenxing-charts",
            "zhenxing-app",
        ],
    ),
    (
        "zhenxing",
        &[
            "zhenxing-core",
            "zhenxing-crypto",
            "zhenxing-store",
            "zhenxing-io",
            "zhenxing-synth",
            "zhenxing-engine",
            "zhenxing-charts",
            "zhenxing-app",
            "zhenxing-web",
        ],
    ),
    ("zhenxing-tidy", &[]),
];

/// Each workspace crate's normal and build dependencies, by package name.
struct Graph {
    dependencies: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// From `cargo metadata`, run by the cargo that runs the tests, for the host platform
    /// only (so that it needs no download of other platforms' crates).
    fn load() -> Graph {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let version = Command::new(&rustc).arg("-vV").output().unwrap();
        let version = String::from_utf8(version.stdout).unwrap();
        let host = version
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .unwrap_or_else(|| panic!("no host in `{rustc} -vV`: {version}"));
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--filter-platform",
                host,
            ])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Graph::from_metadata(&serde_json::from_slice(&output.stdout).unwrap())
    }

    fn from_metadata(metadata: &serde_json::Value) -> Graph {
        let names: BTreeMap<&str, &str> = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let members: BTreeSet<&str> = metadata["workspace_members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        let mut dependencies = BTreeMap::new();
        for node in metadata["resolve"]["nodes"].as_array().unwrap() {
            let id = node["id"].as_str().unwrap();
            if !members.contains(id) {
                continue;
            }
            let used: BTreeSet<String> = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].as_str() != Some("dev"))
                })
                .map(|dep| names[dep["pkg"].as_str().unwrap()].to_owned())
                .collect();
            dependencies.insert(names[id].to_owned(), used);
        }
        assert!(
            dependencies.contains_key("zhenxing-core") && dependencies.contains_key("zhenxing"),
            "the workspace's crates in cargo metadata: {:?}",
            dependencies.keys()
        );
        Graph { dependencies }
    }

    /// Every (crate, dependency) where a crate other than `owner` depends on one of `crates`.
    fn outside(&self, owner: &str, crates: &[&str]) -> Vec<String> {
        let mut breaches = Vec::new();
        for (krate, deps) in &self.dependencies {
            for dep in deps {
                if krate != owner && crates.contains(&dep.as_str()) {
                    breaches.push(format!("{krate} depends on {dep}"));
                }
            }
        }
        breaches
    }
}

#[test]
fn only_the_store_speaks_sql() {
    let breaches = Graph::load().outside("zhenxing-store", SQL);
    assert!(
        breaches.is_empty(),
        "only zhenxing-store may depend on SQL crates (ARCHITECTURE.md: `store` is the only \
         crate that speaks SQL): {breaches:#?}"
    );
}

#[test]
fn only_the_web_crate_serves_http() {
    let breaches = Graph::load().outside("zhenxing-web", HTTP);
    assert!(
        breaches.is_empty(),
        "only zhenxing-web may depend on the HTTP server, TLS and template crates \
         (ARCHITECTURE.md: `web` is the only crate that knows HTTP and HTML): {breaches:#?}"
    );
}

#[test]
fn core_synth_and_charts_use_only_their_listed_crates() {
    let graph = Graph::load();
    let mut breaches = Vec::new();
    for (krate, allowed) in ONLY {
        let deps = &graph.dependencies[*krate];
        for dep in deps {
            if !allowed.iter().any(|(name, _)| name == dep) {
                breaches.push(format!(
                    "{krate} depends on {dep}, which is not in its list (tests/dependencies.rs, ONLY)"
                ));
            }
        }
    }
    assert!(breaches.is_empty(), "{breaches:#?}");
}

#[test]
fn workspace_crates_depend_only_on_the_layers_below() {
    let graph = Graph::load();
    let workspace: BTreeSet<&str> = graph.dependencies.keys().map(String::as_str).collect();
    let mut breaches = Vec::new();
    for (krate, deps) in &graph.dependencies {
        let Some((_, allowed)) = LAYERS.iter().find(|(name, _)| name == krate) else {
            breaches.push(format!(
                "{krate} has no row in LAYERS (tests/dependencies.rs): say which workspace crates it may use"
            ));
            continue;
        };
        for dep in deps {
            if workspace.contains(dep.as_str()) && !allowed.contains(&dep.as_str()) {
                breaches.push(format!(
                    "{krate} depends on {dep}, which its row in LAYERS does not allow"
                ));
            }
        }
    }
    assert!(breaches.is_empty(), "{breaches:#?}");
}
