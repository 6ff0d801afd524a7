//! `metrig read`: every readable quantity of one meter, with units.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::quantity::PowerFactor;
use harness::rig::Rig;
use harness::station::load_rig;

use super::{EXIT_OK, usage};

/// Un, Iref, PF 1, fn: the meter's reference point.
pub fn reference_point(p: &MeterProfile) -> LoadPoint {
    LoadPoint::new(
        p.ratings.un,
        p.ratings.iref,
        PowerFactor::UNITY,
        p.ratings.fn_default(),
    )
}

pub async fn run(
    rig_file: &Path,
    position: usize,
    load: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let config = load_rig(rig_file)?;
    let n = config.config.positions.len();
    if position == 0 || position > n {
        return Err(usage(format!(
            "--position {position}: {} has {}",
            rig_file.display(),
            if n == 1 {
                "one position: 1".to_string()
            } else {
                format!("positions 1 to {n}")
            }
        )));
    }
    let mut rig = Rig::open(config).await?;
    let result = read(&mut rig, position - 1, load, json).await;
    // Whatever happened, the source ends off.
    let off = rig.off().await;
    let code = result?;
    off.context("switching the source off")?;
    Ok(code)
}

async fn read(
    rig: &mut Rig,
    index: usize,
    load: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let profile = rig.positions[index].profile.clone();
    let point = match load {
        Some(text) => Some(
            LoadPoint::parse(text, reference_point(&profile))
                .map_err(|e| usage(format!("--load: {e}")))?,
        ),
        None if rig.is_simulated() => Some(reference_point(&profile)),
        None => None,
    };
    if let Some(point) = point {
        if !rig.is_simulated() && !rig.config.manual_energising {
            return Err(usage(format!(
                "--load on a real rig needs `manual_energising = true` in {}",
                rig.config.file.display()
            )));
        }
        rig.energise(point).await?;
    }
    let mut out = Out::new(json);
    if let Some(point) = point {
        out.doc["load"] = point.to_string().into();
        out.line(format!(
            "load: {point}{}",
            if rig.is_simulated() {
                " (simulated source)"
            } else {
                ""
            }
        ))?;
    }
    let pos = &mut rig.positions[index];
    out.doc["meter"] = serde_json::json!({
        "maker": profile.maker,
        "model": profile.model,
        "profile": profile.id,
        "map_status": profile.status.to_string(),
        "map_source": profile.source,
    });
    out.line(format!(
        "meter: {} {} — profile {} ({} map: {})",
        profile.maker, profile.model, profile.id, profile.status, profile.source
    ))?;
    let Some(link) = pos.link.as_mut() else {
        out.doc["link"] = serde_json::Value::Null;
        out.line(format!(
            "{} has no Modbus link: a pulse-only meter is read through its pulse outputs.",
            pos.name()
        ))?;
        out.finish()?;
        return Ok(ExitCode::from(EXIT_OK));
    };
    out.doc["link"] = link.describe().into();
    out.line(format!("link: {}", link.describe()))?;
    let me = link
        .identify()
        .await
        .context("the meter does not identify itself")?;
    out.doc["says"] = serde_json::json!({
        "model": me.model_id,
        "serial": me.serial_number,
        "firmware": me.firmware,
    });
    out.line(format!(
        "says: model {}, serial {}, firmware {}",
        me.model_id.as_deref().unwrap_or("?"),
        me.serial_number.as_deref().unwrap_or("?"),
        me.firmware.as_deref().unwrap_or("?")
    ))?;
    out.line(format!("{:<26} {:>18}  register", "quantity", "value"))?;
    let mut readings = Vec::new();
    let regs: Vec<_> = profile.readable().cloned().collect();
    for reg in regs {
        let value = link
            .read(reg.quantity)
            .await
            .with_context(|| format!("reading {}", reg.quantity))?;
        let p = &reg.place;
        let register = format!(
            "fc{:02} 0x{:04X} {} ×{} {}",
            p.table.read_function(),
            p.address,
            p.coding.kind,
            harness::quantity::trim_float(p.scale),
            p.unit
        );
        readings.push(serde_json::json!({
            "quantity": reg.quantity.name(),
            "value": value.display(),
            "register": register,
        }));
        out.line(format!(
            "{:<26} {:>18}  {register}",
            reg.quantity.name(),
            value.display(),
        ))?;
    }
    out.doc["readings"] = readings.into();
    out.finish()?;
    Ok(ExitCode::from(EXIT_OK))
}

/// The screen, line by line, or with `--json` one object at the end.
struct Out {
    json: bool,
    doc: serde_json::Value,
}

impl Out {
    fn new(json: bool) -> Self {
        Out {
            json,
            doc: serde_json::json!({}),
        }
    }

    fn line(&self, text: String) -> std::io::Result<()> {
        if self.json { Ok(()) } else { say!("{text}") }
    }

    fn finish(&self) -> std::io::Result<()> {
        if self.json {
            say!("{}", self.doc)
        } else {
            Ok(())
        }
    }
}
