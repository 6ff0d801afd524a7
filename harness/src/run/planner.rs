//! The rig-time planner (issue 20): on a real bench rig time is the cost,
//! so each point's dwell, gate or pulse count is sized to meet the plan's
//! target uncertainty — the test uncertainty ratio limit ÷ U (`[plan]
//! target_tur`, default 3) or a maximum U (`[plan] max_u_pct`) — in the
//! least rig time, and no point is planned longer than `[plan]
//! max_point_hours`: one that would need more is planned at that limit and
//! flagged with the U it reaches (`PlannedU::flagged`).
//!
//! The model is the one the suites' budgets use (GUM §4.3.7, JCGM 100):
//! a counting method (a register read before and after, pulses counted)
//! is uncertain by ±1 quantum at each of its counts, a rectangular
//! component of half-width q/E; the reference adds its own expanded U;
//! the expanded U is k = 2 times the root sum of squares. Solving
//! U(E) = U_target for the energy E gives the dwell at the load's power.
//! A method whose U is dominated by resolution gains nothing from
//! repetitions (they repeat the same quantisation), so the planner says
//! when to measure once.
//!
//! Nothing here touches a rig: the suites call it while planning.

use std::time::Duration;

use super::plan::PlanTargets;
use model::point::PlannedU;

/// The plan's targets, ready to size points with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Planner {
    pub target_tur: f64,
    pub max_u_pct: Option<f64>,
    pub max_point: Duration,
}

/// One way to measure a point by counting: a register read before and
/// after, or pulses counted against the reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Counting {
    /// What a lab reads in the dry-run: "register method, 10 Wh step".
    pub method: String,
    /// The point's limit, percent.
    pub limit_pct: f64,
    /// The expanded U (k = 2, percent) of everything but the counts' own
    /// resolution: the reference standard, mostly.
    pub fixed_u_pct: f64,
    /// The energy of each ±1 quantum the result depends on (a register
    /// step, a pulse), in the unit of `power`.
    pub quanta: Vec<f64>,
    /// The power at the load (W, var): energy per hour.
    pub power: f64,
    /// Rig time the point takes besides the dwell (settling, reads),
    /// counted against `max_point_hours`.
    pub overhead: Duration,
    /// The shortest dwell the method may use (a register read cycle).
    pub min_dwell: Duration,
}

/// A dwell the planner chose and what it buys.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    pub dwell: Duration,
    pub planned: PlannedU,
    /// Whether the counts' resolution carries more than half of U's
    /// variance: repetitions would repeat the same quantisation.
    pub resolution_dominated: bool,
    /// What kept the target out of reach, when something did: the flag's
    /// reason, kept so that [`Planner::restate`] can state it again.
    pub limited_by: Option<String>,
}

impl Sizing {
    /// The repetitions worth applying: one when U is dominated by
    /// resolution (issue 20: repetitions are not applied to such a
    /// method), else the plan's.
    pub fn repetitions(&self, plan_repetitions: u32) -> u32 {
        if self.resolution_dominated {
            1
        } else {
            plan_repetitions.max(1)
        }
    }
}

impl Planner {
    pub fn of(t: &PlanTargets) -> Self {
        Self {
            target_tur: t.target_tur,
            max_u_pct: t.max_u_pct,
            max_point: Duration::from_secs_f64(t.max_point_hours * 3600.0),
        }
    }

    /// The U a point judged at `limit_pct` is planned for: the plan's
    /// maximum U when it sets one, else limit ÷ target TUR.
    pub fn target_u(&self, limit_pct: f64) -> f64 {
        self.max_u_pct.unwrap_or(limit_pct.abs() / self.target_tur)
    }

    /// Expanded U (k = 2, percent) of `c` after counting `energy`.
    pub fn u_after(c: &Counting, energy: f64) -> f64 {
        let fixed = c.fixed_u_pct / 2.0;
        let res: f64 = c
            .quanta
            .iter()
            .map(|q| (q / energy * 100.0).powi(2) / 3.0)
            .sum();
        2.0 * (fixed * fixed + res).sqrt()
    }

    /// The shortest dwell that meets the target with `c`, within
    /// `max_point_hours` (including `c.overhead`); cut there, and flagged
    /// with the U it reaches, when the target needs more.
    pub fn size(&self, c: &Counting) -> Sizing {
        self.size_within(c, None)
    }

