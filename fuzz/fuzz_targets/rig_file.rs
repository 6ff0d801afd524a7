#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harness::fuzzing::rig_file(
        data,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/rigs")),
    )
});
