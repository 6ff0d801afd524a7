//! Pulse capture on a Linux GPIO character device: both edges of the LED's
//! scanning head and the S0 output, timestamped by the kernel at the
//! interrupt, debounced, each line mapped to its channel.
//!
//! Kernel timestamps are CLOCK_MONOTONIC nanoseconds; the first edge read
//! anchors them to the rig's clock, so intervals between edges are the
//! kernel's (exact to the interrupt latency) and only the absolute offset
//! carries the read latency.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gpiocdev::line::{EdgeDetection, EdgeEvent, EdgeKind, Offset};
use gpiocdev::tokio::AsyncRequest;

use crate::rig::pulse_input::{Edge, PulseChannel, PulseInput, PulseTrain};
use crate::rig::{Identity, RigClock, RigError, RigInstant};

/// Which GPIO line watches which output, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct GpioPulseConfig {
    pub chip: PathBuf,
    pub lines: Vec<(PulseChannel, Offset)>,
    /// Edges closer than this to the previous edge on the same line are
    /// contact bounce (an S0 open collector through an optocoupler).
    pub debounce: Duration,
    /// The line reads low while the output is ON (an optocoupler pulling down).
    pub active_low: bool,
}

/// Kernel edge events to edges on channels: the part of the driver that
/// needs no hardware.
#[derive(Debug, Clone)]
pub struct EdgeDecoder {
    lines: Vec<(PulseChannel, Offset)>,
    debounce_ns: u64,
    /// Last accepted edge per line: (timestamp, rising).
    last: Vec<(Offset, u64, bool)>,
    /// (kernel ns, rig instant) of the first edge.
    anchor: Option<(u64, RigInstant)>,
    /// Edges dropped as bounce, for the record.
    pub bounces: u64,
    /// Edges whose line is not mapped to a channel.
    pub unmapped: u64,
}

impl EdgeDecoder {
    pub fn new(lines: Vec<(PulseChannel, Offset)>, debounce: Duration) -> Self {
        Self {
            lines,
            debounce_ns: debounce.as_nanos() as u64,
            last: Vec::new(),
            anchor: None,
            bounces: 0,
            unmapped: 0,
        }
    }

    /// One kernel event, read at rig instant `read_at` (the anchor for the
    /// first one). Edges after an accepted edge of the same direction, or
    /// within the debounce period of the last accepted edge, are dropped:
    /// a bounce produces a short opposite pulse, both halves of which go.
    pub fn decode(&mut self, ev: &EdgeEvent, read_at: RigInstant) -> Option<(PulseChannel, Edge)> {
        let Some(&(channel, _)) = self.lines.iter().find(|(_, o)| *o == ev.offset) else {
            self.unmapped += 1;
            return None;
        };
        let rising = ev.kind == EdgeKind::Rising;
        let (anchor_ns, anchor_at) = *self.anchor.get_or_insert((ev.timestamp_ns, read_at));
        if let Some(slot) = self.last.iter_mut().find(|(o, _, _)| *o == ev.offset) {
            let (_, last_ns, last_rising) = *slot;
            let close = ev.timestamp_ns.saturating_sub(last_ns) < self.debounce_ns;
            if close || last_rising == rising {
                if close && last_rising != rising {
                    // The bounce's return edge: forget the short excursion.
                    slot.1 = ev.timestamp_ns;
                }
                self.bounces += 1;
                return None;
            }
            *slot = (ev.offset, ev.timestamp_ns, rising);
        } else {
            self.last.push((ev.offset, ev.timestamp_ns, rising));
        }
        let since = Duration::from_nanos(ev.timestamp_ns.saturating_sub(anchor_ns));
        Some((
            channel,
            Edge {
                at: anchor_at + since,
                rising,
            },
        ))
    }
}

#[derive(Debug)]
pub struct GpioPulseInput {
    position: usize,
    config: GpioPulseConfig,
    request: AsyncRequest,
    decoder: EdgeDecoder,
    clock: Arc<dyn RigClock>,
    captured: Vec<(PulseChannel, Edge)>,
}

impl GpioPulseInput {
    pub fn open(
        position: usize,
        config: GpioPulseConfig,
        clock: Arc<dyn RigClock>,
    ) -> Result<Self, RigError> {
        let who = format!("pulse input {}", position + 1);
        let offsets: Vec<Offset> = config.lines.iter().map(|(_, o)| *o).collect();
        let mut builder = gpiocdev::Request::builder();
        builder
            .on_chip(&config.chip)
            .with_consumer("metrig")
            .with_lines(&offsets)
            .as_input()
            .with_edge_detection(EdgeDetection::BothEdges);
        if config.active_low {
            builder.as_active_low();
        }
        if !config.debounce.is_zero() {
            builder.with_debounce_period(config.debounce);
        }
        let request = builder.request().map_err(|e| {
            RigError::instrument(
                &who,
                format!(
                    "cannot request lines {offsets:?} on {}: {e}",
                    config.chip.display()
                ),
            )
        })?;
        Ok(Self {
            position,
            decoder: EdgeDecoder::new(config.lines.clone(), config.debounce),
            config,
            request: AsyncRequest::new(request),
            clock,
            captured: Vec::new(),
        })
    }

    fn take_channel(&mut self, channel: PulseChannel) -> PulseTrain {
        let (mine, rest): (Vec<_>, Vec<_>) =
            self.captured.drain(..).partition(|(c, _)| *c == channel);
        self.captured = rest;
        PulseTrain {
            edges: mine.into_iter().map(|(_, e)| e).collect(),
        }
    }

