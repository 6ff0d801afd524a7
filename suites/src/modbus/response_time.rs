//! Response time: N requests to one register block with one function, each
//! timed from the request's first byte to the reply's last; the meter's part
//! is that minus both frames' wire time when the line is timed as a wire.
//! Verdict on the maximum against the maker's promise.

use std::time::Instant;

use harness::modbus::LinkError;
use harness::modbus::timing::{t3_5, wire_time};
use harness::rig::Rig;
use harness::rig::meter_link::MeterLink;
use harness::run::{Measured, PointIo, SuiteError};
use tokio_modbus::{Request, Response};

use crate::common::link;

/// A block is decided as failed after this many requests once one reply has
/// exceeded the limit: the maximum can only grow, and a slow meter would
/// otherwise hold the rig for N × its latency.
pub const MIN_REQUESTS_ONCE_FAILED: u32 = 20;

/// One register block read by one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Block {
    pub function: u8,
    pub address: u16,
    pub count: u16,
}

impl Block {
    fn request(&self) -> Request<'static> {
        if self.function == 4 {
            Request::ReadInputRegisters(self.address, self.count)
        } else {
            Request::ReadHoldingRegisters(self.address, self.count)
        }
    }

    /// Bytes on the wire for request and reply (RTU framing).
    pub fn frame_bytes(&self) -> usize {
        8 + 5 + 2 * self.count as usize
    }
}

/// The p-th quantile by the nearest-rank method (what a lab quotes as p99).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

pub async fn measure(
    rig: &mut Rig,
    position: usize,
    io: &mut PointIo<'_>,
    block: Block,
    requests: u32,
    limit_ms: f64,
) -> Result<Measured, SuiteError> {
    let clock = rig.clock.clone();
    let link: &mut Box<dyn MeterLink> = link(rig, position)?;
    let timing = link.pace_line(false);
    let line = link.line();
    let wire_ms = match line {
        Some(l) if timing.is_timed() => {
            wire_time(l, block.frame_bytes()).as_secs_f64() * 1000.0
                + t3_5(l).as_secs_f64() * 1000.0
        }
        _ => 0.0,
    };
    let mut times = Vec::with_capacity(requests as usize);
    let (mut timeouts, mut exceptions, mut transport, mut wrong) = (0u32, 0u32, 0u32, 0u32);
    let mut failed_at: Option<u32> = None;
    let mut sent = 0u32;
    for i in 0..requests {
        let started = Instant::now();
        let outcome = link.raw(block.request()).await;
        let round_trip_ms = started.elapsed().as_secs_f64() * 1000.0;
        sent += 1;
        let (kind, ok) = match &outcome {
            Ok(Ok(Response::ReadHoldingRegisters(w) | Response::ReadInputRegisters(w)))
                if w.len() == block.count as usize =>
            {
                ("ok".to_string(), true)
            }
            Ok(Ok(other)) => {
                wrong += 1;
                (
                    format!("wrong reply {}", harness::modbus::describe_response(other)),
                    false,
                )
            }
            Ok(Err(code)) => {
                exceptions += 1;
                (format!("exception {:02X}", u8::from(*code)), false)
            }
            Err(LinkError::Timeout { .. }) => {
                timeouts += 1;
                ("timeout".to_string(), false)
            }
            Err(e) => {
                transport += 1;
                (e.to_string(), false)
            }
        };
        let response_ms = (round_trip_ms - wire_ms).max(0.0);
        if ok {
            times.push(response_ms);
        }
        io.sample(
            clock.now(),
            response_ms,
            "ms",
            serde_json::json!({ "round_trip_ms": round_trip_ms, "outcome": kind }),
        );
        if failed_at.is_none() && (!ok || response_ms > limit_ms) {
            failed_at = Some(i + 1);
        }
        if failed_at.is_some() && i + 1 >= MIN_REQUESTS_ONCE_FAILED {
            break;
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        quantile(&sorted, 0.5),
        quantile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(f64::NAN),
    );
    let unanswered = timeouts + exceptions + transport + wrong;
    let what = format!(
        "function {:02X}, 0x{:04X} × {}",
        block.function, block.address, block.count
    );
    let mut summary = format!(
        "{what}: {} of {sent} answered, p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (limit {limit_ms} ms)",
        times.len()
    );
    if unanswered > 0 {
        summary.push_str(&format!(
            "; {timeouts} timeouts, {exceptions} exceptions, {transport} transport errors, {wrong} wrong replies"
        ));
    }
    if sent < requests {
        summary.push_str(&format!(
            "; decided after {sent} of {requests} requests (failed at request {})",
            failed_at.unwrap_or(sent)
        ));
    }
    // The framework judges: every request answered, the worst within the
    // point's limit (`run::judge`, `Measured::Worst`).
    Ok(Measured::Worst {
        worst: max,
        misses: unanswered,
        summary,
        details: serde_json::json!({
            "block": block,
            "requests": sent,
            "planned_requests": requests,
            "answered": times.len(),
            "timeouts": timeouts,
            "exceptions": exceptions,
            "transport_errors": transport,
            "wrong_replies": wrong,
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max,
            "limit_ms": limit_ms,
            "wire_and_gap_ms_subtracted": wire_ms,
            "line_timing": timing,
            "histograms": [{
                "title": format!("response time, {what}"),
                "unit": "ms",
                "values": times,
            }],
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
