//! Plan parameters that set a tolerance (issue 15, item 8): a huge
//! `period_tolerance_pct` once passed a meter 60 % fast at Ist without a
//! trace. Such a parameter may tighten the standard's figure, down to a
//! floor; to loosen it the plan must go through `[[overrides]]` for the same
//! table row, with its reason, which the record lists.

use harness::run::{PlanContext, SuiteError};

use crate::limits::Row;

/// The value of the tolerance parameter `key` for table row `row`: the
/// row's figure (or the plan's `[[overrides]]` figure for it) when the plan
/// says nothing; a stated value must lie within `floor ..=` that figure.
pub fn tolerance(
    ctx: &PlanContext<'_>,
    key: &str,
    row: &Row,
    floor: f64,
) -> Result<f64, SuiteError> {
    let overridden = ctx.plan.override_for(row.table, row.id);
    let ceiling = overridden.map_or(row.limit_pct, |o| o.limit_pct);
    let v = ctx.number(key, ceiling)?;
    if !v.is_finite() || v < floor {
        return Err(SuiteError::Plan(format!(
            "parameter `{key}` = {v}: within {floor} ..= {ceiling} ({}, {})",
            row.description, row.clause
        )));
    }
    if v > ceiling {
        return Err(SuiteError::Plan(format!(
            "parameter `{key}` = {v}: within {floor} ..= {ceiling} ({}, {}); a wider tolerance than the standard's goes through [[overrides]] with table = \"{}\", row = \"{}\", limit_pct = {v} and its reason, so the record lists it",
            row.description, row.clause, row.table, row.id
        )));
    }
    Ok(v)
}

/// "(overridden: reason)" when the plan replaced `row`'s figure.
pub fn override_note(ctx: &PlanContext<'_>, row: &Row) -> Option<String> {
    ctx.plan
        .override_for(row.table, row.id)
        .map(|o| format!("{} (table: {})", o.reason, row.limit_pct))
}

#[cfg(test)]
mod tests {
    use crate::limits::pulses;

    /// The plan checker accepts an override of a row only a tolerance
    /// parameter reads if `harness::run::plan::PARAM_ROWS` names it.
    #[test]
    fn the_rows_tolerance_parameters_read_are_known_to_the_plan_checker() {
        for row in [pulses::START_PERIOD, pulses::START_FACTOR] {
            assert!(
                harness::run::plan::PARAM_ROWS
                    .iter()
                    .any(|(s, t, r)| *s == "starting-current" && *t == row.table && *r == row.id),
                "{} / {}",
                row.table,
                row.id
            );
        }
    }
}
