//! The 17025 report from records: a record written before issue 19 (no lab,
//! facts, conditions or certificates) still renders; the first page's
//! statement of conformity groups the clauses by their worst verdict; a
//! report number cannot break out of the print CSS.

use reports::Record;
use reports::conformity::{self, Statement};
use serde_json::json;

fn point(key: &str, verdict: &str, clause: Option<&str>, position: usize) -> serde_json::Value {
    json!({
        "key": key, "suite": key.split('/').next().unwrap_or(""), "id": key, "position": position,
        "title": "t", "verdict": verdict, "mean_error_pct": 0.1, "expanded_uncertainty_pct": 0.05,
        "limit_pct": 1.0,
        "limit": clause.map(|c| json!({"table": "t", "row": key, "clause": c, "confidence": "verified",
            "limit_pct": 1.0, "overridden": null})),
        "budget": null, "summary": "s", "details": null, "loads": [], "planned_rig_time_s": 1.0,
        "attempts": 1, "samples": []
    })
}

/// A record as metrig wrote it before issue 19: none of the new fields.
fn old_record(points: Vec<serde_json::Value>) -> Record {
    serde_json::from_value(json!({
        "schema_version": reports::RECORD_SCHEMA_VERSION, "run_id": "RUN", "metrig_version": "0.1.0",
        "started_at": "2026-11-01T10:00:00Z", "finished_at": "2026-11-01T12:00:00Z",
        "status": "completed", "message": "completed", "plan_name": "p",
        "plan": {"path": "p.toml", "sha256": "abc"}, "rig_name": "r", "rig": {"path": "r.toml", "sha256": "def"},
        "simulated": false, "seed": 1,
        "decision_rule": {"rule": "non-binary", "text": "non-binary rule"},
        "meters": [{"position": 0, "profile_id": "m", "maker": "Legrand", "model": "4 120 83",
            "profile": {"path": "m.toml", "sha256": "0"}, "map_status": "verified",
            "said": {"model_id": "412083", "serial_number": "123", "firmware": "1.02"}}],
        "instruments": [], "points": points, "findings": [], "limits_not_verified": [],
        "limits_overridden": [], "restore": [], "resumes": 0
    }))
    .expect("an old record reads")
}

#[test]
fn a_record_without_the_new_fields_still_renders() {
    let r = old_record(vec![point("a/p1/x", "pass", Some("§8.1"), 0)]);
    assert!(r.lab.is_none() && r.facts.is_none() && r.points[0].conditions.is_none());
    let html = reports::html::render(&r);
    assert!(
        html.contains("Test report run RUN"),
        "the run id stands for the number"
    );
    assert!(html.contains("not stated (no lab file given)"));
    assert!(html.contains("were not logged"), "no conditions logged");
    assert!(html.contains("The meter conforms to clause"));
}

#[test]
fn clauses_are_grouped_by_their_worst_verdict_per_meter() {
    let r = old_record(vec![
        point("a/p1/x", "pass", Some("§8.1"), 0),
        point("a/p1/y", "fail", Some("§8.1"), 0),
        point("b/p1/x", "conditional_pass", Some("§8.2"), 0),
        point("c/p1/x", "pass", Some("§9"), 0),
        point("d/p1/x", "error", None, 0),
        point("a/p2/x", "pass", Some("§8.1"), 1),
    ]);
    let c = conformity::of(&r);
    assert_eq!(c.len(), 2, "two meters");
    let m = &c[0];
    let names = |s| {
        m.with(s)
            .iter()
            .map(|c| c.clause.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Statement::DoesNotConform), vec!["§8.1"]);
    assert_eq!(m.with(Statement::DoesNotConform)[0].against, vec!["a/p1/y"]);
    assert_eq!(names(Statement::Conditional), vec!["§8.2"]);
    assert_eq!(names(Statement::Conforms), vec!["§9"]);
    assert_eq!(
        names(Statement::NotJudged),
        vec!["d (the suite's own rule)"]
    );
    assert_eq!(m.overall(), Statement::DoesNotConform);
    assert_eq!(
        c[1].overall(),
        Statement::Conforms,
        "position 2 passes §8.1"
    );
    let html = reports::html::render(&r);
    let first = html.split("1. Method").next().expect("first page");
    assert!(first.contains("does not conform to clause"), "{first}");
    assert!(first.contains("The meter at position 2"), "{first}");
}

#[test]
fn a_report_number_cannot_close_the_style_element() {
    let mut r = old_record(vec![point("a/p1/x", "pass", Some("§8.1"), 0)]);
    r.facts = Some(model::lab::RunFacts {
        report_number: Some("R\"}</style><script>x()</script>".into()),
        ..Default::default()
    });
    let html = reports::html::render(&r);
    assert!(!html.contains("<script>"), "escaped in text and in CSS");
    assert_eq!(html.matches("</style>").count(), 1);
}
