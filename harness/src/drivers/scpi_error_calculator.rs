//! The reference's error calculator over SCPI: set up the gate (scanning
//! head input, meter constant, pulses, energy), start it, poll until the
//! instrument says it is done, read the result.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::scpi::{ScpiPort, fill, parse_fields};
use crate::drivers::scpi::config::{ErrorCalculatorConfig, ScpiCommon};
use crate::quantity::{PulseWeight, trim_float};
use crate::rig::comparison::{EnergyKind, PulseComparison};
use crate::rig::error_calculator::ErrorCalculator;
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct ScpiErrorCalculator {
    port: ScpiPort,
    config: ErrorCalculatorConfig,
    identity: Identity,
    reference_constant: f64,
}

impl ScpiErrorCalculator {
    /// Opens its own connection to the reference (instruments of this kind
    /// take several clients; a serial reference needs a second port or
    /// `kind = "none"` here).
    pub async fn open(
        common: &ScpiCommon,
        config: ErrorCalculatorConfig,
        reference_constant: f64,
    ) -> Result<Self, RigError> {
        let mut port = ScpiPort::open("error calculator", common).await?;
        let mut identity = port.identify().await?;
        identity.role = "error calculator".into();
        Ok(Self {
            port,
            config,
            identity,
            reference_constant,
        })
    }

    fn err(m: String) -> RigError {
        RigError::instrument("error calculator", m)
    }
}

#[async_trait]
impl ErrorCalculator for ScpiErrorCalculator {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    async fn gate(
        &mut self,
        position: usize,
        kind: EnergyKind,
        weight: PulseWeight,
        pulses: usize,
        timeout: Duration,
    ) -> Result<PulseComparison, RigError> {
        let values = [
            ("input", (position + 1).to_string()),
            ("k", trim_float(1000.0 / weight.0)),
            ("n", pulses.to_string()),
            (
                "kind",
                match kind {
                    EnergyKind::Active => "ACT".to_string(),
                    EnergyKind::Reactive => "REAC".to_string(),
                },
            ),
        ];
        let c = self.config.clone();
        let cmd = |t: &str| fill(t, &values).map_err(Self::err);
        self.port.command(&cmd(&c.setup)?).await?;
        self.port.command(&cmd(&c.start)?).await?;
        let started = Instant::now();
        let status = cmd(&c.status)?;
        loop {
            let s = self.port.query(&status).await?;
            if s.trim().eq_ignore_ascii_case(c.done.trim()) {
                break;
            }
            if started.elapsed() > timeout {
                if let Some(stop) = &c.stop {
                    let _ = self.port.command(&cmd(stop)?).await;
                }
                return Err(Self::err(format!(
                    "the gate of {pulses} pulses was not done within {} s (status `{s}`)",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(c.poll).await;
        }
        let result = cmd(&c.result)?;
        let answer = self.port.query(&result).await?;
        let f = parse_fields(&answer, &c.result_fields).map_err(|e| {
            Self::err(format!(
                "answer to `{result}`: {e} (check the dialect in the rig file)"
            ))
        })?;
        let error_pct = f["error_pct"];
        if let Some(s) = f.get("std_dev_pct") {
            tracing::debug!("error calculator: s = {s} % over the gate");
        }
        let counts = f["reference_counts"].max(1.0);
        let meter_pulses = f.get("meter_pulses").map_or(pulses, |n| *n as usize);
        let reference_energy = counts * 1000.0 / self.reference_constant;
        Ok(PulseComparison {
            meter_pulses,
            meter_energy: meter_pulses as f64 * weight.0,
            reference_counts: counts as u64,
            reference_energy,
            error_pct,
            resolution_pct: 100.0 / counts,
            gate_s: started.elapsed().as_secs_f64(),
            start_s: 0.0,
            end_s: started.elapsed().as_secs_f64(),
        })
    }
}
