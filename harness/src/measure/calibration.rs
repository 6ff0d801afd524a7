//! A run refuses an instrument past its calibration due date (issue 15,
//! item 9): ISO/IEC 17025 §6.4.13 asks that equipment out of its calibration
//! interval be taken out of service, or its use justified. A plan's
//! `[preconditions] calibration_overdue` or the command line's
//! `--calibration-overdue REASON` is that justification, and the record
//! keeps it as a finding.

use chrono::NaiveDate;

use crate::rig::Identity;

/// The instruments past their due date on `today`, with it.
pub fn overdue(ids: &[Identity], today: NaiveDate) -> Vec<(&Identity, NaiveDate)> {
    ids.iter()
        .filter_map(|i| i.calibration_due.filter(|d| *d < today).map(|d| (i, d)))
        .collect()
}

/// `Ok(None)` when every instrument is within its calibration; `Ok(Some)`
/// the finding to record when some are not and `reason` says why the run
/// goes on; `Err` the refusal otherwise.
pub fn check(
    ids: &[Identity],
    today: NaiveDate,
    reason: Option<&str>,
) -> Result<Option<String>, String> {
    let late = overdue(ids, today);
    if late.is_empty() {
        return Ok(None);
    }
    let list = late
        .iter()
        .map(|(i, d)| {
            format!(
                "{} {} s/n {} ({}, due {d})",
                i.maker, i.model, i.serial, i.role
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Ok(Some(format!(
            "calibration overdue on {today}: {list}; the run went on because: {r}"
        ))),
        None => Err(format!(
            "calibration overdue on {today}: {list}. Recalibrate, or say why the run may go on: `[preconditions] calibration_overdue = \"reason\"` in the plan, or `metrig run --calibration-overdue \"reason\"`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(due: Option<NaiveDate>) -> Identity {
        Identity {
            calibration_due: due,
            ..Identity::device("reference", "Zera", "COM3003", "123")
        }
    }

    #[test]
    fn an_overdue_reference_is_refused_unless_the_plan_says_why() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let late = reference(NaiveDate::from_ymd_opt(2026, 11, 30));
        let due_today = reference(Some(today));
        assert_eq!(
            check(std::slice::from_ref(&due_today), today, None),
            Ok(None)
        );
        assert_eq!(check(&[reference(None)], today, None), Ok(None));
        let refusal = check(&[due_today, late.clone()], today, None).expect_err("overdue");
        assert!(
            refusal.contains("s/n 123") && refusal.contains("2026-11-30"),
            "{refusal}"
        );
        assert!(refusal.contains("--calibration-overdue"));
        // A blank reason is no reason.
        assert!(check(std::slice::from_ref(&late), today, Some("  ")).is_err());
        let note = check(&[late], today, Some("recalibration booked for 2026-12-03"))
            .expect("justified")
            .expect("a finding");
        assert!(note.contains("recalibration booked"));
    }
}
