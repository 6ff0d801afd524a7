#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| harness::fuzzing::plan_file(data, &suites::catalogue()));
