//! The simulated meter's physics: what it registers, pulses and reports.
//!
//! The model moves forward in rig time only (`advance_to`), integrating the
//! load it sees segment by segment. Segment ends are the instants where
//! something discrete happens (a pulse, a minute tick of the average power,
//! a noise epoch, a tariff switch, a reboot), each computed analytically, so
//! a 10 h dwell at Iref costs about one step per pulse.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::faults::{ErrorCurve, Faults, active_pf, reactive_sin};
use super::pulses::{PulseAccumulator, PulseOutput};
use crate::load_point::LoadPoint;
use crate::profile::{Framing, MeterProfile, MeterQuantity, MeterSetting, SettingValue};
use crate::quantity::Amps;
use crate::rig::RigInstant;
use crate::rig::pulse_input::PulseChannel;
use crate::rig::tariff_output::Tariff;

/// The meter's error is redrawn this often (and at every change of load).
pub const NOISE_EPOCH: Duration = Duration::from_secs(10);
/// How long a reboot keeps the meter silent.
pub const REBOOT_TIME: Duration = Duration::from_secs(3);
/// Counters roll over past 9 999 999.99 kWh (datasheet §7, display maximum).
pub const ROLLOVER_WH: f64 = 1e10;
/// The meter runs from its own voltage circuit (datasheet §7: self-supplied)
/// and is up above this fraction of Un.
pub const POWER_UP_FRACTION: f64 = 0.6;
const LED_ON: Duration = Duration::from_millis(10);
/// IEC 62053-31: tOFF ≥ 30 ms; a good meter never shows less.
const S0_MIN_OFF: Duration = Duration::from_millis(30);
/// A good meter's starting threshold, as a fraction of its rated Ist.
const GOOD_START_FRACTION: f64 = 0.6;

/// What the simulated meter says of itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimIdentity {
    pub model_id: u32,
    pub serial_number: u32,
    pub firmware: String,
}

/// Energy registers of one bank, in Wh and varh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyBank {
    pub active_import: f64,
    pub active_export: f64,
    /// Reactive energy by quadrant I..IV.
    pub reactive: [f64; 4],
}

impl EnergyBank {
    fn add(&mut self, p_wh: f64, q_varh: f64, import_side: bool) {
        if p_wh >= 0.0 {
            self.active_import = wrap(self.active_import + p_wh);
        } else {
            self.active_export = wrap(self.active_export - p_wh);
        }
        let quadrant = match (import_side, q_varh >= 0.0) {
            (true, true) => 0,
            (false, true) => 1,
            (false, false) => 2,
            (true, false) => 3,
        };
        self.reactive[quadrant] = wrap(self.reactive[quadrant] + q_varh.abs());
    }

    pub fn reactive_import(&self) -> f64 {
        wrap(self.reactive[0] + self.reactive[1])
    }

    pub fn reactive_export(&self) -> f64 {
        wrap(self.reactive[2] + self.reactive[3])
    }
}

fn wrap(wh: f64) -> f64 {
    if wh >= ROLLOVER_WH {
        wh - ROLLOVER_WH
    } else {
        wh
    }
}

/// Counters that survive a power cycle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    pub total: EnergyBank,
    pub partial: EnergyBank,
    pub t1: EnergyBank,
    pub t2: EnergyBank,
    pub hour_meter_s: f64,
    pub average_max_w: f64,
}

/// Settings, kept in non-volatile memory (the type lives in `rig`, so
/// tests read them through `rig::SimulatedBench`).
pub use crate::rig::simulated::MeterSettings;

/// Why a setting was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Locked,
    BadValue(String),
}

#[derive(Debug)]
struct AveragePower {
    /// Cumulative import energy at each minute tick since boot (index 0 = boot).
    history: VecDeque<f64>,
    /// Whether `history[0]` is the boot instant.
    boot_in_history: bool,
    next_tick: RigInstant,
    avg_w: f64,
}

