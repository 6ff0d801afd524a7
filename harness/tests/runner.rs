//! The runner's promises: every exit path — the end, a stop request, an
//! error mid-point, a panic in a suite — switches the source off, puts the
//! meter's settings back, and closes the run with its status.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use harness::load_point::LoadPoint;
use harness::profile::{MeterSetting, SettingValue};
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::{Rig, RigError};
use harness::run::events::RunStatus;
use harness::run::{
    Listener, PlanContext, PointIo, PointOutcome, PointSpec, RunEvent, RunRequest, Suite,
    SuiteError, cancel_pair, parse_plan,
};
use harness::stats::Verdict;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Good,
    Panics,
    RigFails,
    Hangs,
    ChangesSettings,
}

#[derive(Debug)]
struct Probe(Behaviour);

#[async_trait]
impl Suite for Probe {
    fn id(&self) -> &'static str {
        "probe"
    }
    fn title(&self) -> &'static str {
        "a suite that misbehaves on purpose"
    }
    fn points(&self, ctx: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError> {
        Ok((0..3)
            .map(|i| PointSpec {
                suite: "probe".into(),
                id: format!("point-{i}"),
                position: ctx.positions[0].0,
                title: format!("probe point {i}"),
                loads: vec![LoadPoint::new(
                    Volts(230.0),
                    Amps(10.0),
                    PowerFactor::UNITY,
                    Hertz(50.0),
                )],
                rig_time: Duration::from_secs(60),
                limit: None,
                params: serde_json::Value::Null,
                planned_u: None,
            })
            .collect())
    }
    async fn run(
        &self,
        point: &PointSpec,
        rig: &mut Rig,
        io: &mut PointIo<'_>,
    ) -> Result<PointOutcome, SuiteError> {
        rig.energise(point.loads[0]).await?;
        rig.dwell(Duration::from_secs(60)).await;
        let at = rig.now();
        io.sample(at, 0.1, "%", serde_json::Value::Null);
        if point.id == "point-1" {
            match self.0 {
                Behaviour::Panics => panic!("a bug in a suite"),
                Behaviour::RigFails => {
                    return Err(SuiteError::Rig(RigError::instrument(
                        "source",
                        "stopped answering",
                    )));
                }
                Behaviour::Hangs => tokio::time::sleep(Duration::from_secs(3600)).await,
                Behaviour::ChangesSettings => {
                    let link = rig.positions[0].link.as_mut().expect("link");
                    link.write(MeterSetting::S0Duration, SettingValue::Number(300.0))
                        .await?;
                    return Err(SuiteError::Measure(
                        "gave up after changing a setting".into(),
                    ));
                }
                Behaviour::Good => {}
            }
        }
        Ok(PointOutcome {
            verdict: Verdict::Pass,
            mean_error_pct: Some(0.1),
            expanded_uncertainty_pct: Some(0.05),
            limit_pct: Some(1.0),
            budget: None,
            summary: "fine".into(),
            details: serde_json::Value::Null,
        })
    }
}

#[derive(Default)]
struct Collect(Arc<std::sync::Mutex<Vec<RunEvent>>>);

impl Listener for Collect {
    fn on_event(&mut self, e: &RunEvent) {
        self.0.lock().expect("lock").push(e.clone());
    }
}

async fn run_probe(
    b: Behaviour,
) -> (
    Rig,
    Result<harness::run::RunSummary, harness::run::RunError>,
    Vec<RunEvent>,
) {
    let suites: Vec<Arc<dyn Suite>> = vec![Arc::new(Probe(b))];
    let plan = parse_plan("[plan]\nname = \"probe\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 1\nsettle_s = 1\n[[suites]]\nid = \"probe\"\n", std::path::Path::new("probe.toml"), &[suites[0].declaration()]).expect("plan");
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    let (handle, cancel) = cancel_pair();
    if b == Behaviour::Hangs {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            handle.cancel();
        });
    } else {
        std::mem::forget(handle);
    }
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(Collect(events.clone()))];
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "t".into(),
        resume: None,
        only: None,
        cancel,
    };
    let r = harness::run::run(req, &mut rig, &mut listeners).await;
    let ev = events.lock().expect("lock").clone();
    (rig, r, ev)
}