    /// [`Planner::size`] for a method whose dwell cannot exceed
    /// `max_dwell` (a meter's test mode that ends by itself, issue 20): the
    /// dwell is capped there too, and flagged as such when the target needs
    /// more.
    pub fn size_within(&self, c: &Counting, max_dwell: Option<Duration>) -> Sizing {
        let target = self.target_u(c.limit_pct);
        let q2: f64 = c.quanta.iter().map(|q| q * q).sum();
        let fixed = c.fixed_u_pct / 2.0;
        let room = (target / 2.0).powi(2) - fixed * fixed;
        let point_cap = self.max_point.saturating_sub(c.overhead);
        let (cap, cap_is_method) = match max_dwell {
            Some(m) if m < point_cap => (m, true),
            _ => (point_cap, false),
        };
        let cap = cap.max(c.min_dwell);
        let needed = if room > 0.0 && c.power > 0.0 {
            // (U_t/2)² − u_fixed² = Σ q² / (3 E²) · 100²
            let energy = (q2 / 3.0 / room).sqrt() * 100.0;
            Some(Duration::from_secs_f64(
                (energy / c.power * 3600.0).ceil().min(1.0e9),
            ))
        } else {
            None
        };
        let (dwell, flagged) = match needed {
            Some(d) if d <= cap => (d.max(c.min_dwell), None),
            Some(_) if cap_is_method => (
                cap,
                Some(format!(
                    "needs a longer dwell than the method allows ({} h)",
                    show_hours(cap)
                )),
            ),
            Some(_) => (
                cap,
                Some(format!(
                    "needs more than max_point_hours = {} h",
                    show_hours(self.max_point)
                )),
            ),
            None if c.power > 0.0 => (
                cap,
                Some(format!(
                    "the reference alone (U {:.3} %) exceeds the target U {:.3} %",
                    c.fixed_u_pct, target
                )),
            ),
            None => (cap, Some("no power at the load to count".into())),
        };
        let energy = c.power * dwell.as_secs_f64() / 3600.0;
        let expected = if energy > 0.0 {
            Self::u_after(c, energy)
        } else {
            f64::INFINITY
        };
        let res_var = q2 / 3.0 * (100.0 / energy.max(f64::MIN_POSITIVE)).powi(2);
        Sizing {
            dwell,
            resolution_dominated: res_var > fixed * fixed,
            planned: PlannedU {
                expected_u_pct: expected,
                limit_pct: c.limit_pct,
                target_u_pct: target,
                method: c.method.clone(),
                flagged: flagged
                    .as_deref()
                    .map(|why| self.flag_text(why, dwell + c.overhead, expected)),
            },
            limited_by: flagged,
        }
    }

    /// States a sizing again after its suite moved the dwell (to whole
    /// register steps, within a test mode's time): the U it now reaches,
    /// and the flag with that U and that time, or none when the target is
    /// met — so that a flag never states a U or a time the point will not
    /// have.
    pub fn restate(&self, s: &mut Sizing, planned_time: Duration, expected_u_pct: f64) {
        s.planned.expected_u_pct = expected_u_pct;
        s.planned.flagged = if s.planned.meets_target() {
            None
        } else {
            let why = s
                .limited_by
                .get_or_insert_with(|| "whole steps within the method's time".into());
            Some(self.flag_text(why, planned_time, expected_u_pct))
        };
    }

    fn flag_text(&self, why: &str, planned_time: Duration, u: f64) -> String {
        format!(
            "target TUR {} not met ({why}): planned at {} h, reaches U {u:.3} %",
            self.target_tur_text(),
            show_hours(planned_time),
        )
    }

    /// Of several ways to measure one point, the one that meets its target
    /// in the least rig time; when none can, the one reaching the lowest U
    /// at the cap. `None` when `options` is empty.
    pub fn cheapest(&self, options: &[Counting]) -> Option<(usize, Sizing)> {
        let bounded: Vec<(Counting, Option<Duration>)> =
            options.iter().map(|c| (c.clone(), None)).collect();
        self.cheapest_within(&bounded)
    }

    /// [`Planner::cheapest`] over methods that may bound their own dwell
    /// ([`Planner::size_within`]): the pulse output, the register, a
    /// higher-resolution register, a test mode's register (issue 20).
    pub fn cheapest_within(
        &self,
        bounded: &[(Counting, Option<Duration>)],
    ) -> Option<(usize, Sizing)> {
        let options: Vec<&Counting> = bounded.iter().map(|(c, _)| c).collect();
        let sized: Vec<(usize, Sizing)> = bounded
            .iter()
            .enumerate()
            .map(|(i, (c, m))| (i, self.size_within(c, *m)))
            .collect();
        let meeting = sized
            .iter()
            .filter(|(_, s)| s.planned.flagged.is_none())
            .min_by_key(|(i, s)| s.dwell + options[*i].overhead)
            .cloned();
        meeting.or_else(|| {
            sized.into_iter().min_by(|a, b| {
                a.1.planned
                    .expected_u_pct
                    .total_cmp(&b.1.planned.expected_u_pct)
            })
        })
    }

