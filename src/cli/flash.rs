//! `metrig flash`: firmware through a debug probe, for the release gate.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{EXIT_OK, usage};

#[cfg(feature = "probe")]
pub async fn run(
    chip: Option<String>,
    elf: Option<PathBuf>,
    probe: Option<String>,
    list_probes: bool,
) -> anyhow::Result<ExitCode> {
    use harness::drivers::probe_flasher::{ProbeFlasher, list_probes as probes};
    use harness::rig::flasher::Flasher;

    if list_probes {
        let all = tokio::task::spawn_blocking(probes).await?;
        if all.is_empty() {
            say!("no debug probe is attached")?;
        }
        for p in all {
            say!("{p}")?;
        }
        return Ok(ExitCode::from(EXIT_OK));
    }
    let (Some(chip), Some(elf)) = (chip, elf) else {
        return Err(usage(
            "flash needs --chip NAME and --elf FILE (or --list-probes)",
        ));
    };
    if !elf.is_file() {
        return Err(usage(format!("--elf {}: no such file", elf.display())));
    }
    let mut flasher = ProbeFlasher::new(&chip, probe.as_deref())?;
    flasher.flash(&elf).await?;
    say!("flashed and verified {} on {chip}", elf.display())?;
    Ok(ExitCode::from(EXIT_OK))
}

#[cfg(not(feature = "probe"))]
pub async fn run(
    _chip: Option<String>,
    _elf: Option<PathBuf>,
    _probe: Option<String>,
    _list_probes: bool,
) -> anyhow::Result<ExitCode> {
    let _ = EXIT_OK;
    Err(usage(
        "this metrig was built without the `probe` feature: build with `cargo build --features probe`",
    ))
}
