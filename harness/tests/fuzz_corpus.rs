//! The fuzz targets on stable (issue 8): every seed of `fuzz/corpus/`, then
//! a bounded number of seeded mutations of them, through each target's body
//! (`harness::fuzzing`). A panic anywhere fails the test; cargo-fuzz
//! (`fuzz/`, nightly) explores further from the same seeds.

mod common;

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutations per target: bounded so the test stays short in CI.
const MUTATIONS: usize = 3000;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = common::fixtures().join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("readable"))
        .collect();
    assert!(!seeds.is_empty(), "{target} has seeds");
    seeds
}

/// A seed, changed the ways a fuzzer changes it.
fn mutate(rng: &mut ChaCha8Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = v.len();
        match rng.random_range(0..6) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => v.truncate(rng.random_range(0..len)),
            2 => {
                let i = rng.random_range(0..=len);
                v.insert(i, rng.random());
            }
            3 if len > 1 => {
                let i = rng.random_range(0..len);
                let j = rng.random_range(i..len);
                let chunk = v[i..=j].to_vec();
                v.splice(i..i, chunk);
            }
            4 if len > 0 => {
                let i = rng.random_range(0..len);
                v[i] = *[
                    b'{', b'}', b'[', b']', b'"', b'=', b'\n', b',', b'0', b'9', 0xFF,
                ]
                .get(rng.random_range(0..11))
                .unwrap_or(&0);
            }
            _ => v.extend((0..rng.random_range(0..8)).map(|_| rng.random::<u8>())),
        }
    }
    v
}

fn exercise(target: &str, f: impl Fn(&[u8])) {
    let seeds = corpus(target);
    for s in &seeds {
        f(s);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0xF0_22 ^ target.len() as u64);
    for _ in 0..MUTATIONS {
        let seed = &seeds[rng.random_range(0..seeds.len())];
        f(&mutate(&mut rng, seed));
    }
}

#[test]
fn register_decoding() {
    let p = harness::profile::load_profile(&common::meter("legrand-412083")).expect("profile");
    exercise("register_decoding", |d| {
        harness::fuzzing::register_decoding(&p, d)
    });
    let p = harness::profile::load_profile(&common::meter("carlo-gavazzi-em111")).expect("profile");
    exercise("register_decoding", |d| {
        harness::fuzzing::register_decoding(&p, d)
    });
}

#[test]
fn rtu_frames() {
    exercise("rtu_frames", harness::fuzzing::rtu_frames);
}

#[test]
fn scpi_answer() {
    exercise("scpi_answer", harness::fuzzing::scpi_answer);
}

#[test]
fn rig_file() {
    let base = common::fixtures().join("rigs");
    exercise("rig_file", |d| harness::fuzzing::rig_file(d, &base));
}

#[test]
fn meter_file() {
    exercise("meter_file", harness::fuzzing::meter_file);
}

/// Against every suite id, declaring no parameters (the suites' own
/// declarations are out of this crate's sight; the fuzz target and
/// `suites/tests/extreme_values.rs` check plans against them).
#[test]
fn plan_file() {
    let catalogue: Vec<_> = model::SuiteId::ALL
        .iter()
        .map(|id| harness::run::Declaration::bare(id.as_str()))
        .collect();
    exercise("plan_file", |d| harness::fuzzing::plan_file(d, &catalogue));
}
