//! A reference power source spoken to in SCPI, its dialect from the rig
//! file. A load point outside the instrument's own ranges is refused before
//! anything is sent; a command the instrument refuses switches it off.

use async_trait::async_trait;

use super::scpi::{ScpiPort, fill};
use crate::drivers::scpi::config::ScpiSourceConfig;
use crate::load_point::LoadPoint;
use crate::quantity::trim_float;
use crate::rig::source::{Source, SourceState};
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct ScpiSource {
    port: ScpiPort,
    config: ScpiSourceConfig,
    identity: Identity,
    state: SourceState,
}

impl ScpiSource {
    /// Opens the port, asks the identity, and switches the output off: a
    /// run starts from a known state.
    pub async fn open(config: ScpiSourceConfig) -> Result<Self, RigError> {
        let mut port = ScpiPort::open("source", &config.common).await?;
        let identity = port.identify().await?;
        port.check_errors(&config.common.identity_query).await?;
        port.command(&config.off).await?;
        Ok(Self {
            port,
            config,
            identity,
            state: SourceState::Off,
        })
    }

    fn check_ranges(&self, p: &LoadPoint) -> Result<(), RigError> {
        let c = &self.config;
        for (what, v, (lo, hi), unit) in [
            ("voltage", p.voltage.0, c.voltage_range, "V"),
            ("current", p.current.0, c.current_range, "A"),
            ("frequency", p.frequency.0, c.frequency_range, "Hz"),
        ] {
            // Zero current (no load) is always within range.
            let no_load = what == "current" && v == 0.0;
            if !no_load && !(lo..=hi).contains(&v) {
                return Err(RigError::instrument(
                    "source",
                    format!(
                        "{p}: {what} {v} {unit} is outside the instrument's range {lo}..={hi} {unit}; nothing was sent"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Source for ScpiSource {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    async fn apply(&mut self, point: LoadPoint) -> Result<(), RigError> {
        self.check_ranges(&point)?;
        let command = fill(
            &self.config.apply,
            &[
                ("u", trim_float(point.voltage.0)),
                ("i", trim_float(point.current.0)),
                ("phi", trim_float(point.phase.0)),
                ("f", trim_float(point.frequency.0)),
            ],
        )
        .map_err(|e| RigError::instrument("source", e))?;
        if let Err(e) = self.port.command(&command).await {
            // Refused or lost mid-command: the output must not stay in an
            // unknown state.
            let _ = self.off().await;
            return Err(e);
        }
        self.state = SourceState::On(point);
        Ok(())
    }

    async fn off(&mut self) -> Result<(), RigError> {
        let off = self.config.off.clone();
        self.port.command(&off).await?;
        self.state = SourceState::Off;
        Ok(())
    }

    async fn state(&mut self) -> Result<SourceState, RigError> {
        Ok(self.state)
    }
}
