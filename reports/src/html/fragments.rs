//! Pieces of the report that stand on their own — the meters' identity,
//! a meter's conformity statement, a table of results — so the station
//! page can show the very same markup (issue 18: one set of templates).

use maud::{Markup, html};

use crate::conformity::{MeterConformity, Statement};
use crate::record::{PointRecord, Record};

/// Each meter under test: maker, model, serial number and firmware as the
/// meter reported them (else as the profile says).
pub fn meters(r: &Record) -> Markup {
    html! {
        @for m in &r.meters {
            @let said = m.said.clone().unwrap_or_default();
            @if r.meters.len() > 1 { "Position " (m.position + 1) ": " }
            (m.maker) " " (m.model)
            ", serial number " (said.serial_number.as_deref().unwrap_or("not reported"))
            ", firmware " (said.firmware.as_deref().unwrap_or("not reported"))
            br;
        }
    }
}

/// One meter's statement of conformity per clause: the clauses it does
/// not conform to first, then the conditional ones, those not judged, and
/// those it conforms to.
/// `several`: the run tested more than one meter, so each is named by its position.
pub fn conformity(r: &Record, m: &MeterConformity, several: bool) -> Markup {
    let who = match r.meters.iter().find(|x| x.position == m.position) {
        _ if !several => "The meter".to_string(),
        Some(x) => format!(
            "The meter at position {} ({} {})",
            m.position + 1,
            x.maker,
            x.model
        ),
        None => format!("The meter at position {}", m.position + 1),
    };
    html! {
        div.conformity {
            @for s in [Statement::DoesNotConform, Statement::Conditional, Statement::NotJudged, Statement::Conforms] {
                @let clauses = m.with(s);
                @if !clauses.is_empty() {
                    p.statement.bad[s != Statement::Conforms] {
                        b { (who) " " (s.lead()) " clause" @if clauses.len() > 1 { "s" } ":" }
                    }
                    ul {
                        @for c in &clauses {
                            li {
                                (c.clause)
                                @if s == Statement::Conforms { " (" (c.points) @if c.points == 1 { " result)" } @else { " results)" } }
                                @else { " — " (c.against.len()) " of " (c.points) " results: " (c.against.join(", ")) }
                            }
                        }
                    }
                }
            }
            @if m.outside_conditions > 0 {
                p.statement.bad { (m.outside_conditions) " result(s) of this meter were measured outside the reference conditions (section 2)." }
            }
        }
    }
}

/// The results of `points`: verdict, error, U, limit, the conditions, the
/// uncertainty components that governed U (issue 15) and the suite's own
/// summary.
pub fn points_table(points: &[&PointRecord]) -> Markup {
    html! {
        table {
            tr { th { "pos" } th { "point" } th { "verdict" } th { "error" } th { "U" } th { "limit" } th { "n" } th { "°C / % RH" } th { "governed by (share of u_c²)" } th { "result" } }
            @for p in points {
                tr class={ (p.verdict.as_str()) @if p.outside_conditions() { " outside" } } {
                    td.n { (p.position + 1) }
                    td title=(p.title) { (p.id) }
                    td { (crate::conformity::verdict_words(p.verdict)) }
                    td.n { (p.mean_error_pct.map_or("—".into(), |v| format!("{v:+.3}"))) }
                    td.n { (p.expanded_uncertainty_pct.map_or("—".into(), |v| format!("{v:.3}"))) }
                    td.n { (crate::record::limit_text(p)) }
                    td.n { (p.samples.len()) }
                    td.n {
                        @match &p.conditions {
                            Some(c) => {
                                (format!("{:.1} / {:.0}", c.temperature_c, c.humidity_pct))
                                @if let Some(why) = &c.outside { br; b { "outside: " } (why) }
                            }
                            None => { "—" }
                        }
                    }
                    td { (crate::governing::governing(p.budget.as_ref())) }
                    td { (p.summary) }
                }
            }
        }
    }
}
