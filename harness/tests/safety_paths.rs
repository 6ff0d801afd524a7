//! Safety on every path (issue 8), as a property: for any sequence of
//! injected failures — a point that passes, a panic in a suite after it
//! changed the meter's line, an instrument error after it changed the
//! address, a meter lost on the wrong line, Ctrl-C mid-point — the run ends
//! with the simulated source off, and the meter back on its factory line
//! and address, or the record saying it could not be put back.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use harness::load_point::LoadPoint;
use harness::modbus::LinkError;
use harness::profile::{Framing, LineSettings, MeterSetting, SettingValue};
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::{Rig, RigError};
use harness::run::{
    CancelHandle, Listener, PlanContext, PointIo, PointOutcome, PointSpec, RunEvent, RunRequest,
    Suite, SuiteError, cancel_pair, parse_plan,
};
use harness::stats::Verdict;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Pass,
    ChangeLineThenPanic,
    ChangeAddressThenInstrumentError,
    LoseMeter,
    ChangeLineThenCtrlC,
}

#[derive(Debug)]
struct Scripted {
    steps: Vec<Step>,
    cancel: Arc<CancelHandle>,
}

fn load() -> LoadPoint {
    LoadPoint::new(Volts(230.0), Amps(5.0), PowerFactor::UNITY, Hertz(50.0))
}

#[async_trait]
impl Suite for Scripted {
    fn id(&self) -> &'static str {
        "scripted"
    }

    fn title(&self) -> &'static str {
        "injected failures"
    }

    fn points(&self, ctx: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError> {
        Ok((0..self.steps.len())
            .map(|i| PointSpec {
                suite: "scripted".into(),
                id: format!("step-{i}"),
                position: ctx.positions[0].0,
                title: format!("{:?}", self.steps[i]),
                loads: vec![load()],
                rig_time: std::time::Duration::from_secs(1),
                limit: None,
                params: serde_json::json!(i),
                planned_u: None,
            })
            .collect())
    }

    async fn run(
        &self,
        point: &PointSpec,
        rig: &mut Rig,
        _io: &mut PointIo<'_>,
    ) -> Result<PointOutcome, SuiteError> {
        let i: usize = serde_json::from_value(point.params.clone()).unwrap_or(0);
        rig.energise(load()).await?;
        let link = rig.positions[0].link.as_mut().expect("link");
        match self.steps[i] {
            Step::Pass => Ok(PointOutcome {
                verdict: Verdict::Pass,
                ..PointOutcome::skipped("passes")
            }),
            Step::ChangeLineThenPanic => {
                link.write(MeterSetting::Baud, SettingValue::Number(9600.0))
                    .await?;
                panic!("injected panic after changing the baud");
            }
            Step::ChangeAddressThenInstrumentError => {
                link.write(MeterSetting::Address, SettingValue::Number(17.0))
                    .await?;
                Err(SuiteError::Rig(RigError::instrument(
                    "source",
                    "injected fault",
                )))
            }
            Step::LoseMeter => {
                let wrong = LineSettings {
                    baud: 4800,
                    framing: Framing::try_from("8N1".to_string()).expect("framing"),
                };
                link.reconnect(link.address(), Some(wrong)).await?;
                Err(SuiteError::Link(LinkError::Timeout { timeout_ms: 300 }))
            }
            Step::ChangeLineThenCtrlC => {
                link.write(MeterSetting::Framing, SettingValue::Text("8O1".into()))
                    .await?;
                self.cancel.cancel();
                std::future::pending::<()>().await;
                unreachable!()
            }
        }
    }
}

struct Keep(Arc<Mutex<Vec<RunEvent>>>);

impl Listener for Keep {
    fn on_event(&mut self, e: &RunEvent) {
        self.0.lock().expect("lock").push(e.clone());
    }
}

async fn run_script(steps: Vec<Step>) {
    let text = common::sim_rig_text(
        "legrand-412083",
        "sim-rtu",
        "",
        "[positions.retry]\nattempts = 1\nwait_for_meter_s = 2",
    );
    let config = harness::station::parse_rig(&text, Path::new("safety.toml")).expect("rig");
    let mut rig = Rig::open(config).await.expect("rig opens");
    let (handle, cancel) = cancel_pair();
    let suites: Vec<Arc<dyn Suite>> = vec![Arc::new(Scripted {
        steps: steps.clone(),
        cancel: Arc::new(handle),
    })];
    let plan = parse_plan(
        "[plan]\nname = \"safety\"\ndecision_rule = \"simple-acceptance\"\nrepetitions = 1\nsettle_s = 0\nwarm_up_s = 0\n[[suites]]\nid = \"scripted\"\n",
        Path::new("safety-plan.toml"),
        &[suites[0].declaration()],
    )
    .expect("plan");
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(Keep(events.clone()))];
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "safety".into(),
        resume: None,
        only: None,
        cancel,
    };
    let _ = harness::run::run(req, &mut rig, &mut listeners).await;
    assert!(
        rig.simulated_source().is_some_and(|s| s.is_off()),
        "{steps:?}: the source ends off"
    );
    let restore = events
        .lock()
        .expect("lock")
        .iter()
        .find_map(|e| match e {
            RunEvent::RunFinished { restore, .. } => Some(restore.clone()),
            _ => None,
        })
        .expect("the run finishes");
    let s = rig.simulated_settings(0).expect("sim");
    let factory = (
        5u8,
        Some(LineSettings {
            baud: 19200,
            framing: Framing::try_from("8E1".to_string()).expect("framing"),
        }),
    );
    let on_factory = (s.address, s.line) == factory;
    let said_not = restore.iter().any(|r| !r.restored);
    assert!(
        on_factory || said_not,
        "{steps:?}: meter at {:?} {:?}, record {restore:?}",
        s.address,
        s.line
    );
    assert!(
        on_factory == restore.iter().all(|r| r.restored),
        "{steps:?}: the record tells the truth: {restore:?}"
    );
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Pass),
        Just(Step::ChangeLineThenPanic),
        Just(Step::ChangeAddressThenInstrumentError),
        Just(Step::LoseMeter),
        Just(Step::ChangeLineThenCtrlC),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]

    #[test]
    fn every_path_ends_with_the_source_off_and_the_settings_accounted_for(
        steps in proptest::collection::vec(step(), 1..5)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(run_script(steps));
    }
}