fn finished(events: &[RunEvent]) -> (RunStatus, String, Vec<harness::run::events::RestoreOutcome>) {
    match events.last() {
        Some(RunEvent::RunFinished {
            status,
            message,
            restore,
            ..
        }) => (*status, message.clone(), restore.clone()),
        other => panic!("the run must end with RunFinished, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exit_path_switches_the_source_off() {
    for b in [
        Behaviour::Good,
        Behaviour::Panics,
        Behaviour::RigFails,
        Behaviour::Hangs,
        Behaviour::ChangesSettings,
    ] {
        let (mut rig, r, events) = run_probe(b).await;
        let summary = r.unwrap_or_else(|e| panic!("{b:?}: {e}"));
        let state = rig
            .source
            .as_mut()
            .expect("source")
            .state()
            .await
            .expect("state");
        assert!(state.is_off(), "{b:?}: source left {state:?}");
        let (status, message, restore) = finished(&events);
        let expect = match b {
            Behaviour::Good | Behaviour::ChangesSettings => RunStatus::Completed,
            _ => RunStatus::Interrupted,
        };
        assert_eq!(status, expect, "{b:?}: {message}");
        assert_eq!(summary.status, expect);
        assert!(restore.iter().all(|r| r.restored), "{b:?}: {restore:?}");
        match b {
            Behaviour::Panics => assert!(
                message.contains("panicked") && message.contains("a bug in a suite"),
                "{message}"
            ),
            Behaviour::RigFails => assert!(
                summary.rig_failed.is_some() && message.contains("stopped answering"),
                "{message}"
            ),
            Behaviour::Hangs => assert!(message.contains("stopped by request"), "{message}"),
            Behaviour::ChangesSettings => {
                assert!(restore[0].message.contains("s0_duration"), "{restore:?}");
                assert_eq!(summary.failures, 1, "the errored point counts as a failure");
            }
            Behaviour::Good => assert_eq!(summary.failures, 0),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_beyond_the_ratings_is_refused_before_anything_is_energised() {
    #[derive(Debug)]
    struct Hot;
    #[async_trait]
    impl Suite for Hot {
        fn id(&self) -> &'static str {
            "hot"
        }
        fn title(&self) -> &'static str {
            "beyond Imax"
        }
        fn points(&self, _: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError> {
            Ok(vec![PointSpec {
                suite: "hot".into(),
                id: "80a".into(),
                position: 0,
                title: "80 A".into(),
                loads: vec![LoadPoint::new(
                    Volts(230.0),
                    Amps(80.0),
                    PowerFactor::UNITY,
                    Hertz(50.0),
                )],
                rig_time: Duration::ZERO,
                limit: None,
                params: serde_json::Value::Null,
                planned_u: None,
            }])
        }
        async fn run(
            &self,
            _: &PointSpec,
            _: &mut Rig,
            _: &mut PointIo<'_>,
        ) -> Result<PointOutcome, SuiteError> {
            unreachable!("never run")
        }
    }
    let suites: Vec<Arc<dyn Suite>> = vec![Arc::new(Hot)];
    let plan = parse_plan(
        "[plan]\nname = \"hot\"\ndecision_rule = \"non-binary\"\n[[suites]]\nid = \"hot\"\n",
        std::path::Path::new("hot.toml"),
        &[suites[0].declaration()],
    )
    .expect("plan");
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    let mut listeners: Vec<Box<dyn Listener>> = Vec::new();
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "t".into(),
        resume: None,
        only: None,
        cancel: harness::run::Cancel::never(),
    };
    let err = harness::run::run(req, &mut rig, &mut listeners)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("Imax"), "{err}");
    let state = rig
        .source
        .as_mut()
        .expect("source")
        .state()
        .await
        .expect("state");
    assert!(state.is_off(), "nothing energised");
}
