//! Plan parameters that set a tolerance (issue 15, item 8): a huge
//! `period_tolerance_pct` once passed a meter 60 % fast at Ist without a
//! trace. Such a parameter may tighten the standard's figure, down to a
//! floor; to loosen it the plan must go through `[[overrides]]` for the same
//! table row, with its reason, which the record lists.

use harness::run::{Param, PlanContext, SuiteError};

use crate::limits::Row;

/// The value of the tolerance parameter `param` for table row `row`: the
/// row's figure (or the plan's `[[overrides]]` figure for it) when the plan
/// says nothing; a stated value must lie within `floor ..=` that figure.
/// `param` declares `row` as its bound (`Param::bounded_by`), so an
/// override of the row counts as used whenever the suite is planned.
pub fn tolerance(
    ctx: &PlanContext<'_>,
    param: &Param,
    row: &Row,
    floor: f64,
) -> Result<f64, SuiteError> {
    let key = param.key;
    if param
        .bounded_by
        .is_none_or(|b| b.table != row.table || b.row != row.id)
    {
        return Err(SuiteError::Plan(format!(
            "parameter `{key}` declares {:?} as its bound, not {} / {}",
            param.bounded_by, row.table, row.id
        )));
    }
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
    use harness::run::TableRow;

    use crate::limits::pulses;
    use crate::starting_current::{FIRST_PULSE_FACTOR, PERIOD_TOLERANCE};

    /// An override of a row only a tolerance parameter reads is accepted by
    /// the plan checker because the parameter declares that row.
    #[test]
    fn the_tolerance_parameters_declare_the_rows_that_bound_them() {
        for (param, row) in [
            (FIRST_PULSE_FACTOR, pulses::START_FACTOR),
            (PERIOD_TOLERANCE, pulses::START_PERIOD),
        ] {
            assert_eq!(
                param.bounded_by,
                Some(TableRow {
                    table: row.table,
                    row: row.id
                }),
                "{}",
                param.key
            );
        }
        let declared = crate::suite(crate::SuiteId::StartingCurrent).declaration();
        assert_eq!(declared.tolerance_rows().count(), 2);
    }
}