impl AveragePower {
    fn boot(now: RigInstant) -> Self {
        let mut history = VecDeque::new();
        history.push_back(0.0);
        Self {
            history,
            boot_in_history: true,
            next_tick: now + Duration::from_secs(60),
            avg_w: 0.0,
        }
    }
}

#[derive(Debug)]
pub struct MeterModel {
    profile: Arc<MeterProfile>,
    pub identity: SimIdentity,
    faults: Faults,
    curve: ErrorCurve,
    reactive_curve: ErrorCurve,
    start_threshold: Amps,
    counters: Counters,
    settings: MeterSettings,
    now: RigInstant,
    input: Option<LoadPoint>,
    powered: bool,
    reboot_until: Option<RigInstant>,
    reboot_done: bool,
    boots: u32,
    unlocked: bool,
    tariff_input: Tariff,
    tariff_input_since: RigInstant,
    active_tariff: Tariff,
    debounce: Duration,
    rng: ChaCha8Rng,
    noise: (f64, f64),
    /// When `noise` last changed.
    noise_at: RigInstant,
    next_noise: RigInstant,
    led_acc: PulseAccumulator,
    s0_acc: PulseAccumulator,
    led: PulseOutput,
    s0: PulseOutput,
    s0_requests: u64,
    s0_dropped: u64,
    import_since_boot: f64,
    average: AveragePower,
    /// Until when the factory test mode (`[test_mode]`) is on; RAM state,
    /// so a power loss ends it, and the meter ends it by itself after the
    /// profile's `lasts_min`.
    test_mode_until: Option<RigInstant>,
    /// How many times the test mode was entered (tests look).
    test_mode_entries: u32,
}

impl MeterModel {
    pub fn new(
        profile: Arc<MeterProfile>,
        identity: SimIdentity,
        faults: Faults,
        seed: u64,
    ) -> Self {
        let curve = ErrorCurve::new(
            faults
                .error_curve
                .iter()
                .map(|p| (p.current_a, p.pf.as_str(), p.error_pct)),
        );
        let reactive_curve = ErrorCurve::new(
            faults
                .reactive_error_curve
                .iter()
                .map(|p| (p.current_a, p.sin_phi.as_str(), p.error_pct)),
        );
        let start_threshold = Amps(
            faults
                .starting_current_a
                .unwrap_or(profile.ratings.ist.0 * GOOD_START_FRACTION),
        );
        let settings = MeterSettings::factory(&profile);
        let led_weight = 1000.0 / profile.pulse.led_constant.0;
        let s0_on = faults
            .s0_on_ms
            .map_or(settings.s0_duration, Duration::from_millis);
        let debounce = profile
            .tariff
            .as_ref()
            .map_or(Duration::from_millis(50), |t| t.debounce);
        let mut m = Self {
            curve,
            reactive_curve,
            start_threshold,
            counters: Counters::default(),
            now: RigInstant::ZERO,
            input: None,
            powered: false,
            reboot_until: None,
            reboot_done: false,
            boots: 0,
            unlocked: false,
            tariff_input: Tariff::T1,
            tariff_input_since: RigInstant::ZERO,
            active_tariff: Tariff::T1,
            debounce,
            rng: ChaCha8Rng::seed_from_u64(seed),
            noise: (0.0, 0.0),
            noise_at: RigInstant::ZERO,
            next_noise: RigInstant::ZERO,
            led_acc: PulseAccumulator::new(led_weight),
            s0_acc: PulseAccumulator::new(settings.s0_weight_wh),
            led: PulseOutput::new(LED_ON, Duration::ZERO),
            s0: PulseOutput::new(s0_on, S0_MIN_OFF),
            s0_requests: 0,
            s0_dropped: 0,
            import_since_boot: 0.0,
            average: AveragePower::boot(RigInstant::ZERO),
            test_mode_until: None,
            test_mode_entries: 0,
            settings,
            identity,
            faults,
            profile,
        };
        m.redraw_noise();
        m
    }

