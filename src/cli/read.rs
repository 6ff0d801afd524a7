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

pub async fn run(rig_file: &Path, position: usize, load: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = load_rig(rig_file)?;
    if position == 0 || position > config.config.positions.len() {
        return Err(usage(format!(
            "--position {position}: {} has positions 1..={}",
            rig_file.display(),
            config.config.positions.len()
        )));
    }
    let mut rig = Rig::open(config).await?;
    let result = read(&mut rig, position - 1, load).await;
    // Whatever happened, the source ends off.
    let off = rig.off().await;
    let code = result?;
    off.context("switching the source off")?;
    Ok(code)
}

async fn read(rig: &mut Rig, index: usize, load: Option<&str>) -> anyhow::Result<ExitCode> {
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
        say!(
            "load: {point}{}",
            if rig.is_simulated() {
                " (simulated source)"
            } else {
                ""
            }
        )?;
    }
    let pos = &mut rig.positions[index];
    say!(
        "meter: {} {} — profile {} ({:?} map: {})",
        profile.maker,
        profile.model,
        profile.id,
        profile.status,
        profile.source
    )?;
    let Some(link) = pos.link.as_mut() else {
        say!(
            "{} has no Modbus link: a pulse-only meter is read through its pulse outputs.",
            pos.name()
        )?;
        return Ok(ExitCode::from(EXIT_OK));
    };
    say!("link: {}", link.describe())?;
    let me = link
        .identify()
        .await
        .context("the meter does not identify itself")?;
    say!(
        "says: model {}, serial {}, firmware {}",
        me.model_id.as_deref().unwrap_or("?"),
        me.serial_number.as_deref().unwrap_or("?"),
        me.firmware.as_deref().unwrap_or("?")
    )?;
    say!("{:<26} {:>18}  register", "quantity", "value")?;
    let regs: Vec<_> = profile.readable().cloned().collect();
    for reg in regs {
        let value = link
            .read(reg.quantity)
            .await
            .with_context(|| format!("reading {}", reg.quantity))?;
        let p = &reg.place;
        say!(
            "{:<26} {:>18}  fc{:02} 0x{:04X} {:?} ×{} {}",
            reg.quantity.name(),
            value.display(),
            p.table.read_function(),
            p.address,
            p.coding.kind,
            p.scale,
            p.unit
        )?;
    }
    Ok(ExitCode::from(EXIT_OK))
}