    fn target_tur_text(&self) -> String {
        match self.max_u_pct {
            Some(u) => format!("(max U {u} %)"),
            None => format!("{}", self.target_tur),
        }
    }
}

/// Hours as a lab writes them: "4", "0.5", "1.25".
pub fn show_hours(d: Duration) -> String {
    let h = d.as_secs_f64() / 3600.0;
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planner(tur: f64, max_h: f64) -> Planner {
        Planner::of(&PlanTargets {
            target_tur: tur,
            max_u_pct: None,
            max_point_hours: max_h,
            max_rig_hours: None,
        })
    }

    /// The 4 120 83's 0.01 kvarh register at Ib, sin φ 1 (2 300 var),
    /// judged at ±2 %, reference 0.04 %.
    fn register_at(power: f64) -> Counting {
        Counting {
            method: "register".into(),
            limit_pct: 2.0,
            fixed_u_pct: 0.04,
            quanta: vec![10.0],
            power,
            overhead: Duration::from_secs(30),
            min_dwell: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_dwell_is_sized_to_meet_the_target_and_no_longer() {
        let p = planner(3.0, 24.0);
        let s = p.size(&register_at(2300.0));
        assert!(s.planned.flagged.is_none(), "{:?}", s.planned);
        // U within the target, and one second less would miss it.
        let c = register_at(2300.0);
        let at = |d: Duration| Planner::u_after(&c, c.power * d.as_secs_f64() / 3600.0);
        assert!(at(s.dwell) <= 2.0 / 3.0);
        assert!(at(s.dwell - Duration::from_secs(2)) > 2.0 / 3.0);
        // About 1 733 varh: 45 min at 2 300 var.
        let h = s.dwell.as_secs_f64() / 3600.0;
        assert!((0.7..0.8).contains(&h), "{h} h");
        assert!(s.planned.tur() >= 3.0 - 1e-9);
        assert!(s.resolution_dominated);
        assert_eq!(s.repetitions(5), 1);
    }

    #[test]
    fn a_point_that_cannot_meet_its_target_is_cut_at_the_cap_and_flagged() {
        let p = planner(3.0, 4.0);
        let s = p.size(&register_at(115.0));
        assert_eq!(
            s.dwell + Duration::from_secs(30),
            Duration::from_secs(4 * 3600)
        );
        let why = s.planned.flagged.as_deref().expect("flagged");
        assert!(why.contains("max_point_hours = 4 h"), "{why}");
        assert!(s.planned.expected_u_pct > 2.0 / 3.0);
        assert!(!s.planned.meets_target());
        assert!(s.planned.to_string().contains("FLAGGED"));
    }

    /// A suite that moves the dwell after sizing (whole register steps, a
    /// test mode's time) states the flag again with the U and the time the
    /// point will have, never those of the dwell it was first sized to.
    #[test]
    fn a_flag_restated_after_the_dwell_moved_says_the_u_it_will_reach() {
        let p = planner(3.0, 4.0);
        let c = register_at(115.0);
        let mut s = p.size(&c);
        let first = s.planned.expected_u_pct;
        let u = Planner::u_after(&c, 200.0);
        assert!(u > first);
        p.restate(&mut s, Duration::from_secs(5400), u);
        let why = s.planned.flagged.as_deref().expect("still flagged");
        assert!(why.contains(&format!("reaches U {u:.3} %")), "{why}");
        assert!(why.contains("planned at 1.5 h"), "{why}");
        assert!(why.contains("max_point_hours = 4 h"), "{why}");
        // Moved to where it meets the target: no flag.
        p.restate(&mut s, Duration::from_secs(3600), 0.5);
        assert!(s.planned.flagged.is_none());
        // Met when sized, missed after the move: flagged, with a reason.
        let mut met = p.size(&register_at(2300.0));
        assert!(met.planned.flagged.is_none());
        p.restate(&mut met, Duration::from_secs(600), 1.0);
        let why = met
            .planned
            .flagged
            .as_deref()
            .expect("flagged after the move");
        assert!(why.contains("reaches U 1.000 %"), "{why}");
    }

    #[test]
    fn a_reference_worse_than_the_target_is_flagged_not_sized_forever() {
        let p = planner(3.0, 2.0);
        let mut c = register_at(2300.0);
        c.fixed_u_pct = 1.0;
        let s = p.size(&c);
        assert!(
            s.planned
                .flagged
                .as_deref()
                .expect("flagged")
                .contains("reference alone")
        );
        assert!(s.dwell <= Duration::from_secs(2 * 3600));
    }

    #[test]
    fn a_maximum_u_replaces_the_ratio() {
        let mut p = planner(3.0, 24.0);
        p.max_u_pct = Some(0.2);
        assert_eq!(p.target_u(2.0), 0.2);
        let tight = p.size(&register_at(2300.0)).dwell;
        let loose = planner(3.0, 24.0).size(&register_at(2300.0)).dwell;
        assert!(tight > loose * 3);
    }

    #[test]
    fn a_fine_pulse_output_beats_a_coarse_register() {
        let p = planner(3.0, 24.0);
        let mut pulses = register_at(2300.0);
        pulses.method = "pulses".into();
        pulses.quanta = vec![0.1];
        let (i, s) = p
            .cheapest(&[register_at(2300.0), pulses])
            .expect("two options");
        assert_eq!(i, 1);
        assert!(s.dwell < Duration::from_secs(120));
    }

    /// A test mode that ends by itself bounds its method's dwell (issue 20):
    /// cut there and flagged as such, and then not chosen over a method
    /// that meets the target; chosen when it meets it faster.
    #[test]
    fn a_method_bounded_by_its_own_time_is_cut_there_and_weighed_so() {
        let p = planner(3.0, 24.0);
        // 115 var: the 10 varh register needs ≈ 12 h for TUR 3.
        let coarse = register_at(115.0);
        let mut mode = register_at(115.0);
        mode.method = "test mode, 0.1 varh".into();
        mode.quanta = vec![0.1];
        let s = p.size_within(&mode, Some(Duration::from_secs(3540)));
        assert!(s.planned.flagged.is_none(), "{:?}", s.planned);
        assert!(s.dwell < Duration::from_secs(600), "{:?}", s.dwell);
        let (i, _) = p
            .cheapest_within(&[
                (coarse.clone(), None),
                (mode.clone(), Some(Duration::from_secs(3540))),
            ])
            .expect("two options");
        assert_eq!(i, 1);
        // A mode of 10 s cannot reach the target: flagged, and not chosen
        // when another method meets it.
        let short = p.size_within(&mode, Some(Duration::from_secs(10)));
        assert_eq!(short.dwell, Duration::from_secs(10));
        let why = short.planned.flagged.as_deref().expect("flagged");
        assert!(why.contains("longer dwell than the method allows"), "{why}");
        let mut fine = register_at(115.0);
        fine.quanta = vec![1.0];
        let (i, s) = p
            .cheapest_within(&[(fine, None), (mode, Some(Duration::from_secs(10)))])
            .expect("two options");
        assert_eq!(i, 0);
        assert!(s.planned.flagged.is_none());
    }

    #[test]
    fn the_plans_targets_are_read_and_checked_with_key_and_range() {
        let plan = |head: &str| {
            super::super::plan::parse_plan(
                &format!(
                    "[plan]\nname = \"t\"\ndecision_rule = \"non-binary\"\n{head}\n[[suites]]\nid = \"tariff\"\n"
                ),
                std::path::Path::new("t.toml"),
                &[super::super::params::Declaration::bare("tariff")],
            )
        };
        let p = plan("target_tur = 4\nmax_point_hours = 2\nmax_rig_hours = 30\nmax_u_pct = 0.5")
            .expect("valid");
        assert_eq!(p.targets.target_tur, 4.0);
        assert_eq!(p.targets.max_point_hours, 2.0);
        assert_eq!(p.targets.max_rig_hours, Some(30.0));
        assert_eq!(p.targets.max_u_pct, Some(0.5));
        let d = plan("").expect("defaults");
        assert_eq!(d.targets, PlanTargets::default());
        for (head, key, range) in [
            ("target_tur = 0.5", "plan.target_tur", "1..=100"),
            ("max_point_hours = 0", "plan.max_point_hours", "0.01..=1000"),
            ("max_rig_hours = -1", "plan.max_rig_hours", "0.01..=100000"),
            ("max_u_pct = 0", "plan.max_u_pct", "0 (exclusive)..=100"),
        ] {
            let e = plan(head).expect_err(head).to_string();
            assert!(
                e.contains(key) && e.contains(range) && e.contains("t.toml"),
                "{e}"
            );
        }
    }
}