    pub fn profile(&self) -> &Arc<MeterProfile> {
        &self.profile
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn now(&self) -> RigInstant {
        self.now
    }

    pub fn settings(&self) -> &MeterSettings {
        &self.settings
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn boots(&self) -> u32 {
        self.boots
    }

    /// Up and able to answer: powered and not rebooting.
    pub fn is_up(&self) -> bool {
        self.powered && self.reboot_until.is_none()
    }

    pub fn is_unlocked(&self) -> bool {
        self.unlocked
    }

    pub fn active_tariff(&self) -> Tariff {
        self.active_tariff
    }

    pub fn s0_dropped(&self) -> u64 {
        self.s0_dropped
    }

    /// Restarts the noise from `seed`, with a fresh epoch from now.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.redraw_noise();
    }

    fn redraw_noise(&mut self) {
        let sd = self.faults.noise_pct;
        self.noise = if sd > 0.0 {
            match Normal::new(0.0, sd) {
                Ok(n) => (n.sample(&mut self.rng), n.sample(&mut self.rng)),
                Err(_) => (0.0, 0.0),
            }
        } else {
            (0.0, 0.0)
        };
        self.noise_at = self.now;
        self.next_noise = self.now + self.noise_step();
    }

    /// How often the noise changes: every `NOISE_EPOCH`, or with
    /// `noise_tau_s` every τ/10 (at most `NOISE_EPOCH`, at least 0.1 s), a
    /// step at which a gate of a few seconds sees the process as it is.
    fn noise_step(&self) -> Duration {
        match self.faults.noise_tau_s {
            Some(tau) => {
                Duration::from_secs_f64((tau / 10.0).clamp(0.1, NOISE_EPOCH.as_secs_f64()))
            }
            None => NOISE_EPOCH,
        }
    }

    /// Moves the Ornstein–Uhlenbeck error (`Faults::noise_tau_s`) on to now
    /// by its exact transition over Δt: x' = x·ρ + σ·√(1 − ρ²)·z, ρ = e^(−Δt/τ)
    /// (so the process keeps its σ and its correlation e^(−Δt/τ) however the
    /// steps fall).
    fn step_noise(&mut self, tau: f64) {
        let sd = self.faults.noise_pct;
        let dt = self.now.secs_f64() - self.noise_at.secs_f64();
        if sd > 0.0 && dt > 0.0 {
            let r = (-dt / tau).exp();
            let w = sd * (1.0 - r * r).sqrt();
            if let Ok(n) = Normal::new(0.0, 1.0) {
                let (z0, z1) = (n.sample(&mut self.rng), n.sample(&mut self.rng));
                self.noise = (r * self.noise.0 + w * z0, r * self.noise.1 + w * z1);
            }
        }
        self.noise_at = self.now;
        self.next_noise = self.now + self.noise_step();
    }

    /// The noise's next value: a fresh draw (epochs) or the process moved on.
    fn next_noise_value(&mut self) {
        match self.faults.noise_tau_s {
            Some(tau) => self.step_noise(tau),
            None => self.redraw_noise(),
        }
    }

    /// The drift of the active error at its age now (`Faults::drift_pct_per_day`).
    fn drift_pct(&self) -> f64 {
        let age_days = self.faults.age_days + self.now.secs_f64() / 86_400.0;
        self.faults.drift_pct_per_day * age_days
    }

    /// Active and reactive power the meter registers now (W, var).
    pub fn registered_power(&self) -> (f64, f64) {
        let Some(lp) = self.input.filter(|_| self.is_up()) else {
            return (0.0, 0.0);
        };
        if lp.current.0 < self.start_threshold.0 {
            return (self.faults.creep_w, 0.0);
        }
        let e_p =
            self.curve.error_pct(lp.current, active_pf(lp.phase)) + self.noise.0 + self.drift_pct();
        let e_q = self
            .reactive_curve
            .error_pct(lp.current, reactive_sin(lp.phase))
            + self.noise.1;
        (
            lp.active_power().0 * (1.0 + e_p / 100.0),
            lp.reactive_power().0 * (1.0 + e_q / 100.0),
        )
    }

    /// Applies what the meter's terminals see from now on (None: no voltage).
    pub fn set_input(&mut self, input: Option<LoadPoint>) {
        self.input = input;
        let should_be_up =
            input.is_some_and(|lp| lp.voltage.0 >= POWER_UP_FRACTION * self.profile.ratings.un.0);
        if should_be_up && !self.powered {
            self.powered = true;
            self.boot();
        } else if !should_be_up && self.powered {
            self.powered = false;
            self.power_down();
        }
        // Epoch noise is redrawn at a change of load; a slow component
        // (`noise_tau_s`) runs on through it, as a bench's does.
        self.next_noise_value();
    }

    /// Drives the tariff input (T2 = input energised).
    pub fn set_tariff_input(&mut self, t: Tariff) {
        if t != self.tariff_input {
            self.tariff_input = t;
            self.tariff_input_since = self.now;
        }
    }

    fn boot(&mut self) {
        self.boots += 1;
        self.unlocked = false;
        self.test_mode_until = None;
        self.import_since_boot = 0.0;
        self.average = AveragePower::boot(self.now);
    }

    /// RAM state is lost; counters and settings (non-volatile) survive.
    fn power_down(&mut self) {
        self.led.power_down(self.now);
        self.s0.power_down(self.now);
        self.led_acc.clear();
        self.s0_acc.clear();
        self.unlocked = false;
    }

    fn next_boundary(&self, limit: RigInstant) -> RigInstant {
        let mut next = limit;
        let mut consider = |t: Option<RigInstant>| {
            if let Some(t) = t {
                let t = t.max(self.now + Duration::from_nanos(1));
                if t < next {
                    next = t;
                }
            }
        };
        if self.faults.noise_pct > 0.0 {
            consider(Some(self.next_noise));
        }
        if self.is_up() {
            let (p, _) = self.registered_power();
            consider(self.led_acc.time_to_next(p.abs()).map(|d| self.now + d));
            consider(self.s0_acc.time_to_next(p).map(|d| self.now + d));
            consider(Some(self.average.next_tick));
        }
        consider(self.led.next_edge());
        consider(self.s0.next_edge());
        if self.tariff_input != self.active_tariff_input() {
            consider(Some(self.tariff_input_since + self.debounce));
        }
        if let (Some(at), false) = (self.faults.reboot_at_s, self.reboot_done) {
            consider(Some(RigInstant(Duration::from_secs_f64(at))));
        }
        consider(self.reboot_until);
        next
    }

    /// The input level the active tariff corresponds to.
    fn active_tariff_input(&self) -> Tariff {
        if self.faults.tariff_swapped {
            other(self.active_tariff)
        } else {
            self.active_tariff
        }
    }

    /// Moves the meter forward to `t` with its input held steady.
    pub fn advance_to(&mut self, t: RigInstant) {
        while self.now < t {
            let next = self.next_boundary(t);
            self.integrate(next.since(self.now));
            self.now = next;
            self.on_boundary();
        }
    }

    /// The earliest instant after now at which an edge appears on `channel`
    /// or anything else discrete happens, capped at `limit`.
    pub fn next_event(&self, limit: RigInstant) -> RigInstant {
        self.next_boundary(limit)
    }

    fn integrate(&mut self, dt: Duration) {
        if !self.is_up() || dt.is_zero() {
            return;
        }
        let hours = dt.as_secs_f64() / 3600.0;
        let (p, q) = self.registered_power();
        let (e_p, e_q) = (p * hours, q * hours);
        let import_side = if p != 0.0 {
            p > 0.0
        } else {
            self.input.is_none_or(|lp| lp.phase.cos() >= 0.0)
        };
        self.counters.total.add(e_p, e_q, import_side);
        self.counters.partial.add(e_p, e_q, import_side);
        match self.active_tariff {
            Tariff::T1 => self.counters.t1.add(e_p, e_q, import_side),
            Tariff::T2 => self.counters.t2.add(e_p, e_q, import_side),
        }
        if self.faults.hour_meter_ignores_threshold
            || (p > self.settings.hour_meter_threshold_w && p > 0.0)
        {
            self.counters.hour_meter_s += dt.as_secs_f64();
        }
        self.led_acc.add(e_p.abs());
        self.s0_acc.add(e_p);
        self.import_since_boot += e_p.max(0.0);
    }

    fn on_boundary(&mut self) {
        let now = self.now;
        while self.led_acc.take_pulse() {
            self.led.request(now);
        }
        while self.s0_acc.take_pulse() {
            self.s0_requests += 1;
            let n = self.faults.s0_drop_every;
            if n > 0 && self.s0_requests.is_multiple_of(n) {
                self.s0_dropped += 1;
            } else {
                self.s0.request(now);
            }
        }
        self.led.release_until(now);
        self.s0.release_until(now);
        if now >= self.next_noise {
            self.next_noise_value();
        }
        if self.is_up() && now >= self.average.next_tick {
            self.average_tick();
        }
        if self.tariff_input != self.active_tariff_input()
            && now >= self.tariff_input_since + self.debounce
        {
            self.active_tariff = if self.faults.tariff_swapped {
                other(self.tariff_input)
            } else {
                self.tariff_input
            };
        }
        if let (Some(at), false) = (self.faults.reboot_at_s, self.reboot_done)
            && now.secs_f64() >= at
        {
            self.reboot_done = true;
            if self.powered {
                self.power_down();
                self.reboot_until = Some(now + REBOOT_TIME);
            }
        }
        if let Some(until) = self.reboot_until
            && now >= until
        {
            self.reboot_until = None;
            self.boot();
        }
    }

    fn average_tick(&mut self) {
        let a = &mut self.average;
        a.history.push_back(self.import_since_boot);
        // Keep the longest window's worth (60 min) whatever the setting.
        while a.history.len() > 61 {
            a.history.pop_front();
            a.boot_in_history = false;
        }
        let w = match self.faults.average_window_stuck_min {
            Some(stuck) => stuck as usize,
            None => (self.settings.average_window.as_secs() / 60).max(1) as usize,
        };
        let n = a.history.len();
        let newest = a.history[n - 1];
        a.avg_w = if n > w {
            (newest - a.history[n - 1 - w]) / (w as f64 / 60.0)
        } else if a.boot_in_history {
            // Before a full window has passed since boot, the time before it counts as zero power.
            (newest - a.history[0]) / (w as f64 / 60.0)
        } else {
            (newest - a.history[0]) / ((n - 1).max(1) as f64 / 60.0)
        };
        self.counters.average_max_w = self.counters.average_max_w.max(a.avg_w);
        a.next_tick = a.next_tick + Duration::from_secs(60);
    }

    /// A named quantity's present value in its canonical unit.
    pub fn quantity(&self, q: MeterQuantity) -> f64 {
        use MeterQuantity as Q;
        let lp = self.input.filter(|_| self.is_up());
        // The registered powers only where a quantity needs them: the
        // Modbus server reads voltage and current at every request.
        let power = || {
            let (p, r) = self.registered_power();
            (p, r, (p * p + r * r).sqrt())
        };
        let c = &self.counters;
        match q {
            Q::Voltage => lp.map_or(0.0, |l| l.voltage.0),
            Q::Current => lp.map_or(0.0, |l| l.current.0),
            Q::Frequency => lp.map_or(0.0, |l| l.frequency.0),
            Q::ActivePower => power().0,
            Q::ReactivePower => power().1,
            Q::ApparentPower => power().2,
            Q::PowerFactor => {
                let (p, _, s) = power();
                if s > 0.0 { p.abs() / s } else { 1.0 }
            }
            Q::PhaseAngle => {
                let (p, r, _) = power();
                r.atan2(p).to_degrees()
            }
            Q::ActivePowerSign => f64::from(u8::from(power().0 < 0.0)),
            Q::ReactivePowerSign => f64::from(u8::from(power().1 < 0.0)),
            Q::PfSector => {
                let (p, r, _) = power();
                f64::from(u8::from((p >= 0.0) != (r >= 0.0)))
            }
            Q::ActiveTariff => match self.active_tariff {
                Tariff::T1 => 1.0,
                Tariff::T2 => 2.0,
            },
            Q::ActiveImportTotal => c.total.active_import,
            Q::ActiveExportTotal => c.total.active_export,
            Q::ActiveSumTotal => wrap(c.total.active_import + c.total.active_export),
            Q::ActiveImportPartial => c.partial.active_import,
            Q::ActiveExportPartial => c.partial.active_export,
            Q::ActiveImportT1 => c.t1.active_import,
            Q::ActiveImportT2 => c.t2.active_import,
            Q::ActiveExportT1 => c.t1.active_export,
            Q::ActiveExportT2 => c.t2.active_export,
            Q::ReactiveImportTotal => c.total.reactive_import(),
            Q::ReactiveExportTotal => c.total.reactive_export(),
            Q::ReactiveSumTotal => wrap(c.total.reactive_import() + c.total.reactive_export()),
            Q::ReactiveImportPartial => c.partial.reactive_import(),
            Q::ReactiveExportPartial => c.partial.reactive_export(),
            Q::ReactiveImportT1 => c.t1.reactive_import(),
            Q::ReactiveImportT2 => c.t2.reactive_import(),
            Q::ReactiveQ1Total => c.total.reactive[0],
            Q::ReactiveQ2Total => c.total.reactive[1],
            Q::ReactiveQ3Total => c.total.reactive[2],
            Q::ReactiveQ4Total => c.total.reactive[3],
            Q::AveragePower => self.average.avg_w,
            Q::AveragePowerMax => c.average_max_w,
            Q::HourMeter => c.hour_meter_s,
            Q::ModelId => f64::from(self.identity.model_id),
            Q::SerialNumber => f64::from(self.identity.serial_number),
            Q::FirmwareVersion => self.identity.firmware.trim().parse::<f64>().unwrap_or(0.0),
        }
    }

    /// A setting's present value in canonical units (seconds, Wh, W).
    pub fn setting_value(&self, s: MeterSetting) -> Option<SettingValue> {
        use MeterSetting as S;
        let st = &self.settings;
        Some(match s {
            S::Address => SettingValue::Number(f64::from(st.address)),
            S::Baud => SettingValue::Number(f64::from(st.line?.baud)),
            S::Framing => SettingValue::Text(st.line?.framing.to_string()),
            S::S0Weight => SettingValue::Number(st.s0_weight_wh),
            S::S0Duration => SettingValue::Number(st.s0_duration.as_secs_f64()),
            S::AverageWindow => SettingValue::Number(st.average_window.as_secs_f64()),
            S::HourMeterThreshold => SettingValue::Number(st.hour_meter_threshold_w),
            S::Password
            | S::PartialReset
            | S::HourMeterReset
            | S::AverageMaxReset
            | S::EnergyPreset => return None,
        })
    }

    /// Enters the profile's test mode for its `lasts` from now (entering
    /// again restarts that time).
    pub fn enter_test_mode(&mut self) {
        if let Some(t) = self.profile.test_mode.as_ref() {
            self.test_mode_until = Some(self.now + t.lasts);
            self.test_mode_entries += 1;
        }
    }

    pub fn leave_test_mode(&mut self) {
        self.test_mode_until = None;
    }

    /// Whether the test mode is on now (its time not yet run out).
    pub fn in_test_mode(&self) -> bool {
        self.test_mode_until.is_some_and(|until| self.now < until)
    }

    /// How many times the test mode has been entered since the meter was made.
    pub fn test_mode_entries(&self) -> u32 {
        self.test_mode_entries
    }

    /// Writes the password: the right code unlocks protected settings until
    /// the next power loss, a wrong one locks them.
    pub fn enter_password(&mut self, right: bool) {
        self.unlocked = right;
    }

    /// Whether `apply_setting` would take `value`, changing nothing: a write
    /// of several settings is checked whole before any of it is applied
    /// (a refused write, exception 03, changes nothing).
    pub fn check_setting(&self, s: MeterSetting, value: &SettingValue) -> Result<(), Refusal> {
        use MeterSetting as S;
        let number = || match value {
            SettingValue::Number(n) if n.is_finite() => Ok(*n),
            SettingValue::Number(n) => Err(Refusal::BadValue(format!("{s} = {n}"))),
            SettingValue::Text(t) => Err(Refusal::BadValue(format!("{s} takes a number, not {t}"))),
        };
        match s {
            S::Address => {
                let a = number()?;
                if !(1.0..=255.0).contains(&a) {
                    return Err(Refusal::BadValue(format!("address {a}")));
                }
            }
            S::Framing => {
                let SettingValue::Text(t) = value else {
                    return Err(Refusal::BadValue("framing takes text such as 8E1".into()));
                };
                Framing::try_from(t.clone()).map_err(Refusal::BadValue)?;
            }
            S::S0Duration | S::AverageWindow => {
                Duration::try_from_secs_f64(number()?.max(0.0))
                    .map_err(|e| Refusal::BadValue(format!("{s}: {e}")))?;
            }
            S::Password | S::PartialReset | S::HourMeterReset | S::AverageMaxReset => {}
            S::Baud | S::S0Weight | S::HourMeterThreshold | S::EnergyPreset => {
                number()?;
            }
        }
        Ok(())
    }

    /// Applies a setting given in canonical units.
    pub fn apply_setting(&mut self, s: MeterSetting, value: &SettingValue) -> Result<(), Refusal> {
        use MeterSetting as S;
        self.check_setting(s, value)?;
        let number = || match value {
            SettingValue::Number(n) => Ok(*n),
            SettingValue::Text(t) => Err(Refusal::BadValue(format!("{s} takes a number, not {t}"))),
        };
        match s {
            S::Password => {}
            S::Address => {
                let a = number()?;
                if !(1.0..=255.0).contains(&a) {
                    return Err(Refusal::BadValue(format!("address {a}")));
                }
                self.settings.address = a as u8;
            }
            S::Baud => {
                let b = number()?;
                if let Some(line) = &mut self.settings.line {
                    line.baud = b as u32;
                }
            }
            S::Framing => {
                let SettingValue::Text(t) = value else {
                    return Err(Refusal::BadValue("framing takes text such as 8E1".into()));
                };
                let f = Framing::try_from(t.clone()).map_err(Refusal::BadValue)?;
                if let Some(line) = &mut self.settings.line {
                    line.framing = f;
                }
            }
            S::S0Weight => {
                let w = number()?;
                self.settings.s0_weight_wh = w;
                self.s0_acc.set_weight(w);
            }
            S::S0Duration => {
                let d = Duration::try_from_secs_f64(number()?.max(0.0))
                    .map_err(|e| Refusal::BadValue(format!("{s}: {e}")))?;
                self.settings.s0_duration = d;
                if self.faults.s0_on_ms.is_none() {
                    self.s0.set_on(d);
                }
            }
            S::AverageWindow => {
                self.settings.average_window = Duration::try_from_secs_f64(number()?.max(60.0))
                    .map_err(|e| Refusal::BadValue(format!("{s}: {e}")))?
            }
            S::HourMeterThreshold => self.settings.hour_meter_threshold_w = number()?,
            S::PartialReset => {
                self.counters.partial = EnergyBank::default();
                if self.faults.partial_reset_clears_total {
                    self.counters.total = EnergyBank::default();
                }
            }
            S::HourMeterReset => self.counters.hour_meter_s = 0.0,
            S::AverageMaxReset => self.counters.average_max_w = 0.0,
            S::EnergyPreset => self.counters.total.active_import = wrap(number()?.max(0.0)),
        }
        Ok(())
    }

    pub fn start_capture(&mut self, ch: PulseChannel) {
        match ch {
            PulseChannel::Led => self.led.start_capture(),
            PulseChannel::S0 => self.s0.start_capture(),
        }
    }

    pub fn take_captured(&mut self, ch: PulseChannel) -> Vec<crate::rig::pulse_input::Edge> {
        match ch {
            PulseChannel::Led => self.led.take_captured(),
            PulseChannel::S0 => self.s0.take_captured(),
        }
    }

    pub fn captured_rising(&self, ch: PulseChannel) -> usize {
        match ch {
            PulseChannel::Led => self.led.captured_rising(),
            PulseChannel::S0 => self.s0.captured_rising(),
        }
    }

    /// Pulses shown and queued on a channel, for diagnostics.
    pub fn pulse_stats(&self, ch: PulseChannel) -> (u64, usize, u64) {
        let o = match ch {
            PulseChannel::Led => &self.led,
            PulseChannel::S0 => &self.s0,
        };
        (o.shown, o.queued(), o.lost)
    }
}

fn other(t: Tariff) -> Tariff {
    match t {
        Tariff::T1 => Tariff::T2,
        Tariff::T2 => Tariff::T1,
    }
}

/// The shipped 4 120 83 profile as a simulated meter with `faults` and
/// `seed`, for the simulator's own unit tests.
#[cfg(test)]
pub(crate) fn test_meter(faults: Faults, seed: u64) -> (Arc<MeterProfile>, MeterModel) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/meters/legrand-412083.toml");
    let profile = Arc::new(crate::profile::load_profile(&path).expect("profile"));
    let identity = SimIdentity {
        model_id: 412083,
        serial_number: 1,
        firmware: "1.00".into(),
    };
    (
        profile.clone(),
        MeterModel::new(profile, identity, faults, seed),
    )
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::quantity::{PowerFactor, Volts};

