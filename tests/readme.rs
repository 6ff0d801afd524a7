//! The README is the lab's manual: every file or folder of the repository it
//! names must exist, so a renamed test, fixture or module cannot leave it
//! pointing at nothing.

use std::path::Path;

/// Where repository paths start; `reports/out/` is where runs land (ignored
/// by git, absent on a fresh clone) and is not a file the README promises.
const ROOTS: [&str; 13] = [
    "fixtures/",
    "harness/",
    "suites/",
    "reports/",
    "store/",
    "station-page/",
    "model/",
    "src/",
    "tests/",
    "benches/",
    "scripts/",
    "fuzz/",
    ".ci/",
];
const ROOT_FILES: [&str; 5] = [
    "README.md",
    "BENCHMARKS.md",
    "Cargo.toml",
    "justfile",
    "Cargo.lock",
];

/// Every repository path the text names: a run of path characters that
/// starts at a word boundary with one of the roots, or a root file's name.
fn named_paths(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-');
    let mut found = Vec::new();
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_path_char(c) {
            word.push(c);
            continue;
        }
        let w = word.trim_end_matches(['.', ',']).to_string();
        word.clear();
        if w.starts_with("reports/out") {
            continue;
        }
        if ROOTS.iter().any(|r| w.starts_with(r)) || ROOT_FILES.contains(&w.as_str()) {
            found.push(w);
        }
    }
    found.sort();
    found.dedup();
    found
}

fn missing(text: &str, root: &Path) -> Vec<String> {
    named_paths(text)
        .into_iter()
        .filter(|p| !root.join(p).exists())
        .collect()
}

#[test]
fn every_file_the_readme_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let named = named_paths(&readme);
    assert!(
        named.len() > 40,
        "the scan finds the README's paths: {named:?}"
    );
    let gone = missing(&readme, root);
    assert!(
        gone.is_empty(),
        "README.md names files that do not exist: {gone:#?}"
    );
}

#[test]
fn a_path_that_does_not_exist_is_caught() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = "see `fixtures/rigs/sim.toml`, `tests/issue4_suites.rs` and reports/out/x.";
    assert_eq!(
        missing(text, root),
        vec!["tests/issue4_suites.rs".to_string()]
    );
}

#[test]
fn the_readme_starts_with_the_install_the_first_run_and_the_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let head: String = readme.lines().take(12).collect::<Vec<_>>().join("\n");
    assert!(head.contains("cargo install --path ."), "{head}");
    assert!(head.contains("metrig run fixtures/plans/"), "{head}");
    assert!(head.contains("cargo test --workspace"), "{head}");
    for stale in ["Still to come", "issue 1", "issue 2", "issue 8", "shared/"] {
        assert!(!readme.contains(stale), "stale text in README.md: {stale}");
    }
}
