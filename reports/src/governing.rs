//! Which uncertainty components governed a point (issue 15): the record's
//! budget names every component; a reader of `summary.md` or `report.html`
//! needs the ones that carry the combined uncertainty, with their share of
//! u_c² (JCGM 100 §5.1.2: the components add in variance).

use model::stats::Budget;

/// Components carrying at least this share of u_c² are named.
const NAMED_SHARE: f64 = 0.2;

/// "name 81 %; name 17 %" for the components with ≥ 20 % of u_c² (the
/// largest always), largest first; "—" without a budget.
pub fn governing(budget: Option<&Budget>) -> String {
    let Some(b) = budget else {
        return "—".into();
    };
    let total: f64 = b.components.iter().map(|c| c.standard_pct.powi(2)).sum();
    if total.is_nan() || total <= 0.0 {
        return "—".into();
    }
    let mut shares: Vec<(f64, &str)> = b
        .components
        .iter()
        .map(|c| (c.standard_pct.powi(2) / total, c.name.as_str()))
        .collect();
    shares.sort_by(|a, b| b.0.total_cmp(&a.0));
    shares
        .iter()
        .enumerate()
        .filter(|(i, (s, _))| *i == 0 || *s >= NAMED_SHARE)
        .map(|(_, (s, name))| format!("{name} {:.0} %", s * 100.0))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::stats::Component;

    #[test]
    fn the_largest_shares_are_named_largest_first() {
        let b = Budget::of(
            &[0.0],
            vec![
                Component::from_expanded("reference", 0.02, 2.0),
                Component::from_expanded("floor", 0.03, 2.0),
                Component::rectangular("resolution", 0.001),
            ],
        );
        let g = governing(Some(&b));
        // 0.015² : 0.01² → 69 % and 31 %; resolution ≈ 0 %, not named.
        assert_eq!(g, "floor 69 %; reference 31 %");
        assert_eq!(governing(None), "—");
    }
}