    fn check(&self, channel: PulseChannel) -> Result<(), RigError> {
        if self.config.lines.iter().any(|(c, _)| *c == channel) {
            Ok(())
        } else {
            Err(RigError::instrument(
                format!("pulse input {}", self.position + 1),
                format!("no GPIO line is mapped to {channel:?}"),
            ))
        }
    }
}

#[async_trait]
impl PulseInput for GpioPulseInput {
    fn identity(&self) -> Identity {
        Identity::device(
            format!("pulse input {}", self.position + 1),
            "Linux GPIO",
            self.config.chip.display().to_string(),
            format!("{:?}", self.config.lines),
        )
    }

    fn channels(&self) -> Vec<PulseChannel> {
        self.config.lines.iter().map(|(c, _)| *c).collect()
    }

    async fn start_capture(&mut self, channel: PulseChannel) -> Result<(), RigError> {
        self.check(channel)?;
        self.captured.retain(|(c, _)| *c != channel);
        Ok(())
    }

    async fn wait_pulses(
        &mut self,
        channel: PulseChannel,
        rising: usize,
        timeout: Duration,
    ) -> Result<PulseTrain, RigError> {
        self.check(channel)?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let have = self
                .captured
                .iter()
                .filter(|(c, e)| *c == channel && e.rising)
                .count();
            if have >= rising {
                break;
            }
            match tokio::time::timeout_at(deadline, self.request.read_edge_event()).await {
                Err(_) => break,
                Ok(Err(e)) => {
                    return Err(RigError::instrument(
                        format!("pulse input {}", self.position + 1),
                        format!("reading edges: {e}"),
                    ));
                }
                Ok(Ok(ev)) => {
                    if let Some(edge) = self.decoder.decode(&ev, self.clock.now()) {
                        self.captured.push(edge);
                    }
                }
            }
        }
        Ok(self.take_channel(channel))
    }

    async fn take(&mut self, channel: PulseChannel) -> Result<PulseTrain, RigError> {
        self.check(channel)?;
        Ok(self.take_channel(channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An edge as the kernel delivers it (gpio_v2_line_event through gpiocdev).
    fn ev(ns: u64, rising: bool, offset: Offset, seqno: u32) -> EdgeEvent {
        EdgeEvent {
            timestamp_ns: ns,
            kind: if rising {
                EdgeKind::Rising
            } else {
                EdgeKind::Falling
            },
            offset,
            seqno,
            line_seqno: seqno,
        }
    }

    fn decoder() -> EdgeDecoder {
        EdgeDecoder::new(
            vec![(PulseChannel::Led, 17), (PulseChannel::S0, 27)],
            Duration::from_micros(500),
        )
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn clean_s0_pulses_keep_the_kernel_intervals() {
        let mut d = decoder();
        let t0 = RigInstant::ZERO + Duration::from_secs(100);
        let mut out = Vec::new();
        // Three 100 ms pulses, one a second.
        for k in 0..3u64 {
            for (ns, rising) in [(k * 1000 * MS, true), (k * 1000 * MS + 100 * MS, false)] {
                if let Some(e) = d.decode(&ev(5_000 * MS + ns, rising, 27, 0), t0) {
                    out.push(e);
                }
            }
        }
        let train = PulseTrain {
            edges: out.iter().map(|(_, e)| *e).collect(),
        };
        assert!(out.iter().all(|(c, _)| *c == PulseChannel::S0));
        assert_eq!(train.pulse_count(), 3);
        assert_eq!(
            train.on_durations(),
            vec![Duration::from_millis(100); 3],
            "ON durations are the kernel's"
        );
        assert_eq!(train.edges[0].at, t0, "the first edge anchors the clock");
        assert_eq!(train.edges[4].at, t0 + Duration::from_secs(2));
    }

    #[test]
    fn contact_bounce_is_dropped_and_counted() {
        let mut d = decoder();
        let t0 = RigInstant::ZERO;
        let stream = [
            ev(0, true, 27, 1),
            ev(100_000, false, 27, 2), // 100 µs: bounce
            ev(150_000, true, 27, 3),  // and its return
            ev(100 * MS, false, 27, 4),
            ev(100 * MS + 200_000, true, 27, 5), // bounce on release
            ev(100 * MS + 300_000, false, 27, 6),
            ev(1000 * MS, true, 27, 7),
        ];
        let kept: Vec<Edge> = stream
            .iter()
            .filter_map(|e| d.decode(e, t0))
            .map(|(_, e)| e)
            .collect();
        assert_eq!(
            kept.iter().map(|e| e.rising).collect::<Vec<_>>(),
            vec![true, false, true]
        );
        assert_eq!(kept[1].at, t0 + Duration::from_millis(100));
        assert_eq!(d.bounces, 4);
    }

    #[test]
    fn lines_map_to_their_channels_and_strangers_are_counted() {
        let mut d = decoder();
        let t0 = RigInstant::ZERO;
        assert_eq!(
            d.decode(&ev(0, true, 17, 1), t0).map(|(c, _)| c),
            Some(PulseChannel::Led)
        );
        assert_eq!(
            d.decode(&ev(10, true, 27, 2), t0).map(|(c, _)| c),
            Some(PulseChannel::S0)
        );
        assert!(d.decode(&ev(20, true, 5, 3), t0).is_none());
        assert_eq!(d.unmapped, 1);
    }
}
