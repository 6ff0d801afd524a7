//! Every malformed file in fixtures/bad gives one clear error that names the
//! file and what is wrong (its first line says what is expected) — never a
//! panic, never a silent acceptance. Plans are checked against the suites'
//! own parameter declarations (`suites::catalogue()`), hence this test's
//! place in the suites crate.

mod common;

use harness::profile::load_profile;
use harness::station::load_rig;

#[test]
fn every_bad_file_is_refused_with_its_own_message() {
    let dir = common::fixtures().join("bad");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/bad exists")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} must start with `# expect: ...`", path.display()));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let message = if name.starts_with("profile-") {
            load_profile(&path).map(|_| ()).map_err(|e| e.to_string())
        } else if name.starts_with("rig-") {
            load_rig(&path).map(|_| ()).map_err(|e| e.to_string())
        } else if name.starts_with("plan-") {
            harness::run::load_plan(&path, &suites::catalogue())
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            continue;
        }
        .expect_err(&format!("{name} must be refused"));
        assert!(
            message.contains(expect),
            "{name}: expected `{expect}` in:\n{message}"
        );
        assert!(
            message.contains(&name) || message.contains("no-such-meter"),
            "{name}: the error must name the file:\n{message}"
        );
        assert_eq!(
            message
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count()
                .min(1),
            1
        );
        println!("{name}: {}", message.lines().next().unwrap_or_default());
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} bad files checked");
}
