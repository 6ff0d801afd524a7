//! The fuzz targets' bodies, one function each: whatever bytes come in, they
//! return (an error is fine), never panic or hang. `fuzz/` drives them with
//! cargo-fuzz (nightly); `harness/tests/fuzz_corpus.rs` runs every seed of
//! `fuzz/corpus/` and bounded random inputs through them on stable, in CI.
//!
//! May import every parser (`station`, `run::plan`, `profile`, `modbus`,
//! `drivers::scpi`); nothing imports it.

use std::path::Path;

use crate::modbus::rtu_frame::{parse_reply, rtu_response_len};
use crate::modbus::{crc_ok, decode_request, decode_response, rtu_request_len};
use crate::profile::MeterProfile;

/// Register words from a meter decoded through every register of `profile`.
pub fn register_decoding(profile: &MeterProfile, data: &[u8]) {
    let words: Vec<u16> = data
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    for r in &profile.registers {
        let _ = r.place.decode(&words);
    }
    for s in &profile.settings {
        if let Ok(code) = s.place.coding.decode(&words) {
            let _ = s.value_for(code);
        }
    }
}

/// Bytes off an RTU line, as a reply and as a request.
pub fn rtu_frames(data: &[u8]) {
    let _ = parse_reply(data);
    let _ = rtu_response_len(data);
    let _ = rtu_request_len(data);
    let _ = crc_ok(data);
    if data.len() > 3 {
        let pdu = &data[1..data.len() - 2];
        let _ = decode_request(pdu);
        if let Some(&f) = pdu.first() {
            let _ = decode_response(f, pdu);
        }
    }
}

/// An SCPI instrument's answer line against a layout.
pub fn scpi_answer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let fields: Vec<String> = ["u", "i", "f", "p", "q", "s"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let _ = crate::drivers::scpi::parse_fields(&text, &fields);
    let _ = crate::drivers::scpi::fill(&text, &[("u", "230".into()), ("i", "5".into())]);
    let _ = crate::drivers::scpi::config::check_template(&text, &["u", "i", "phi", "f"]);
}

/// A rig file's text (meter paths resolve from `base`).
pub fn rig_file(data: &[u8], base: &Path) {
    let _ = crate::station::parse_rig(&String::from_utf8_lossy(data), &base.join("fuzz-rig.toml"));
}

/// A meter profile's text.
pub fn meter_file(data: &[u8]) {
    let _ =
        crate::profile::parse_profile(&String::from_utf8_lossy(data), Path::new("fuzz-meter.toml"));
}

/// A plan's text, checked against `catalogue` (the fuzz target passes the
/// suites' own declarations, `suites::catalogue()`, so their parameter
/// checks are explored too).
pub fn plan_file(data: &[u8], catalogue: &[crate::run::Declaration]) {
    let _ = crate::run::parse_plan(
        &String::from_utf8_lossy(data),
        Path::new("fuzz-plan.toml"),
        catalogue,
    );
}
