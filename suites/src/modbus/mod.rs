//! `modbus` — the meter's Modbus promises and the protocol itself: response
//! time over N ≥ 1000 requests a block, every line setting and the edge
//! addresses (restored afterwards, always), exceptions, and what raw frames
//! get (Modbus over Serial Line V1.02, Application Protocol V1.1b3;
//! `limits::modbus`). Deviations the datasheet allows (a 10-bit character,
//! addresses 248..255) are findings unless the plan says `deviations = "fail"`.
//!
//! Owns: the modbus suite's points, and what each check saw: response
//! times (`response_time`), the settings matrix (`settings_matrix`), the
//! protocol rules (`protocol`). The framework judges them
//! (`harness::run::Measured`). May import: `harness` (run, rig, modbus,
//! profile), the suite's limit rows (`limits::modbus`); never the simulator.

mod protocol;
mod response_time;
mod settings_matrix;

use std::time::Duration;

use harness::modbus::timing::{t3_5, wire_time};
use harness::profile::{LineSettings, MeterProfile, MeterSetting, Table};
use harness::rig::Rig;
use harness::run::{Measured, Param, PlanContext, PointIo, PointSpec, Severity, SuiteError};
use serde::{Deserialize, Serialize};

pub use protocol::BACK_TO_BACK;
pub use response_time::{Block, MIN_REQUESTS_ONCE_FAILED, quantile};

use crate::common::link;
use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use crate::limits::modbus::{self as rules, RULES};

/// Requests per function and block unless the plan says otherwise.
pub const DEFAULT_REQUESTS: u32 = 1000;
/// A meter's turnaround assumed when planning rig time (not a limit).
const PLANNING_TURNAROUND: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
pub struct ModbusSuite;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "kebab-case")]
enum Check {
    ResponseTime { block: Block },
    Line { line: LineSettings },
    Address { address: u8 },
    Protocol { rule: String },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    check: Check,
    requests: u32,
    /// Deviations the datasheet allows fail the point.
    strict: bool,
    /// A block the meter answers, for the protocol checks.
    block: Block,
}

/// The profile's readable registers as contiguous blocks, one per function
/// that reads them, each within the meter's largest read.
pub fn register_blocks(profile: &MeterProfile) -> Vec<Block> {
    let Some(m) = profile.modbus.as_ref() else {
        return Vec::new();
    };
    let mut places: Vec<_> = profile
        .registers
        .iter()
        .filter(|r| r.place.access.readable())
        .map(|r| (r.place.table, r.place.address, r.place.words()))
        .collect();
    places.sort();
    places.dedup();
    let mut spans: Vec<(Table, u16, u16)> = Vec::new();
    for (table, address, words) in places {
        match spans.last_mut() {
            Some((t, start, count))
                if *t == table
                    && u32::from(*start) + u32::from(*count) == u32::from(address)
                    && *count + words <= m.max_read_registers.min(125) =>
            {
                *count += words
            }
            _ => spans.push((table, address, words)),
        }
    }
    let mut blocks = Vec::new();
    for (table, address, count) in spans {
        let count = if m.odd_count_refused && count % 2 == 1 {
            count - 1
        } else {
            count
        };
        if count == 0 {
            continue;
        }
        let functions: Vec<u8> = if m.input_equals_holding {
            m.read_functions.clone()
        } else if m.read_functions.contains(&table.read_function()) {
            vec![table.read_function()]
        } else {
            Vec::new()
        };
        for function in functions {
            blocks.push(Block {
                function,
                address,
                count,
            });
        }
    }
    blocks
}