    fn meter(faults: Faults) -> MeterModel {
        test_meter(faults, 7).1
    }

    /// The active error, percent, `n` times `every` seconds apart, the load
    /// changing between 1 A and 2 A at every reading.
    fn errors(faults: Faults, n: usize, every: f64) -> Vec<f64> {
        let mut m = meter(faults);
        let mut out = Vec::new();
        for i in 0..n {
            let amps = if i % 2 == 0 { 1.0 } else { 2.0 };
            let lp = LoadPoint::new(
                Volts(230.0),
                Amps(amps),
                PowerFactor::UNITY,
                crate::quantity::Hertz(50.0),
            );
            m.set_input(Some(lp));
            m.advance_to(RigInstant(Duration::from_secs_f64(every * (i + 1) as f64)));
            let (p, _) = m.registered_power();
            out.push((p / lp.active_power().0 - 1.0) * 100.0);
        }
        out
    }

    fn sd_and_lag1(x: &[f64]) -> (f64, f64) {
        let n = x.len() as f64;
        let m = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
        let cov = x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum::<f64>() / (n - 1.0);
        (var.sqrt(), cov / var)
    }

    /// `noise_tau_s`: the error keeps σ = `noise_pct` and correlates
    /// e^(−Δt/τ) across load changes (e^(−0.5) = 0.61 at 30 s for τ = 60 s,
    /// nothing left at 600 s); epoch noise redraws at every load change.
    #[test]
    fn a_slow_noise_component_outlasts_load_changes() {
        let slow = Faults {
            noise_pct: 0.1,
            noise_tau_s: Some(60.0),
            ..Faults::default()
        };
        let (sd, r30) = sd_and_lag1(&errors(slow.clone(), 3000, 30.0));
        assert!((sd - 0.1).abs() < 0.012, "σ {sd}");
        assert!(((-0.5f64).exp() - r30).abs() < 0.06, "lag 30 s: {r30}");
        let (_, r600) = sd_and_lag1(&errors(slow, 1500, 600.0));
        assert!(r600.abs() < 0.08, "lag 600 s: {r600}");
        let epochs = Faults {
            noise_pct: 0.1,
            ..Faults::default()
        };
        let (sd, r) = sd_and_lag1(&errors(epochs, 3000, 3.0));
        assert!((sd - 0.1).abs() < 0.01, "σ {sd}");
        assert!(r.abs() < 0.06, "epoch noise redrawn at a load change: {r}");
    }
}
