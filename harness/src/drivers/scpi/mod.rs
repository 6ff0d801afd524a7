//! SCPI over a raw TCP socket (port 5025 style) or a serial port: one
//! command a line, answers a line each. After every command the error queue
//! is read to its end: an instrument that refused a command stops the run
//! with the instrument's own words, instead of leaving it in an unknown state.
//!
//! Owns: the SCPI port, its `[*.scpi]` tables (`config`) and the dialect
//! templates. May import: `rig` (instrument errors), `files`, quantities;
//! the SCPI instruments (`drivers::scpi_*`) import it, not the reverse.

pub mod config;
mod template;

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

pub use template::{fill, parse_fields};

use crate::drivers::scpi::config::{ScpiCommon, ScpiTransport};
use crate::rig::{Identity, RigError};

/// Errors read from the queue after one command, at most (a queue that never
/// empties is itself an error).
const MAX_QUEUED_ERRORS: usize = 32;

type Reader = BufReader<Box<dyn AsyncRead + Send + Sync + Unpin>>;
type Writer = Box<dyn AsyncWrite + Send + Sync + Unpin>;

pub struct ScpiPort {
    /// The instrument's role on the rig, for messages: "source", "reference".
    role: String,
    common: ScpiCommon,
    reader: Reader,
    writer: Writer,
}

impl std::fmt::Debug for ScpiPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScpiPort")
            .field("role", &self.role)
            .field("transport", &self.common.transport)
            .finish()
    }
}

impl ScpiPort {
    /// Opens the instrument's port; an unreachable one is a clear error.
    pub async fn open(role: &str, common: &ScpiCommon) -> Result<Self, RigError> {
        let err = |m: String| RigError::instrument(role, m);
        let (reader, writer): (Box<dyn AsyncRead + Send + Sync + Unpin>, Writer) =
            match &common.transport {
                ScpiTransport::Tcp(addr) => {
                    let stream = tokio::time::timeout(
                        common.timeout,
                        tokio::net::TcpStream::connect(addr.as_str()),
                    )
                    .await
                    .map_err(|_| {
                        err(format!(
                            "no connection to {addr} within {} ms",
                            common.timeout.as_millis()
                        ))
                    })?
                    .map_err(|e| err(format!("cannot connect to {addr}: {e}")))?;
                    let _ = stream.set_nodelay(true);
                    let (r, w) = stream.into_split();
                    (Box::new(r), Box::new(w))
                }
                ScpiTransport::Serial { serial, baud } => {
                    let path = serial.display().to_string();
                    let port = tokio_serial::SerialStream::open(&tokio_serial::new(&path, *baud))
                        .map_err(|e| err(format!("cannot open {path}: {e}")))?;
                    let (r, w) = tokio::io::split(port);
                    (Box::new(r), Box::new(w))
                }
            };
        Ok(Self {
            role: role.into(),
            common: common.clone(),
            reader: BufReader::new(reader),
            writer,
        })
    }

    fn err(&self, m: String) -> RigError {
        RigError::instrument(&self.role, m)
    }

    async fn send(&mut self, line: &str) -> Result<(), RigError> {
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        let t = self.common.timeout;
        match tokio::time::timeout(t, async {
            self.writer.write_all(&bytes).await?;
            self.writer.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.err(format!("sending `{line}`: {e}"))),
            Err(_) => Err(self.err(format!(
                "sending `{line}`: not accepted within {} ms",
                t.as_millis()
            ))),
        }
    }

    async fn read_line(&mut self, after: &str) -> Result<String, RigError> {
        let mut line = String::new();
        let t = self.common.timeout;
        match tokio::time::timeout(t, self.reader.read_line(&mut line)).await {
            Err(_) => Err(self.err(format!(
                "no answer to `{after}` within {} ms",
                t.as_millis()
            ))),
            Ok(Err(e)) => Err(self.err(format!("reading the answer to `{after}`: {e}"))),
            Ok(Ok(0)) => Err(self.err(format!("the connection closed after `{after}`"))),
            Ok(Ok(_)) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
        }
    }

    /// Asks and returns the answer line.
    pub async fn query(&mut self, q: &str) -> Result<String, RigError> {
        self.send(q).await?;
        self.read_line(q).await
    }

    /// Sends a command, then reads the error queue until it says none.
    pub async fn command(&mut self, c: &str) -> Result<(), RigError> {
        self.send(c).await?;
        self.check_errors(c).await
    }

    /// Reads the error queue to its end; any entry fails `after`.
    pub async fn check_errors(&mut self, after: &str) -> Result<(), RigError> {
        let eq = self.common.error_query.clone();
        let mut errors = Vec::new();
        for _ in 0..MAX_QUEUED_ERRORS {
            let answer = self.query(&eq).await?;
            let code = answer
                .split(',')
                .next()
                .and_then(|c| c.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    self.err(format!(
                        "`{eq}` answered `{answer}`, not `<code>,\"<message>\"`: check `error_query`"
                    ))
                })?;
            if code == 0 {
                break;
            }
            errors.push(answer);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(self.err(format!("refused `{after}`: {}", errors.join("; "))))
        }
    }

    /// Asks `*IDN?` (or the dialect's identity query): maker, model, serial,
    /// firmware, as IEEE 488.2 §10.14 lays them out.
    pub async fn identify(&mut self) -> Result<Identity, RigError> {
        let q = self.common.identity_query.clone();
        let answer = self.query(&q).await?;
        let parts: Vec<&str> = answer.split(',').map(str::trim).collect();
        if parts.len() < 2 || parts[0].is_empty() {
            return Err(self.err(format!(
                "`{q}` answered `{answer}`: not maker,model,serial,firmware"
            )));
        }
        Ok(Identity {
            role: self.role.clone(),
            maker: parts[0].into(),
            model: parts.get(1).copied().unwrap_or("").into(),
            serial: parts.get(2).copied().unwrap_or("").into(),
            firmware: parts.get(3).map(|s| s.to_string()),
            calibration_due: self.common.calibration_due,
            simulated: false,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.common.timeout
    }
}
