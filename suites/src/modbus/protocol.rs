//! The protocol checks: exceptions, silence where the specification wants
//! it, and what raw frames (bad CRC, cut short, a silence inside) get. Each
//! check follows one rule of `limits::modbus::RULES`.

use std::borrow::Cow;
use std::time::Duration;

use harness::modbus::timing::{sleep_precise, t1_5, t3_5};
use harness::modbus::{LinkError, ReplyFrame, RtuFrame, Transmission, encode_request};
use harness::profile::{LineSettings, MeterProfile, MeterSetting, SettingValue, Table};
use harness::rig::meter_link::{MeterLink, RawOutcome};
use harness::run::{Measured, SuiteError};
use serde_json::json;
use tokio_modbus::{Request, Response};

use super::response_time::Block;
use crate::limits::modbus::ProtocolRule;

/// How many requests the back-to-back check sends.
pub const BACK_TO_BACK: usize = 20;

/// Everything a check needs to know of the meter under test.
pub struct Target<'a> {
    pub link: &'a mut Box<dyn MeterLink>,
    pub profile: &'a MeterProfile,
    /// A block the meter answers.
    pub block: Block,
    /// How long silence must last to count as no reply.
    pub listen: Duration,
    /// Addresses other meters on the same RS485 line answer at.
    pub taken: Vec<u8>,
}

impl Target<'_> {
    /// A unicast address no meter on the line answers at, near `own`.
    fn free_address(&self, own: u8) -> u8 {
        let up = (own.saturating_add(1)..=247).chain((1..own).rev());
        up.into_iter()
            .find(|a| !self.taken.contains(a))
            .unwrap_or(if own >= 247 { own - 1 } else { own + 1 })
    }
}

fn describe(outcome: &RawOutcome) -> String {
    match outcome {
        Ok(Ok(r)) => format!("reply {}", harness::modbus::describe_response(r)),
        Ok(Err(code)) => format!("exception {:02X}", u8::from(*code)),
        Err(e) => e.to_string(),
    }
}

/// The outcome as the record keeps it: reply, exception or link error, each
/// its own kind.
fn record(outcome: &RawOutcome) -> serde_json::Value {
    match outcome {
        Ok(Ok(r)) => json!({ "kind": "reply", "reply": format!("{r:?}") }),
        Ok(Err(code)) => json!({ "kind": "exception", "code": u8::from(*code) }),
        Err(e) => json!({ "kind": "link_error", "error": e }),
    }
}

fn exception_is(outcome: &RawOutcome, code: u8) -> bool {
    matches!(outcome, Ok(Err(c)) if u8::from(*c) == code)
}

fn read(block: Block, address: u16, count: u16) -> Request<'static> {
    if block.function == 4 {
        Request::ReadInputRegisters(address, count)
    } else {
        Request::ReadHoldingRegisters(address, count)
    }
}

fn answered_right(reply: &ReplyFrame, unit: u8, block: Block) -> bool {
    matches!(reply, ReplyFrame::Response { unit: u, pdu }
        if *u == unit && pdu.first() == Some(&block.function)
            && pdu.get(1) == Some(&((block.count * 2) as u8))
            && pdu.len() == 2 + 2 * block.count as usize)
}

fn block_frame(t: &Target<'_>, unit: u8) -> RtuFrame {
    RtuFrame::new(
        unit,
        &encode_request(&read(t.block, t.block.address, t.block.count)),
    )
}

pub async fn run(rule: &ProtocolRule, t: Target<'_>) -> Result<Measured, SuiteError> {
    if rule.raw && t.link.line().is_none() {
        return Ok(Measured::not_applicable(format!(
            "needs raw RTU frames on a serial line; this link is {}",
            t.link.describe()
        )));
    }
    match rule.id {
        "illegal-function" => illegal_function(t).await,
        "illegal-data-address" => illegal_data_address(t).await,
        "illegal-quantity" => illegal_quantity(t).await,
        "other-address" => other_address(t).await,
        "broadcast-write" => broadcast_write(t).await,
        "bad-crc" => bad_crc(t).await,
        "truncated-frame" => truncated_frame(t).await,
        "character-gap" => character_gap(t).await,
        "back-to-back" => back_to_back(t).await,
        "timeout-recovery" => timeout_recovery(t).await,
        other => Err(SuiteError::Plan(format!("no protocol check `{other}`"))),
    }
}

