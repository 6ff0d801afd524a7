//! The simulated meter's Modbus behaviour, shared by its RTU and TCP servers.
//!
//! Addressing, function support, quantity limits and the profile's quirks are
//! decided here; the faults that change what a meter answers (latency,
//! dropped replies, a wrong exception, answering every address) too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio_modbus::{ExceptionCode, Request, Response};

use super::meter_model::MeterModel;
use super::registers::RegisterIndex;
use crate::profile::{LineSettings, MeterProfile, Table};

/// What the meter does with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Reply(Result<Response, ExceptionCode>),
    /// Nothing goes back on the line.
    Silent,
}

#[derive(Debug)]
pub struct MeterService {
    meter: Arc<Mutex<MeterModel>>,
    profile: Arc<MeterProfile>,
    index: RegisterIndex,
    requests: AtomicU64,
    replies: AtomicU64,
    rng: Mutex<ChaCha8Rng>,
}

impl MeterService {
    pub fn new(meter: Arc<Mutex<MeterModel>>, seed: u64) -> Self {
        let profile = lock(&meter).profile().clone();
        Self {
            index: RegisterIndex::new(&profile),
            profile,
            meter,
            requests: AtomicU64::new(0),
            replies: AtomicU64::new(0),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x005E_ED0F_1A7E)),
        }
    }

    /// Whether the reply going out now should follow a burst of garbage
    /// (the `garbage_every` fault), counted over the replies.
    pub fn garbage_now(&self) -> bool {
        let every = lock(&self.meter).faults().garbage_every;
        every > 0 && (self.replies.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(every)
    }

    pub fn meter(&self) -> &Arc<Mutex<MeterModel>> {
        &self.meter
    }

    /// Decides the answer to `request` sent to unit `slave` (`line`: the
    /// settings the client's line uses, when the line can tell), and how long
    /// the meter takes before answering.
    pub fn handle(
        &self,
        slave: u8,
        request: &Request<'_>,
        line: Option<LineSettings>,
    ) -> (Answer, Duration) {
        let mut meter = lock(&self.meter);
        if !meter.is_up() {
            return (Answer::Silent, Duration::ZERO);
        }
        if let (Some(client), Some(own)) = (line, meter.settings().line)
            && client != own
        {
            // Characters at another baud or framing arrive as garbage.
            return (Answer::Silent, Duration::ZERO);
        }
        // The faults that decide the answer, copied: cloning them all (curves
        // included) at every request cost the server an allocation each.
        let faults = meter.faults();
        let (answers_any_address, drop_response_every, bad_address, latency_ms, latency_spikes) = (
            faults.answers_any_address,
            faults.drop_response_every,
            faults.exception_for_bad_address,
            faults.latency_ms,
            faults.latency_spikes,
        );
        let broadcast = slave == 0;
        if !broadcast && slave != meter.settings().address && !answers_any_address {
            // Another meter's frame on a shared line: not this meter's request.
            return (Answer::Silent, Duration::ZERO);
        }
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if drop_response_every > 0 && n.is_multiple_of(drop_response_every) {
            return (Answer::Silent, Duration::ZERO);
        }
        let result = self.dispatch(&mut meter, request);
        let result = match result {
            Err(ExceptionCode::IllegalDataAddress) => {
                Err(ExceptionCode::new(bad_address.unwrap_or(2)))
            }
            other => other,
        };
        if broadcast {
            // Broadcasts are applied and never answered (V1.02 §2.1).
            return (Answer::Silent, Duration::ZERO);
        }
        let mut delay = match latency_ms {
            Some([lo, hi]) => {
                let ms = if hi > lo {
                    lock(&self.rng).random_range(lo..=hi)
                } else {
                    lo
                };
                Duration::from_millis(ms)
            }
            None => Duration::ZERO,
        };
        if let Some(sp) = latency_spikes
            && n.is_multiple_of(sp.every)
        {
            delay = delay.max(Duration::from_millis(sp.ms));
        }
        (Answer::Reply(result), delay)
    }

    fn dispatch(
        &self,
        meter: &mut MeterModel,
        request: &Request<'_>,
    ) -> Result<Response, ExceptionCode> {
        let Some(m) = self.profile.modbus.as_ref() else {
            return Err(ExceptionCode::IllegalFunction);
        };
        let function = request.function_code().value();
        let supported =
            m.read_functions.contains(&function) || m.write_functions.contains(&function);
        if !supported {
            return Err(ExceptionCode::IllegalFunction);
        }
        let odd = |n: usize| m.odd_count_refused && n % 2 == 1;
        match request {
            Request::ReadHoldingRegisters(addr, qty) | Request::ReadInputRegisters(addr, qty) => {
                if *qty == 0 || *qty > 125 || *qty > m.max_read_registers || odd(*qty as usize) {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let table = if function == 3 {
                    Table::Holding
                } else {
                    Table::Input
                };
                let words = self.index.read(&self.profile, meter, table, *addr, *qty)?;
                Ok(if function == 3 {
                    Response::ReadHoldingRegisters(words)
                } else {
                    Response::ReadInputRegisters(words)
                })
            }
            Request::WriteMultipleRegisters(addr, words) => {
                let n = words.len();
                if n == 0 || n > 123 || n > m.max_write_registers as usize || odd(n) {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                self.index.write(&self.profile, meter, *addr, words)?;
                Ok(Response::WriteMultipleRegisters(*addr, n as u16))
            }
            Request::WriteSingleRegister(addr, word) => {
                self.index.write(&self.profile, meter, *addr, &[*word])?;
                Ok(Response::WriteSingleRegister(*addr, *word))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
