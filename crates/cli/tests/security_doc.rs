//! docs/security.md tells an assessor which test shows each requirement met. This keeps it true:
//! every `crates/…/FILE.rs::function` it names must be a function in that file, and every file
//! it names must exist.

use std::path::Path;

#[test]
fn every_test_the_security_page_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let page = std::fs::read_to_string(root.join("docs/security.md"))
        .unwrap_or_else(|e| panic!("docs/security.md: {e}"));
    let mut named = 0;
    let mut missing = Vec::new();
    for reference in page
        .split('`')
        .filter(|s| s.starts_with("crates/") && !s.contains(char::is_whitespace))
    {
        let (file, function) = match reference.split_once("::") {
            Some((file, function)) => (file, Some(function)),
            None => (reference, None),
        };
        named += 1;
        let Ok(source) = std::fs::read_to_string(root.join(file)) else {
            missing.push(format!("{reference}: no such file"));
            continue;
        };
        if let Some(function) = function {
            let defined = [format!("fn {function}("), format!("fn {function}<")]
                .iter()
                .any(|d| source.contains(d.as_str()));
            if !defined {
                missing.push(format!("{reference}: no such function in {file}"));
            }
        }
    }
    assert!(
        named >= 30,
        "only {named} references found: did the page's format change?"
    );
    assert!(
        missing.is_empty(),
        "docs/security.md names tests that do not exist:\n{}",
        missing.join("\n")
    );
}