async fn illegal_function(t: Target<'_>) -> Result<Measured, SuiteError> {
    let m = t.profile.modbus.as_ref();
    let supported =
        |f: u8| m.is_some_and(|m| m.read_functions.contains(&f) || m.write_functions.contains(&f));
    // Reads first: an unsupported function must not change anything even
    // on a meter that wrongly supports it.
    let candidates: [(u8, Request<'static>); 4] = [
        (0x01, Request::ReadCoils(0, 1)),
        (0x02, Request::ReadDiscreteInputs(0, 1)),
        (
            0x04,
            read(
                Block {
                    function: 4,
                    ..t.block
                },
                t.block.address,
                1,
            ),
        ),
        (
            0x03,
            read(
                Block {
                    function: 3,
                    ..t.block
                },
                t.block.address,
                1,
            ),
        ),
    ];
    let Some((f, req)) = candidates.into_iter().find(|(f, _)| !supported(*f)) else {
        return Ok(Measured::not_applicable(
            "the meter supports every function this check could send",
        ));
    };
    let outcome = t.link.raw(req).await;
    let ok = exception_is(&outcome, 0x01);
    Ok(Measured::check(
        ok,
        format!("function {f:02X} (not offered): {}", describe(&outcome)),
        json!({ "function": f, "outcome": record(&outcome) }),
    ))
}

/// An address in the block's table that no register or setting covers.
fn unmapped_address(profile: &MeterProfile, table: Table) -> Option<u16> {
    let covered = |a: u16| {
        let hit = |p: &harness::profile::Placement| {
            p.table == table && a + 1 >= p.address && a < p.address + p.words()
        };
        profile.registers.iter().any(|r| hit(&r.place))
            || profile.settings.iter().any(|s| hit(&s.place))
    };
    [0xFFF0u16, 0xEFF0, 0x7FF0, 0x0F00, 0x0001]
        .into_iter()
        .find(|a| !covered(*a))
}

async fn illegal_data_address(t: Target<'_>) -> Result<Measured, SuiteError> {
    let table = if t.block.function == 4 {
        Table::Input
    } else {
        Table::Holding
    };
    let Some(address) = unmapped_address(t.profile, table) else {
        return Ok(Measured::not_applicable("no unmapped address to try"));
    };
    let outcome = t.link.raw(read(t.block, address, 2)).await;
    let ok = exception_is(&outcome, 0x02);
    Ok(Measured::check(
        ok,
        format!(
            "read 0x{address:04X} × 2 (unmapped): {}",
            describe(&outcome)
        ),
        json!({ "address": address, "outcome": record(&outcome) }),
    ))
}

async fn illegal_quantity(t: Target<'_>) -> Result<Measured, SuiteError> {
    let mut ok = true;
    let mut parts = Vec::new();
    let mut outcomes = Vec::new();
    for qty in [0u16, 126] {
        let outcome = t.link.raw(read(t.block, t.block.address, qty)).await;
        ok &= exception_is(&outcome, 0x03);
        parts.push(format!("{qty} registers: {}", describe(&outcome)));
        outcomes.push(json!({ "quantity": qty, "outcome": record(&outcome) }));
    }
    Ok(Measured::check(
        ok,
        parts.join("; "),
        json!({ "requests": outcomes }),
    ))
}

async fn other_address(t: Target<'_>) -> Result<Measured, SuiteError> {
    let own = t.link.address();
    let other = t.free_address(own);
    let reply = t
        .link
        .raw_frame(&Transmission::frame(&block_frame(&t, other)), t.listen)
        .await?;
    let frame = reply.frame();
    Ok(Measured::check(
        frame.is_silence(),
        format!(
            "read to address {other} (the meter is {own}): {}",
            frame.describe()
        ),
        json!({ "address": other, "reply": frame }),
    ))
}

/// A setting the broadcast check may change and put back.
fn broadcast_candidate(profile: &MeterProfile) -> Option<(MeterSetting, Vec<SettingValue>)> {
    profile
        .settings
        .iter()
        .filter(|d| {
            !d.setting.is_command()
                && !matches!(
                    d.setting,
                    MeterSetting::Password
                        | MeterSetting::EnergyPreset
                        | MeterSetting::Address
                        | MeterSetting::Baud
                        | MeterSetting::Framing
                )
                && d.place.access.readable()
                && d.place.access.writable()
                && d.choices.len() >= 2
        })
        .map(|d| {
            (
                d.setting,
                d.choices.iter().map(|c| c.value.clone()).collect(),
            )
        })
        .next()
}

/// The PDU that writes `setting` = `value` (with function 16 where offered).
fn write_pdu(
    profile: &MeterProfile,
    setting: MeterSetting,
    value: Option<&SettingValue>,
) -> Result<Vec<u8>, SuiteError> {
    let def = profile
        .setting(setting)
        .ok_or_else(|| SuiteError::Measure(format!("no setting {setting}")))?;
    let code = match (def.code, value) {
        (Some(c), _) => c,
        (None, Some(v)) => def.code_for(v).map_err(SuiteError::Measure)?,
        (None, None) => return Err(SuiteError::Measure(format!("{setting}: no value"))),
    };
    let words = def
        .place
        .coding
        .encode(code)
        .map_err(|e| SuiteError::Measure(format!("{setting}: {e}")))?;
    let sixteen = profile
        .modbus
        .as_ref()
        .is_none_or(|m| m.write_functions.contains(&16));
    let req = if sixteen || words.len() != 1 {
        Request::WriteMultipleRegisters(def.place.address, Cow::Owned(words))
    } else {
        Request::WriteSingleRegister(def.place.address, words[0])
    };
    Ok(encode_request(&req))
}

async fn broadcast_write(t: Target<'_>) -> Result<Measured, SuiteError> {
    if !t.taken.is_empty() {
        return Ok(Measured::not_applicable(format!(
            "{} other meters share this RS485 line: a broadcast would change their settings too (V1.02 §2.1); try it with the meter alone on its line",
            t.taken.len()
        )));
    }
    let Some((setting, choices)) = broadcast_candidate(t.profile) else {
        return Ok(Measured::not_applicable(
            "the profile has no harmless writable setting to broadcast",
        ));
    };
    let before = t.link.read_setting(setting).await?;
    let Some(new) = choices.iter().find(|v| **v != before).cloned() else {
        return Ok(Measured::not_applicable("the setting has a single value"));
    };
    let mut frames = Vec::new();
    if t.profile.setting(setting).is_some_and(|d| d.protected)
        && t.profile.setting(MeterSetting::Password).is_some()
    {
        frames.push(write_pdu(t.profile, MeterSetting::Password, None)?);
    }
    frames.push(write_pdu(t.profile, setting, Some(&new))?);
    let mut replies = Vec::new();
    for pdu in &frames {
        let reply = t
            .link
            .raw_frame(&Transmission::frame(&RtuFrame::new(0, pdu)), t.listen)
            .await?;
        replies.push(reply.frame());
    }
    let silent = replies.iter().all(ReplyFrame::is_silence);
    let after = t.link.read_setting(setting).await?;
    let applied = after == new;
    // Put it back whatever happened.
    let put_back = if after != before {
        t.link.write(setting, before.clone()).await
    } else {
        Ok(())
    };
    let restored =
        put_back.is_ok() && t.link.read_setting(setting).await.ok() == Some(before.clone());
    let mut summary = format!(
        "broadcast {setting} = {new}: {}; read back {after} ({})",
        if silent { "no reply" } else { "a reply came" },
        if applied { "applied" } else { "not applied" }
    );
    if !restored {
        summary.push_str(&format!("; could not put {setting} back to {before}"));
    }
    Ok(Measured::check(
        silent && applied,
        summary,
        json!({
            "setting": setting.to_string(), "before": before, "broadcast": new, "after": after,
            "replies": replies, "restored": restored,
        }),
    ))
}

async fn bad_crc(t: Target<'_>) -> Result<Measured, SuiteError> {
    let frame = block_frame(&t, t.link.address()).with_bad_crc();
    let reply = t
        .link
        .raw_frame(&Transmission::frame(&frame), t.listen)
        .await?
        .frame();
    Ok(Measured::check(
        reply.is_silence(),
        format!("read with a spoiled CRC: {}", reply.describe()),
        json!({ "reply": reply }),
    ))
}

/// Sends `odd`, expects silence, then a whole frame, expects the right answer.
async fn silence_then_answer(
    t: &mut Target<'_>,
    odd: Transmission,
    what: &str,
) -> Result<Measured, SuiteError> {
    let unit = t.link.address();
    let first = t.link.raw_frame(&odd, t.listen).await?.frame();
    let whole = Transmission::frame(&block_frame(t, unit));
    let next = t.link.raw_frame(&whole, t.listen).await?.frame();
    let ok = first.is_silence() && answered_right(&next, unit, t.block);
    Ok(Measured::check(
        ok,
        format!(
            "{what}: {}; the next whole frame: {}",
            first.describe(),
            next.describe()
        ),
        json!({ "odd_frame": odd.bytes(), "reply": first, "next_reply": next }),
    ))
}

async fn truncated_frame(mut t: Target<'_>) -> Result<Measured, SuiteError> {
    let frame = block_frame(&t, t.link.address());
    let keep = frame.len() - 3;
    let odd = Transmission::frame(&frame.truncated(keep));
    silence_then_answer(&mut t, odd, &format!("read cut to {keep} bytes")).await
}

/// Asks for a timed line; the reason to skip when there is none.
fn timed_line(t: &mut Target<'_>) -> Result<LineSettings, String> {
    let timing = t.link.pace_line(true);
    match t.link.line() {
        Some(line) if timing.is_timed() => Ok(line),
        _ => {
            t.link.pace_line(false);
            Err(format!(
                "needs character timing as on a wire; this line is {timing:?} \
                 (a simulated rig paces it unless `[rig] line_pacing = \"off\"`)"
            ))
        }
    }
}

async fn character_gap(mut t: Target<'_>) -> Result<Measured, SuiteError> {
    let line = match timed_line(&mut t) {
        Ok(l) => l,
        Err(why) => return Ok(Measured::not_applicable(why)),
    };
    let gap = (t1_5(line) + t3_5(line)) / 2;
    let frame = block_frame(&t, t.link.address());
    let odd = Transmission::with_gap(&frame, 3, gap);
    let what = format!(
        "read with a silence of {:.3} ms after byte 3 (t1.5 {:.3} ms, t3.5 {:.3} ms at {line})",
        gap.as_secs_f64() * 1000.0,
        t1_5(line).as_secs_f64() * 1000.0,
        t3_5(line).as_secs_f64() * 1000.0
    );
    let out = silence_then_answer(&mut t, odd, &what).await;
    t.link.pace_line(false);
    out
}

async fn back_to_back(mut t: Target<'_>) -> Result<Measured, SuiteError> {
    let line = match timed_line(&mut t) {
        Ok(l) => l,
        Err(why) => return Ok(Measured::not_applicable(why)),
    };
    let unit = t.link.address();
    let frame = Transmission::frame(&block_frame(&t, unit));
    let mut answered = 0;
    let mut first_bad = None;
    for i in 0..BACK_TO_BACK {
        let reply = t.link.raw_frame(&frame, t.listen).await?.frame();
        if answered_right(&reply, unit, t.block) {
            answered += 1;
        } else if first_bad.is_none() {
            first_bad = Some((i + 1, reply));
        }
        sleep_precise(t3_5(line)).await;
    }
    t.link.pace_line(false);
    let mut summary = format!(
        "{answered} of {BACK_TO_BACK} requests answered, each sent t3.5 = {:.3} ms after the last reply",
        t3_5(line).as_secs_f64() * 1000.0
    );
    if let Some((i, r)) = &first_bad {
        summary.push_str(&format!("; request {i}: {}", r.describe()));
    }
    Ok(Measured::check(
        answered == BACK_TO_BACK,
        summary,
        json!({ "requests": BACK_TO_BACK, "answered": answered, "gap_ms": t3_5(line).as_secs_f64() * 1000.0 }),
    ))
}

async fn timeout_recovery(t: Target<'_>) -> Result<Measured, SuiteError> {
    let address = t.link.address();
    let line = t.link.line();
    // A request the meter cannot understand: other line settings on a
    // serial line, another unit on TCP.
    let (odd_address, odd_line, how) = match (line, t.profile.serial.as_ref()) {
        (Some(l), Some(s)) => {
            let other = s
                .bauds
                .iter()
                .find(|b| **b != l.baud)
                .map(|b| LineSettings { baud: *b, ..l });
            match other {
                Some(o) => (address, Some(o), format!("at {o}")),
                None => (address, Some(l), "at the same line".to_string()),
            }
        }
        _ => {
            let other = t.free_address(address);
            (other, None, format!("to address {other}"))
        }
    };
    t.link.reconnect(odd_address, odd_line).await?;
    let provoked = t
        .link
        .raw(read(t.block, t.block.address, t.block.count))
        .await;
    t.link.reconnect(address, line).await?;
    let next = t
        .link
        .raw(read(t.block, t.block.address, t.block.count))
        .await;
    if !matches!(provoked, Err(LinkError::Timeout { .. })) {
        return Ok(Measured::NotApplicable {
            summary: format!(
                "could not provoke a timeout with a request {how}: {}",
                describe(&provoked)
            ),
            details: json!({ "provoked": record(&provoked) }),
        });
    }
    let ok = matches!(&next, Ok(Ok(Response::ReadHoldingRegisters(w) | Response::ReadInputRegisters(w))) if w.len() == t.block.count as usize);
    Ok(Measured::check(
        ok,
        format!(
            "a request {how} timed out; the next request: {}",
            describe(&next)
        ),
        json!({ "provoked": record(&provoked), "next": record(&next) }),
    ))
}
