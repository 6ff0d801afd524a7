//! `hour-meter` — the operating-time counter counts while active power is
//! above its programmed threshold (datasheet §7: 0..50 % Pn), not below, and
//! resets on command.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::{MeterQuantity as Q, MeterSetting, SettingValue};
use harness::run::dwell::{DwellUse, Resource};
use harness::run::{Measured, PlanContext, PointSpec};

use crate::framework::{Bench, Declares, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::{link, load, read};

#[derive(Debug, Default)]
pub struct HourMeter;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    below: LoadPoint,
    above: LoadPoint,
    threshold_w: f64,
}

impl Declares for HourMeter {
    const TITLE: &'static str = "Hour meter: counts above its threshold only, resets on command";
    type Params = Params;

    /// It writes only its own threshold and reset and reads its counter:
    /// its two hours can be shared with points that touch neither (issue
    /// 20); its hour above waits for them to finish at Iref (the lockstep
    /// source), and below the threshold the counter does not move.
    fn dwell_use(&self, _point: &PointSpec) -> Option<DwellUse> {
        Some(
            DwellUse::default()
                .drives(Resource::Setting(MeterSetting::HourMeterThreshold))
                .drives(Resource::Setting(MeterSetting::HourMeterReset)),
        )
    }

    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, _ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let mut out = Vec::new();
        let (Some(_), Some(_), Some(_)) = (
            profile.register(Q::HourMeter),
            profile.setting(MeterSetting::HourMeterThreshold),
            profile.setting(MeterSetting::HourMeterReset),
        ) else {
            return Ok(out);
        };
        let r = &profile.ratings;
        let below = load(r.un, r.iref, "1", r.fn_default());
        let above = load(r.un, r.iref * 2.0, "1", r.fn_default());
        let threshold_w = (below.active_power().0 + above.active_power().0) / 2.0;
        out.push(Planned::new(
            "threshold-and-reset",
            format!("threshold {threshold_w:.0} W: 1 h below, 1 h above, then reset"),
            vec![below, above],
            Duration::from_secs(7300),
            Params {
                below,
                above,
                threshold_w,
            },
        ));
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let pos = point.position;
        rig.energise(p.below).await?;
        link(rig, pos)?
            .write(
                MeterSetting::HourMeterThreshold,
                SettingValue::Number(p.threshold_w.round()),
            )
            .await?;
        let h0 = read(rig, pos, Q::HourMeter).await?;
        rig.dwell(Duration::from_secs(3600)).await;
        let h1 = read(rig, pos, Q::HourMeter).await?;
        rig.energise(p.above).await?;
        rig.dwell(Duration::from_secs(3600)).await;
        let h2 = read(rig, pos, Q::HourMeter).await?;
        link(rig, pos)?
            .write(MeterSetting::HourMeterReset, SettingValue::Number(1.0))
            .await?;
        let h3 = read(rig, pos, Q::HourMeter).await?;
        let at = rig.now();
        io.sample(
            at,
            h2 - h1,
            "s",
            serde_json::json!({ "readings_s": [h0, h1, h2, h3] }),
        );
        // The counter shows whole minutes.
        let ok = h1 == h0 && (h2 - h1 - 3600.0).abs() <= 60.0 && h3 == 0.0;
        Ok(Measured::check(
            ok,
            format!(
                "below the threshold +{:.0} s, above +{:.0} s of 3600, after reset {h3:.0} s",
                h1 - h0,
                h2 - h1
            ),
            serde_json::json!({ "threshold_w": p.threshold_w }),
        ))
    }
}
