//! Malformed Modbus replies (issue 8), from `fixtures/bad/modbus/*.hex`: a
//! meter on a pty answers a voltage read with the file's bytes (`CRC` stands
//! for the right CRC of the bytes before it). Each gives its own clear error,
//! of its own kind, and the link answers correctly afterwards.

mod common;

use std::sync::Arc;
use std::time::Duration;

use harness::drivers::ModbusMeterLink;
use harness::modbus::{LineControl, LinkError, ModbusTransport, Port, SharedSerial, append_crc};
use harness::profile::{Framing, LineSettings, MeterQuantity};
use harness::rig::meter_link::MeterLink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn bytes_of(line: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for tok in line.split_whitespace() {
        if tok == "CRC" {
            append_crc(&mut out);
        } else {
            out.push(u8::from_str_radix(tok, 16).expect("hex byte"));
        }
    }
    out
}

/// The right answer to the read that follows the bad one: 230 V.
fn good_reply() -> Vec<u8> {
    bytes_of("05 03 04 00 03 82 70 CRC")
}

async fn link_to(bad: Vec<u8>) -> ModbusMeterLink {
    let (mut meter, client) = tokio_serial::SerialStream::pair().expect("pty");
    tokio::spawn(async move {
        let mut req = [0u8; 8];
        for reply in [bad, good_reply()] {
            if meter.read_exact(&mut req).await.is_err() {
                return;
            }
            let _ = meter.write_all(&reply).await;
        }
        // Keep the line open.
        let mut sink = [0u8; 64];
        while let Ok(n) = meter.read(&mut sink).await {
            if n == 0 {
                return;
            }
        }
    });
    let profile = Arc::new(
        harness::profile::load_profile(&common::meter("legrand-412083")).expect("profile"),
    );
    let port = Port::Serial {
        stream: SharedSerial::new(client),
        name: "pty".into(),
        line: LineSettings {
            baud: 19200,
            framing: Framing::try_from("8E1".to_string()).expect("framing"),
        },
        control: LineControl::Fixed,
    };
    let transport = ModbusTransport::new(
        port,
        5,
        Duration::from_millis(200),
        Duration::from_millis(50),
    )
    .expect("transport");
    ModbusMeterLink::new(transport, profile)
}

fn kind(e: &LinkError) -> &'static str {
    match e {
        LinkError::Timeout { .. } => "timeout",
        LinkError::Exception { .. } => "exception",
        LinkError::Transport { .. } => "transport",
        LinkError::Protocol { .. } => "protocol",
        LinkError::Profile { .. } => "profile",
        LinkError::Decode { .. } => "decode",
        LinkError::Unsupported { .. } => "unsupported",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_malformed_reply_gives_its_own_clear_error() {
    let dir = common::fixtures().join("bad/modbus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/bad/modbus")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut seen = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .expect("# expect: line");
        let frame = text
            .lines()
            .find(|l| !l.starts_with('#') && !l.trim().is_empty())
            .expect("a frame");
        let mut link = link_to(bytes_of(frame)).await;
        let e = link
            .read(MeterQuantity::Voltage)
            .await
            .expect_err("a malformed reply is not a reading");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        println!("{name}: {} — {e}", kind(&e));
        assert!(
            format!("{} {e}", kind(&e)).contains(expect),
            "{name}: expected `{expect}` in `{} {e}`",
            kind(&e)
        );
        // The next request is answered correctly: nothing of the bad reply
        // is taken for it.
        let v = link
            .read(MeterQuantity::Voltage)
            .await
            .unwrap_or_else(|e| panic!("{name}: the link recovers: {e}"));
        assert!((v.canonical() - 230.0).abs() < 1e-9, "{name}: {v:?}");
        seen.push(name.to_string());
    }
    assert!(seen.len() >= 6, "{seen:?}");
}
