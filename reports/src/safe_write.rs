//! Writing a report file into a run folder, and only there.
//!
//! A run folder is shared with whatever else is on the lab PC: a file in it
//! replaced by a symlink (to a lab's calibration file, to `~/.bashrc`) must
//! not make `metrig report` overwrite the link's target. Each file is written
//! to a fresh temporary name opened with `create_new` (which never follows a
//! symlink: an existing name, link or not, is refused), synced, then renamed
//! over its name — a rename replaces a symlink itself, not its target — so a
//! reader also never sees half a file. Names are plain file names: no
//! separator, no `..`.

use std::io::Write as _;
use std::path::Path;

/// Whether `name` is a plain file name that stays inside its folder.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).components().count() == 1
}

/// Writes `bytes` as `dir/name` atomically without following a symlink at
/// `dir/name`. The error names the file.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join(name);
    if !is_plain_name(name) {
        return Err(format!(
            "{}: a report file name must be a plain name inside the run folder",
            path.display()
        ));
    }
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // A leftover of a killed write (or a planted link): removed, never followed.
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_a_separator_or_dots_are_refused() {
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\\b", "a\0b"] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
        assert!(is_plain_name("summary.md"));
        let dir = tempfile::tempdir().expect("tmp");
        assert!(write_file(dir.path(), "../escape.txt", b"x").is_err());
        assert!(!dir.path().join("../escape.txt").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_in_the_run_folder_is_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("tmp");
        let target = dir.path().join("precious.txt");
        std::fs::write(&target, b"keep me").expect("target");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("run");
        std::os::unix::fs::symlink(&target, run.join("summary.md")).expect("link");
        write_file(&run, "summary.md", b"report").expect("written");
        assert_eq!(std::fs::read(&target).expect("target"), b"keep me");
        assert_eq!(
            std::fs::read(run.join("summary.md")).expect("file"),
            b"report"
        );
        assert!(
            !std::fs::symlink_metadata(run.join("summary.md"))
                .expect("meta")
                .file_type()
                .is_symlink()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_the_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().expect("tmp");
        let target = dir.path().join("precious.txt");
        std::fs::write(&target, b"keep me").expect("target");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("run");
        let tmp = run.join(format!(".report.html.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&target, &tmp).expect("link");
        write_file(&run, "report.html", b"<html>").expect("written");
        assert_eq!(std::fs::read(&target).expect("target"), b"keep me");
    }
}
