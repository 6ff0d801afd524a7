//! The shipped profiles load, and every register of every profile
//! round-trips: encode a value, decode the words, get the value back.

mod common;

use harness::profile::{MeterProfile, RegisterKind, load_profile};
use proptest::prelude::*;

const PROFILES: [&str; 4] = [
    "legrand-412083",
    "legrand-412082",
    "eastron-sdm120",
    "carlo-gavazzi-em111",
];

fn profiles() -> Vec<MeterProfile> {
    PROFILES
        .iter()
        .map(|p| load_profile(&common::meter(p)).expect("shipped profile loads"))
        .collect()
}

#[test]
fn shipped_profiles_load_with_their_status() {
    let ps = profiles();
    assert_eq!(ps[0].status, harness::profile::MapStatus::Unverified);
    assert!(ps[1].registers.is_empty() && ps[1].pulse.s0.is_some());
    assert!(ps[2].modbus.as_ref().is_some_and(|m| m.odd_count_refused));
    assert!(
        ps[3]
            .modbus
            .as_ref()
            .is_some_and(|m| m.input_equals_holding)
    );
    for p in &ps {
        assert!(p.ratings.ist.0 < p.ratings.imin.0 && p.ratings.imin.0 < p.ratings.itr.0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `fraction` picks a raw value across each register's whole range.
    #[test]
    fn every_register_round_trips(fraction in 0.0f64..=1.0, neg in any::<bool>()) {
        for p in profiles() {
            for (name, place) in p.placements() {
                let raw = match place.coding.kind.raw_range() {
                    Some((lo, hi)) => {
                        let v = if neg && lo < 0.0 { lo * fraction } else { hi * fraction };
                        v.round()
                    }
                    // Floats: a span a meter actually reports.
                    None => (if neg { -1.0 } else { 1.0 }) * fraction * 1.0e7,
                };
                let words = place.coding.encode(raw).expect("in range");
                prop_assert_eq!(words.len(), place.words() as usize);
                let back = place.coding.decode(&words).expect("decodes");
                if place.coding.kind == RegisterKind::F32 {
                    prop_assert!((back - raw).abs() <= raw.abs() * 1e-7 + 1e-30, "{} {}: {} -> {}", p.id, name, raw, back);
                } else {
                    prop_assert_eq!(back, raw, "{} {}", p.id, name);
                }
                // And through scale and unit: canonical -> words -> canonical.
                let canonical = raw * place.scale * place.unit_factor;
                let again = place.decode(&place.encode(canonical, false).expect("in range")).expect("decodes");
                prop_assert!((again - canonical).abs() <= canonical.abs() * 1e-6 + place.scale * place.unit_factor * 1e-6,
                    "{} {}: {} -> {}", p.id, name, canonical, again);
            }
        }
    }
}
