//! `junit.xml`: one test case a point, for CI dashboards (quick-junit).

use std::path::Path;

use model::stats::Verdict;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::record::Record;

pub const JUNIT_FILE: &str = "junit.xml";

pub fn render(record: &Record) -> Result<String, String> {
    let mut report = Report::new(format!("metrig {}", record.plan_name));
    let mut suites: Vec<(String, Vec<TestCase>)> = Vec::new();
    for p in &record.points {
        let status = match p.verdict {
            Verdict::Pass | Verdict::ConditionalPass => TestCaseStatus::success(),
            Verdict::Fail | Verdict::ConditionalFail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(p.summary.clone())
                    .set_type(p.verdict.as_str());
                s
            }
            Verdict::Error => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(p.summary.clone()).set_type("error");
                s
            }
            Verdict::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(p.summary.clone());
                s
            }
        };
        let mut case = TestCase::new(format!("p{} {}", p.position + 1, p.id), status);
        case.set_classname(p.suite.clone());
        case.set_system_out(format!("{}\n{}", p.title, p.summary));
        match suites.iter_mut().find(|(s, _)| *s == p.suite) {
            Some((_, cases)) => cases.push(case),
            None => suites.push((p.suite.clone(), vec![case])),
        }
    }
    for (name, cases) in suites {
        let mut s = TestSuite::new(name);
        s.add_test_cases(cases);
        report.add_test_suite(s);
    }
    report.to_string().map_err(|e| e.to_string())
}

pub fn write(record: &Record, dir: &Path) -> Result<(), String> {
    crate::safe_write::write_file(dir, JUNIT_FILE, render(record)?.as_bytes())
}
