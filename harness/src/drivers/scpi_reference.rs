//! A reference standard meter spoken to in SCPI: instantaneous values and
//! energy registers, parsed by the field layout the rig file gives.

use std::sync::Arc;

use async_trait::async_trait;

use super::scpi::{ScpiPort, parse_fields};
use crate::drivers::scpi::config::ScpiReferenceConfig;
use crate::quantity::{
    Amps, Hertz, MeterConstant, Percent, PhaseAngle, VarHours, Vars, VoltAmps, Volts, WattHours,
    Watts,
};
use crate::rig::reference::{ReferenceEnergy, ReferenceReading, ReferenceStandard};
use crate::rig::{Identity, RigClock, RigError};

#[derive(Debug)]
pub struct ScpiReference {
    port: ScpiPort,
    config: ScpiReferenceConfig,
    identity: Identity,
    uncertainty_pf1: Percent,
    uncertainty_low_pf: Percent,
    constant: MeterConstant,
    clock: Arc<dyn RigClock>,
}

impl ScpiReference {
    pub async fn open(
        config: ScpiReferenceConfig,
        uncertainty_pf1: Percent,
        uncertainty_low_pf: Percent,
        constant: MeterConstant,
        clock: Arc<dyn RigClock>,
    ) -> Result<Self, RigError> {
        let mut port = ScpiPort::open("reference", &config.common).await?;
        let identity = port.identify().await?;
        port.check_errors(&config.common.identity_query).await?;
        Ok(Self {
            port,
            config,
            identity,
            uncertainty_pf1,
            uncertainty_low_pf,
            constant,
            clock,
        })
    }

    async fn fields(
        &mut self,
        query: String,
        layout: Vec<String>,
    ) -> Result<std::collections::BTreeMap<String, f64>, RigError> {
        let answer = self.port.query(&query).await?;
        parse_fields(&answer, &layout).map_err(|e| {
            RigError::instrument(
                "reference",
                format!("answer to `{query}`: {e} (check the dialect in the rig file)"),
            )
        })
    }
}

#[async_trait]
impl ReferenceStandard for ScpiReference {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn constant(&self) -> MeterConstant {
        self.constant
    }

    async fn measure(&mut self) -> Result<ReferenceReading, RigError> {
        let f = self
            .fields(
                self.config.measure.clone(),
                self.config.measure_fields.clone(),
            )
            .await?;
        let get = |k: &str| f.get(k).copied();
        let (u, i, p) = (
            get("u").unwrap_or(0.0),
            get("i").unwrap_or(0.0),
            get("p").unwrap_or(0.0),
        );
        let q = get("q").unwrap_or(0.0);
        let s = get("s").unwrap_or_else(|| p.hypot(q));
        let pf = PhaseAngle(q.atan2(p).to_degrees()).power_factor();
        Ok(ReferenceReading {
            voltage: Volts(u),
            current: Amps(i),
            frequency: Hertz(get("f").unwrap_or(0.0)),
            active_power: Watts(p),
            reactive_power: Vars(q),
            apparent_power: VoltAmps(s),
            power_factor: pf,
            uncertainty: if pf.magnitude >= 0.9 {
                self.uncertainty_pf1
            } else {
                self.uncertainty_low_pf
            },
            at: self.clock.now(),
        })
    }

    async fn energy(&mut self) -> Result<ReferenceEnergy, RigError> {
        let f = self
            .fields(
                self.config.energy.clone(),
                self.config.energy_fields.clone(),
            )
            .await?;
        Ok(ReferenceEnergy {
            active: WattHours(f.get("wh").copied().unwrap_or(0.0)),
            reactive: VarHours(f.get("varh").copied().unwrap_or(0.0)),
            at: self.clock.now(),
        })
    }
}
