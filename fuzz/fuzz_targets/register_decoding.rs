#![no_main]
//! Register words through every register of the 4 120 83's profile.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static PROFILE: OnceLock<harness::profile::MeterProfile> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let p = PROFILE.get_or_init(|| {
        harness::profile::load_profile(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/meters/legrand-412083.toml"
        )))
        .expect("profile")
    });
    harness::fuzzing::register_decoding(p, data);
});
