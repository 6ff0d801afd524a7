//! One RS485 line shared by the meters of many positions: one port, one
//! master, each meter at its own address (V1.02 §2.1). A request holds the
//! line from its first character to its reply (or its timeout); positions
//! take turns in the order they asked (tokio's mutex is fair: FIFO), so no
//! position's traffic starves another's.

use std::sync::{Arc, Mutex};

use super::{LineControl, LineTiming, ModbusTransport};
use crate::profile::LineSettings;

#[derive(Debug)]
pub struct SharedLine {
    pub transport: tokio::sync::Mutex<ModbusTransport>,
    control: Option<LineControl>,
    /// The line's settings now: a change by one position is every position's.
    settings: Mutex<Option<LineSettings>>,
    port: String,
}

impl SharedLine {
    pub fn new(transport: ModbusTransport) -> Arc<Self> {
        Arc::new(Self {
            control: transport.line_control(),
            settings: Mutex::new(transport.line()),
            // The port only: each meter on the line adds its own address.
            port: transport.port_describe(),
            transport: tokio::sync::Mutex::new(transport),
        })
    }

    pub fn describe(&self) -> String {
        self.port.clone()
    }

    pub fn settings(&self) -> Option<LineSettings> {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_settings(&self, line: Option<LineSettings>) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = line;
    }

    pub fn pace(&self, on: bool) -> LineTiming {
        self.control
            .as_ref()
            .map_or(LineTiming::NotSerial, |c| c.pace(on))
    }
}

/// A link's way onto its line: its own transport, or its turn on a shared line.
#[derive(Debug)]
pub enum Wire {
    Own(ModbusTransport),
    Shared {
        line: Arc<SharedLine>,
        unit: u8,
        /// This link's own exchanges, moved out of the line's log each turn.
        log: Vec<super::FrameRecord>,
        traffic: super::Traffic,
    },
}

/// The transport, held for one exchange.
#[derive(Debug)]
pub enum Held<'a> {
    Own(&'a mut ModbusTransport),
    Shared {
        transport: tokio::sync::MutexGuard<'a, ModbusTransport>,
        log: &'a mut Vec<super::FrameRecord>,
        traffic: &'a mut super::Traffic,
        before: super::Traffic,
    },
}

impl Wire {
    /// The transport, addressed to this link's meter, for one exchange.
    pub async fn hold(&mut self) -> Result<Held<'_>, super::LinkError> {
        match self {
            Wire::Own(t) => Ok(Held::Own(t)),
            Wire::Shared {
                line,
                unit,
                log,
                traffic,
            } => {
                let mut transport = line.transport.lock().await;
                if transport.unit() != *unit {
                    transport.retarget(*unit, None).await?;
                }
                let before = transport.traffic();
                Ok(Held::Shared {
                    transport,
                    log,
                    traffic,
                    before,
                })
            }
        }
    }

    pub fn unit(&self) -> u8 {
        match self {
            Wire::Own(t) => t.unit(),
            Wire::Shared { unit, .. } => *unit,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Wire::Own(t) => t.describe(),
            Wire::Shared { line, unit, .. } => {
                format!("{} (shared), address {unit}", line.describe())
            }
        }
    }

    pub fn line(&self) -> Option<LineSettings> {
        match self {
            Wire::Own(t) => t.line(),
            Wire::Shared { line, .. } => line.settings(),
        }
    }

    pub fn pace_line(&mut self, on: bool) -> LineTiming {
        match self {
            Wire::Own(t) => t.pace_line(on),
            Wire::Shared { line, .. } => line.pace(on),
        }
    }

    pub fn take_log(&mut self) -> Vec<super::FrameRecord> {
        match self {
            Wire::Own(t) => t.take_log(),
            Wire::Shared { log, .. } => std::mem::take(log),
        }
    }

    pub fn traffic(&self) -> super::Traffic {
        match self {
            Wire::Own(t) => t.traffic(),
            Wire::Shared { traffic, .. } => *traffic,
        }
    }

    /// Talks to another address and/or at other line settings from now on;
    /// on a shared line the settings change for every meter on it.
    pub async fn retarget(
        &mut self,
        address: u8,
        settings: Option<LineSettings>,
    ) -> Result<(), super::LinkError> {
        if let Wire::Shared { unit, line, .. } = self {
            *unit = address;
            if settings.is_some() {
                line.set_settings(settings);
            }
        }
        self.hold().await?.retarget(address, settings).await
    }
}

impl std::ops::Deref for Held<'_> {
    type Target = ModbusTransport;
    fn deref(&self) -> &ModbusTransport {
        match self {
            Held::Own(t) => t,
            Held::Shared { transport, .. } => transport,
        }
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut ModbusTransport {
        match self {
            Held::Own(t) => t,
            Held::Shared { transport, .. } => transport,
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Held::Shared {
            transport,
            log,
            traffic,
            before,
        } = self
        {
            log.extend(transport.take_log());
            **traffic = **traffic + transport.traffic().since(*before);
        }
    }
}
