//! What the command-line tests share: the project root, running the built
//! `metrig` and reading what a run wrote. Each test file uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The project root: shipped fixtures are named from here.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built `metrig` in `cwd`: (exit code, stdout, stderr). The
/// caller's `METRIG_STORE` is not passed on, so no test writes into a store
/// it did not name.
pub fn metrig_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args(args)
        .current_dir(cwd)
        .env_remove("METRIG_STORE")
        .output()
        .expect("metrig runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`metrig_in`] the project root.
pub fn metrig(args: &[&str]) -> (i32, String, String) {
    metrig_in(root(), args)
}

/// The firmware-gate plan on the shipped simulated rig, quiet, into `out`,
/// with `store` as `--store` (`off`, a path or a URL). Exits 0 or 1 when it ran.
pub fn gate_run(out: &Path, store: &str) -> (i32, String, String) {
    metrig(&[
        "run",
        "fixtures/plans/firmware-gate.toml",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--quiet",
        "--store",
        store,
        "--out",
        s(out),
    ])
}

/// A temporary path as the argument it is.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// A run folder's `record.json`.
pub fn record(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("record.json")).expect("record.json"))
        .expect("json")
}

/// A copy of a run folder's files (not its subfolders).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("copy made");
    for e in std::fs::read_dir(from).expect("run folder read") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("file copied");
        }
    }
}