/// Every line setting the profile offers, the factory one first.
fn line_matrix(profile: &MeterProfile) -> Vec<LineSettings> {
    let Some(s) = profile.serial.as_ref() else {
        return Vec::new();
    };
    let mut out = vec![s.factory_line()];
    for baud in &s.bauds {
        for framing in &s.framings {
            let l = LineSettings {
                baud: *baud,
                framing: *framing,
            };
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    out
}

fn writable(profile: &MeterProfile, s: MeterSetting) -> bool {
    profile
        .setting(s)
        .is_some_and(|d| d.place.access.readable() && d.place.access.writable())
}

/// `requests`: requests per response-time block.
const REQUESTS: Param = Param::whole("requests", 1.0, 1_000_000.0, "requests");

/// `deviations`: whether a deviation from the register map is a finding or
/// fails the point.
const DEVIATIONS: Param = Param::choice("deviations", &["finding", "fail"]);

impl Declares for ModbusSuite {
    const TITLE: &'static str =
        "Modbus: response time, settings matrix, exceptions and malformed frames";
    const PARAMS: &'static [Param] = &[REQUESTS, DEVIATIONS];
    type Params = Params;

    /// The settings matrix changes the bus's line settings and the
    /// response time would measure the other positions' traffic: one
    /// position at a time.
    fn concurrent_positions(&self) -> bool {
        false
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let requests = ctx.number_of(&REQUESTS, f64::from(DEFAULT_REQUESTS))? as u32;
        let strict = ctx.choice_of(&DEVIATIONS, "finding")? == "fail";
        let mut out = Vec::new();
        let (Some(serial), Some(_)) = (profile.serial.as_ref(), profile.modbus.as_ref()) else {
            return Ok(out);
        };
        let blocks = register_blocks(profile);
        let Some(&first) = blocks.first() else {
            return Ok(out);
        };
        let factory = serial.factory_line();
        let per_request =
            wire_time(factory, first.frame_bytes()) + t3_5(factory) * 2 + PLANNING_TURNAROUND;
        let limit_ms = serial.response_timeout.as_secs_f64() * 1000.0;
        let mut add =
            |id: String, title: String, check: Check, rig_time: Duration, limit: Option<Limit>| {
                let params = Params {
                    check,
                    requests,
                    strict,
                    block: first,
                };
                let planned = Planned::new(id, title, Vec::new(), rig_time, params);
                out.push(match limit {
                    Some(l) => planned.judged_by(l),
                    None => planned,
                });
            };
        for block in &blocks {
            let limit = Limit::of(rules::RESPONSE_TIME).at(limit_ms).in_unit("ms");
            // The title shows the limit the plan's overrides leave.
            let shown = ctx
                .plan
                .override_for(rules::RESPONSE_TIME.table, rules::RESPONSE_TIME.id)
                .map_or(limit_ms, |o| o.limit_pct);
            add(
                format!(
                    "response-time-f{:02x}-{:04x}",
                    block.function, block.address
                ),
                format!(
                    "response time, function {:02X} at 0x{:04X} × {}: max ≤ {} ms (limit in ms)",
                    block.function, block.address, block.count, shown
                ),
                Check::ResponseTime { block: *block },
                per_request * requests,
                Some(limit),
            );
        }
        if writable(profile, MeterSetting::Baud) && writable(profile, MeterSetting::Framing) {
            for line in line_matrix(profile) {
                add(
                    format!("line-{}-{}", line.baud, line.framing),
                    format!("set the line to {line}, reconnect, read back, restore"),
                    Check::Line { line },
                    per_request * 12,
                    None,
                );
            }
        }
        if writable(profile, MeterSetting::Address) {
            let (lo, hi) = serial.address_range;
            let mut addresses = vec![1, serial.address_default, 247, 255];
            addresses.dedup();
            addresses.sort();
            addresses.dedup();
            for a in addresses.into_iter().filter(|a| (lo..=hi).contains(a)) {
                add(
                    format!("address-{a}"),
                    format!("set address {a}, reconnect, read back, restore"),
                    Check::Address { address: a },
                    per_request * 8,
                    None,
                );
            }
        }
        for rule in &RULES {
            let limit = Limit::of(rule.row()).in_unit("");
            add(
                rule.id.to_string(),
                rule.description.to_string(),
                Check::Protocol {
                    rule: rule.id.to_string(),
                },
                per_request * 4 + serial.response_timeout * 3,
                Some(limit),
            );
        }
        Ok(out)
    }

    /// Each check says what it saw; the framework judges it (`run::judge`:
    /// the worst response time against the limit, a deviation as a finding
    /// or a failure, a protocol rule met or not).
    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        self.check(point, p, rig, io).await
    }
}

impl ModbusSuite {
    async fn check(
        &self,
        point: &PointSpec,
        p: Params,
        rig: &mut Rig,
        io: &mut PointIo<'_>,
    ) -> Measure {
        let position = point.position;
        let profile = rig
            .positions
            .get(position)
            .map(|p| p.profile.clone())
            .ok_or_else(|| SuiteError::Measure(format!("no position {}", position + 1)))?;
        let serial = profile
            .serial
            .as_ref()
            .ok_or_else(|| SuiteError::Plan("the profile has no [serial] section".into()))?;
        match &p.check {
            Check::ResponseTime { block } => {
                let limit_ms = point
                    .limit
                    .as_ref()
                    .map_or(serial.response_timeout.as_secs_f64() * 1000.0, |l| {
                        l.limit_pct
                    });
                response_time::measure(rig, position, io, *block, p.requests, limit_ms).await
            }
            Check::Line { line } => {
                let r = settings_matrix::line(link(rig, position)?.as_mut(), *line).await?;
                Ok(deviating(r, p.strict, io))
            }
            Check::Address { address } => {
                if let Some(other) = neighbours(rig, position)
                    .into_iter()
                    .find(|(_, unit)| unit == address)
                {
                    return Ok(Measured::not_applicable(format!(
                        "address {address} is position {}'s on this RS485 line: two meters there would both answer (V1.02 §2.1); try it with the meter alone on its line",
                        other.0 + 1
                    )));
                }
                let r = settings_matrix::address(link(rig, position)?.as_mut(), *address).await?;
                Ok(deviating(r, p.strict, io))
            }
            Check::Protocol { rule } => {
                let rule = rules::rule(rule)
                    .ok_or_else(|| SuiteError::Plan(format!("no protocol check `{rule}`")))?;
                let listen = serial.response_timeout.mul_f64(1.5) + Duration::from_millis(50);
                let taken: Vec<u8> = neighbours(rig, position)
                    .into_iter()
                    .map(|(_, unit)| unit)
                    .collect();
                let target = protocol::Target {
                    link: link(rig, position)?,
                    profile: &profile,
                    block: p.block,
                    listen,
                    taken,
                };
                protocol::run(rule, target).await
            }
        }
    }
}

/// The other positions on this position's RS485 line, with their addresses.
fn neighbours(rig: &Rig, position: usize) -> Vec<(usize, u8)> {
    let Some(me) = rig.config.positions.get(position) else {
        return Vec::new();
    };
    let Some(line) = me.shared_line() else {
        return Vec::new();
    };
    rig.config
        .positions
        .iter()
        .filter(|p| p.index != position && p.shared_line().as_ref() == Some(&line))
        .map(|p| (p.index, p.unit()))
        .collect()
}

/// A deviation the datasheet allows is reported as a finding; the
/// framework judges it a finding, or a failure in a strict plan
/// (`deviations = "fail"`).
fn deviating(r: settings_matrix::MatrixResult, strict: bool, io: &mut PointIo<'_>) -> Measured {
    let deviation = r.deviation.map(|d| d.text);
    if let Some(d) = &deviation {
        io.finding(Severity::Deviation, d.clone());
    }
    Measured::Deviating {
        ok: r.ok,
        summary: r.summary,
        details: r.details,
        deviation,
        deviation_fails: strict,
    }
}
