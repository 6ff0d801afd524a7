//! What the store's tests and benchmark share: a fresh PostgreSQL database
//! on the server `.ci/run` starts, and synthetic run records written through
//! the same API a run uses. Not for production use.

use harness::rig::meter_link::MeterSelf;
use harness::run::events::{FileRef, MeterInfo, Sample};
use harness::stats::{DecisionRule, Verdict};
use reports::Record;
use reports::record::{DecisionRuleRecord, PointRecord};

use crate::Location;

/// The variable `.ci/run` exports with the throwaway server's URL.
pub const PG_URL_ENV: &str = "METRIG_TEST_PG_URL";

/// A new, empty database on the test server, so tests running side by side
/// never see each other's runs. An error says why there is none: the
/// tests that call this fail with it, they never skip.
pub fn fresh_postgres(tag: &str) -> Result<Location, String> {
    let url = std::env::var(PG_URL_ENV).map_err(|_| {
        format!(
            "{PG_URL_ENV} is not set: run the tests through .ci/run, which starts a throwaway PostgreSQL, or export the URL of a server you may create databases on"
        )
    })?;
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .map_err(|e| format!("cannot reach PostgreSQL at {url} ({PG_URL_ENV}): {e}"))?;
    let name = format!(
        "metrig_{}_{}_{}",
        tag.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| format!("cannot create database {name} at {url}: {e}"))?;
    let base = match url.rfind('/') {
        Some(i) if i > url.find("://").map_or(0, |s| s + 2) => &url[..i],
        _ => url.as_str(),
    };
    Ok(Location::Postgres(format!("{base}/{name}")))
}

/// A record of one synthetic nightly run: `means[i]` is point i's mean
/// error, each point with `samples` samples scattered ±`spread` around it.
pub fn synthetic_record(
    run_id: &str,
    started_at: &str,
    serial: &str,
    firmware: &str,
    means: &[f64],
    samples: usize,
    spread: f64,
) -> Record {
    let points = means
        .iter()
        .enumerate()
        .map(|(i, &m)| PointRecord {
            key: format!("accuracy-active/p1/pt{i}"),
            suite: "accuracy-active".into(),
            id: format!("pt{i}"),
            position: 0,
            title: format!("synthetic point {i}"),
            verdict: if m.abs() <= 1.0 {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            mean_error_pct: Some(m),
            expanded_uncertainty_pct: Some(0.05),
            limit_pct: Some(1.0),
            limit: None,
            budget: None,
            summary: "synthetic".into(),
            details: serde_json::Value::Null,
            loads: Vec::new(),
            planned_rig_time_s: 10.0,
            // The first point carries what a planned, climate-logged run
            // adds, so a round trip through the store shows it kept.
            planned_u: (i == 0).then(|| model::point::PlannedU {
                expected_u_pct: 0.05,
                limit_pct: 1.0,
                target_u_pct: 1.0 / 3.0,
                method: "pulse comparison".into(),
                flagged: None,
            }),
            attempts: 1,
            samples: (0..samples)
                .map(|k| Sample {
                    index: k,
                    at_s: k as f64,
                    value: m + spread * (((k * 7919 + i * 31) % 17) as f64 / 8.0 - 1.0),
                    unit: "%".into(),
                    raw: serde_json::json!({ "pulses": 1000 + k }),
                })
                .collect(),
            conditions: (i == 0).then(|| model::lab::ClimateReading {
                at_s: 0.0,
                temperature_c: 25.5,
                humidity_pct: 48.0,
                outside: Some("25.5 °C is outside 23 °C ± 2 K".into()),
            }),
        })
        .collect();
    Record {
        schema_version: reports::RECORD_SCHEMA_VERSION,
        run_id: run_id.into(),
        metrig_version: env!("CARGO_PKG_VERSION").into(),
        started_at: started_at.into(),
        finished_at: Some(started_at.into()),
        status: reports::RecordStatus::Completed,
        message: "completed".into(),
        plan_name: "nightly".into(),
        plan: FileRef {
            path: "fixtures/plans/nightly.toml".into(),
            sha256: "0".repeat(64),
        },
        rig_name: "synthetic".into(),
        rig: FileRef {
            path: "fixtures/rigs/sim.toml".into(),
            sha256: "0".repeat(64),
        },
        simulated: true,
        seed: u64::MAX,
        decision_rule: DecisionRuleRecord {
            rule: DecisionRule::SimpleAcceptance,
            text: "simple acceptance".into(),
        },
        meters: vec![MeterInfo {
            position: 0,
            profile_id: "synthetic".into(),
            maker: "metrig".into(),
            model: "synthetic".into(),
            profile: FileRef {
                path: "fixtures/meters/eastron-sdm120.toml".into(),
                sha256: "0".repeat(64),
            },
            map_status: "full".into(),
            said: Some(MeterSelf {
                model_id: Some("SYN".into()),
                serial_number: Some(serial.into()),
                firmware: Some(firmware.into()),
            }),
        }],
        instruments: Vec::new(),
        points,
        findings: Vec::new(),
        limits_not_verified: Vec::new(),
        limits_overridden: Vec::new(),
        restore: Vec::new(),
        resumes: 0,
        lab: None,
        facts: None,
        certificates: Vec::new(),
        reference_conditions: None,
        standards: Vec::new(),
    }
}
