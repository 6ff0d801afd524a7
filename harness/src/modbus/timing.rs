//! Character and frame timing of Modbus RTU (Modbus over Serial Line V1.02
//! §2.5.1.1): a frame is one burst; a silence over 1.5 characters inside it
//! makes it void, one of 3.5 characters ends it. Above 19 200 baud the two
//! timers are fixed at 750 µs and 1.75 ms.

use std::time::{Duration, Instant};

use crate::profile::LineSettings;

/// Above this baud rate t1.5 and t3.5 are fixed (V1.02 §2.5.1.1).
const FIXED_TIMERS_ABOVE_BAUD: u32 = 19_200;

/// How long one character takes on the wire.
pub fn char_time(line: LineSettings) -> Duration {
    Duration::from_secs_f64(f64::from(line.framing.bits_per_char()) / f64::from(line.baud.max(1)))
}

/// The longest silence allowed between two characters of one frame.
pub fn t1_5(line: LineSettings) -> Duration {
    if line.baud > FIXED_TIMERS_ABOVE_BAUD {
        Duration::from_micros(750)
    } else {
        char_time(line).mul_f64(1.5)
    }
}

/// The silence that ends a frame, and the least one between two frames.
pub fn t3_5(line: LineSettings) -> Duration {
    if line.baud > FIXED_TIMERS_ABOVE_BAUD {
        Duration::from_micros(1750)
    } else {
        char_time(line).mul_f64(3.5)
    }
}

/// Time `bytes` characters take on the wire, back to back.
pub fn wire_time(line: LineSettings, bytes: usize) -> Duration {
    char_time(line).mul_f64(bytes as f64)
}

/// Sleeps until `deadline` to within tens of microseconds.
///
/// Tokio's timer has a 1 ms tick and wakes up to a tick late: a 1.4 ms gap
/// asked of it can come out as 2.1 ms, past t3.5 at 19 200 baud. So tokio
/// sleeps until 2 ms before, the thread sleeps on to just before (the OS
/// oversleeps by its timer slack, ~50 µs), and the last 100 µs are spun.
/// It blocks the worker for at most about 2 ms; only timed lines use it.
pub async fn sleep_until_precise(deadline: Instant) {
    const COARSE: Duration = Duration::from_millis(2);
    const SPIN: Duration = Duration::from_micros(100);
    let now = Instant::now();
    if deadline > now + COARSE {
        tokio::time::sleep_until((deadline - COARSE).into()).await;
    }
    let now = Instant::now();
    if deadline > now + SPIN {
        std::thread::sleep(deadline - now - SPIN);
    }
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

pub async fn sleep_precise(d: Duration) {
    sleep_until_precise(Instant::now() + d).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Framing;

    fn line(baud: u32, framing: &str) -> LineSettings {
        LineSettings {
            baud,
            framing: Framing::try_from(framing.to_string()).expect("framing"),
        }
    }

    /// V1.02 §2.5.1.1 and shared/standards.md: t3.5 = 8.02 / 4.01 / 2.005 ms
    /// at 4800 / 9600 / 19200 baud with 11-bit characters.
    #[test]
    fn t3_5_matches_the_specification_table() {
        for (baud, ms) in [(4800, 8.02), (9600, 4.01), (19200, 2.005)] {
            let got = t3_5(line(baud, "8E1")).as_secs_f64() * 1000.0;
            assert!((got - ms).abs() < 0.005, "{baud}: {got} ms");
        }
        assert_eq!(t3_5(line(38400, "8E1")), Duration::from_micros(1750));
        assert_eq!(t1_5(line(38400, "8N1")), Duration::from_micros(750));
    }

    #[test]
    fn a_two_register_read_takes_about_ten_ms_on_the_wire() {
        // 8 request + 9 reply characters at 19200 8E1 (shared/standards.md).
        let ms = wire_time(line(19200, "8E1"), 17).as_secs_f64() * 1000.0;
        assert!((ms - 9.74).abs() < 0.01, "{ms}");
    }
}
