//! The harness's layers go one way (issue 14): this test reads every file
//! under `harness/src`, collects the `crate::<module>` (and `super::`…)
//! paths it names, and builds the graph of top-level modules. It fails if
//! the graph has a cycle, or if a file under `rig/` names `sim`, `drivers`
//! or `station`.
//!
//! Run it alone with `cargo test -p metrig-harness --test layers -- --nocapture`:
//! it prints the graph it found.
//!
//! Inside each folder the same holds one level down: no two modules of one
//! folder (`run/plan.rs`, `run/suite.rs`, `rig/lockstep/`…) import each
//! other, directly or round a circle. Nothing is exempt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable source folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`rig/lockstep/mod.rs` → `rig`).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without comments (a doc comment may name a module
/// it does not import) and without string literals.
fn code_only(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut in_str = false;
        let mut prev = ' ';
        for ch in code.chars() {
            if ch == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(ch);
            }
            prev = ch;
        }
        out.push('\n');
    }
    out
}

/// The top-level modules a file names through `crate::`, including the
/// grouped form `crate::{a, b::c}`, and `super::` paths that climb out of
/// its module (`super::super::sim` from `rig/lockstep/x.rs`).
fn names(file: &Path, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let text = code_only(&std::fs::read_to_string(file).expect("readable"));
    let mut found = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    // `super::super::x` from a file two folders deep reaches the crate root.
    let depth = file
        .strip_prefix(src())
        .expect("under src")
        .components()
        .count();
    let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
    let climb_to_root = if is_mod { depth - 1 } else { depth };
    if climb_to_root >= 1 {
        let prefix = "super::".repeat(climb_to_root);
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&prefix) {
            rest = &rest[i + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found.retain(|m| modules.contains(m));
    found
}

/// Module → the modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph() -> (Graph, Vec<(PathBuf, BTreeSet<String>)>) {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f))
        .filter(|m| m != "lib")
        .collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut per_file = Vec::new();
    for f in &files {
        let m = module_of(f);
        if m == "lib" {
            continue;
        }
        let mut n = names(f, &modules);
        n.remove(&m);
        g.entry(m).or_default().extend(n.iter().cloned());
        per_file.push((f.clone(), n));
    }
    (g, per_file)
}

/// A cycle in `g`, if there is one, as the path round it.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, g, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_two_harness_modules_import_each_other() {
    let (g, _) = graph();
    for (m, deps) in &g {
        println!(
            "{m} -> {}",
            deps.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert!(g.contains_key("rig") && g.contains_key("station"), "{g:?}");
    if let Some(cycle) = find_cycle(&g) {
        panic!(
            "an import circle between harness modules: {}",
            cycle.join(" -> ")
        );
    }
}

/// The folder and module a file two levels down belongs to:
/// `run/plan.rs` → (run, plan), `rig/lockstep/x.rs` → (rig, lockstep);
/// `None` for a top-level file or a folder's own `mod.rs`.
fn submodule_of(file: &Path) -> Option<(String, String)> {
    let rel = file.strip_prefix(src()).expect("under src");
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    match parts.as_slice() {
        [_] | [_, "mod.rs"] => None,
        [folder, sub, ..] => Some((folder.to_string(), sub.trim_end_matches(".rs").to_string())),
        [] => None,
    }
}

/// The names `text` reaches after `prefix`, single (`prefix` x) or grouped
/// (`prefix`{x, y::z}); a match inside a longer `super::` chain is not one.
fn after(text: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(prefix) {
        let at = from + i;
        from = at + prefix.len();
        let rest = &text[from..];
        if text[..at].ends_with("::") || rest.starts_with("super::") {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            found.extend(group[..end].split(',').map(ident));
        } else {
            found.insert(ident(rest));
        }
    }
    found
}

/// Folder → (module → the modules of the same folder it names), through
/// `super::` paths that climb to the folder and `crate::<folder>::` paths.
fn folder_graphs() -> BTreeMap<String, Graph> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let subs: BTreeSet<(String, String)> = files.iter().filter_map(|f| submodule_of(f)).collect();
    let mut out: BTreeMap<String, Graph> = BTreeMap::new();
    for f in &files {
        let Some((folder, me)) = submodule_of(f) else {
            continue;
        };
        let rel = f.strip_prefix(src()).expect("under src");
        let is_mod = f.file_name().is_some_and(|n| n == "mod.rs");
        let climb = rel.components().count() - 1 - usize::from(is_mod);
        let text = code_only(&std::fs::read_to_string(f).expect("readable"));
        let mut named = after(&text, &"super::".repeat(climb));
        named.extend(after(&text, &format!("crate::{folder}::")));
        named.retain(|n| *n != me && subs.contains(&(folder.clone(), n.clone())));
        out.entry(folder)
            .or_default()
            .entry(me)
            .or_default()
            .extend(named);
    }
    out
}

#[test]
fn no_two_modules_of_one_folder_import_each_other() {
    let graphs = folder_graphs();
    assert!(
        graphs
            .get("run")
            .and_then(|g| g.get("schedule"))
            .is_some_and(|d| d.contains("plan") && d.contains("suite")),
        "the scanner sees run/schedule.rs name plan and suite: {graphs:?}"
    );
    let mut circles = Vec::new();
    for (folder, g) in &graphs {
        for (m, deps) in g {
            if !deps.is_empty() {
                println!(
                    "{folder}/{m} -> {}",
                    deps.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
        if let Some(cycle) = find_cycle(g) {
            circles.push(format!("{folder}: {}", cycle.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "import circles inside a folder: {circles:#?}"
    );
}

#[test]
fn nothing_under_rig_names_sim_drivers_or_station() {
    let (_, files) = graph();
    let mut offenders = Vec::new();
    for (f, names) in files {
        if module_of(&f) != "rig" {
            continue;
        }
        for bad in ["sim", "drivers", "station"] {
            if names.contains(bad) {
                offenders.push(format!("{} names {bad}", f.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn only_station_names_both_sim_and_drivers() {
    let (g, _) = graph();
    let both: Vec<_> = g
        .iter()
        .filter(|(_, deps)| deps.contains("sim") && deps.contains("drivers"))
        .map(|(m, _)| m.clone())
        .collect();
    // `fuzzing` feeds bytes to every parser; it opens nothing.
    assert!(
        both.iter().all(|m| m == "station" || m == "fuzzing"),
        "{both:?}"
    );
}

#[test]
fn the_checker_sees_a_planted_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("rig".into()).or_default().insert("sim".into());
    g.entry("sim".into()).or_default().insert("drivers".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("drivers".into()).or_default().insert("rig".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec![
            "drivers".into(),
            "rig".into(),
            "sim".into(),
            "drivers".into()
        ])
    );
}

#[test]
fn the_scanner_reads_grouped_and_climbing_paths() {
    let modules: BTreeSet<String> = ["rig", "sim", "modbus", "profile", "quantity"]
        .into_iter()
        .map(String::from)
        .collect();
    let n = names(&src().join("rig/meter_link.rs"), &modules);
    assert!(n.contains("modbus") && n.contains("profile"), "{n:?}");
}
