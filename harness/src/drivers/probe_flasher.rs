//! Firmware through a debug probe with probe-rs: write, verify, reset. For
//! the release regression gate; the plan's firmware precondition then reads
//! the version back over Modbus before any point runs.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use probe_rs::Permissions;
use probe_rs::flashing::{DownloadOptions, ElfOptions, Format, download_file_with_options};
use probe_rs::probe::DebugProbeSelector;
use probe_rs::probe::list::Lister;

use crate::rig::flasher::Flasher;
use crate::rig::{Identity, RigError};

/// The probes attached now, one line each ("ST-Link V3 (0483:374e:SERIAL)").
pub fn list_probes() -> Vec<String> {
    Lister::new()
        .list_all()
        .into_iter()
        .map(|p| {
            format!(
                "{} ({:04x}:{:04x}{})",
                p.identifier,
                p.vendor_id,
                p.product_id,
                p.serial_number
                    .as_deref()
                    .map(|s| format!(":{s}"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct ProbeFlasher {
    /// The target chip as probe-rs names it ("STM32G071RBTx").
    chip: String,
    /// "VID:PID[:SERIAL]"; the only probe attached when absent.
    probe: Option<String>,
}

impl ProbeFlasher {
    /// Checks the chip name against probe-rs's built-in targets and the
    /// selector's form before anything is attached, so a typo in `--chip`
    /// is named as such (not as a missing probe).
    pub fn new(chip: &str, probe: Option<&str>) -> Result<Self, RigError> {
        let registry = probe_rs::config::Registry::from_builtin_families();
        if registry.get_target_by_name(chip).is_err() {
            let like: Vec<String> = registry
                .search_chips(chip.get(..chip.len().min(6)).unwrap_or(chip))
                .into_iter()
                .take(8)
                .collect();
            return Err(RigError::instrument(
                "flasher",
                format!(
                    "--chip {chip}: probe-rs knows no such chip{}",
                    if like.is_empty() {
                        " (its names are like STM32G071RBTx, nRF52840_xxAA)".to_string()
                    } else {
                        format!("; similar names: {}", like.join(", "))
                    }
                ),
            ));
        }
        if let Some(sel) = probe {
            sel.parse::<DebugProbeSelector>().map_err(|e| {
                RigError::instrument(
                    "flasher",
                    format!("--probe {sel}: {e} (write VID:PID or VID:PID:SERIAL, hex)"),
                )
            })?;
        }
        Ok(Self {
            chip: chip.into(),
            probe: probe.map(str::to_string),
        })
    }

    fn flash_blocking(chip: String, probe: Option<String>, elf: PathBuf) -> Result<(), String> {
        let lister = Lister::new();
        let probe = match probe {
            Some(sel) => {
                let sel: DebugProbeSelector = sel.parse().map_err(|e| format!("{sel}: {e}"))?;
                lister
                    .open(sel)
                    .map_err(|e| format!("cannot open the probe: {e}"))?
            }
            None => {
                let all = lister.list_all();
                match all.as_slice() {
                    [] => return Err("no debug probe is attached".into()),
                    [one] => one
                        .open()
                        .map_err(|e| format!("cannot open {}: {e}", one.identifier))?,
                    many => {
                        return Err(format!(
                            "{} probes are attached: choose one with --probe VID:PID:SERIAL",
                            many.len()
                        ));
                    }
                }
            }
        };
        let mut session = probe
            .attach(chip.as_str(), Permissions::default())
            .map_err(|e| format!("cannot attach to {chip}: {e}"))?;
        let mut options = DownloadOptions::default();
        options.verify = true;
        download_file_with_options(
            &mut session,
            &elf,
            Format::Elf(ElfOptions::default()),
            options,
        )
        .map_err(|e| format!("flashing {}: {e}", elf.display()))?;
        session
            .core(0)
            .and_then(|mut core| core.reset())
            .map_err(|e| format!("reset after flashing: {e}"))?;
        Ok(())
    }
}

#[async_trait]
impl Flasher for ProbeFlasher {
    fn identity(&self) -> Identity {
        Identity::device(
            "flasher",
            "probe-rs",
            self.probe.clone().unwrap_or_else(|| "first probe".into()),
            String::new(),
        )
    }

    async fn flash(&mut self, elf: &Path) -> Result<(), RigError> {
        if !elf.is_file() {
            return Err(RigError::instrument(
                "flasher",
                format!("{}: no such ELF file", elf.display()),
            ));
        }
        let (chip, probe, elf) = (self.chip.clone(), self.probe.clone(), elf.to_path_buf());
        tokio::task::spawn_blocking(move || Self::flash_blocking(chip, probe, elf))
            .await
            .map_err(|e| RigError::instrument("flasher", e.to_string()))?
            .map_err(|e| RigError::instrument("flasher", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_chip_is_named_as_such_before_any_probe_is_looked_for() {
        let e = ProbeFlasher::new("STM32NOTACHIP", None).expect_err("refused");
        let text = e.to_string();
        assert!(text.contains("--chip STM32NOTACHIP"), "{text}");
        assert!(text.contains("no such chip"), "{text}");
        assert!(!text.contains("probe is attached"), "{text}");
        assert!(ProbeFlasher::new("STM32G071RBTx", None).is_ok());
    }
}
