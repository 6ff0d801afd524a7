//! The lab file (`fixtures/labs/*.toml`): a laboratory's fixed facts that
//! every report it issues carries (ISO/IEC 17025 §7.8.2.1 b: name and
//! address of the laboratory; §7.8.2.1 o: the person authorising the
//! report). Read bounded and checked like every other input file
//! (`crate::files`): a refusal names the file, the key, the value and what
//! is allowed.
//!
//! ```toml
//! [lab]
//! name = "Example Metering Laboratory GmbH"
//! address = ["Prüfstraße 1", "12345 Musterstadt", "Germany"]
//! accreditation = "DAkkS D-PL-00000-01-00 (ISO/IEC 17025:2017)"
//! authoriser = "Dr. A. Authoriser"
//! authoriser_role = "Head of laboratory"
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::files::{Checker, FileError};
use model::events::FileRef;
pub use model::lab::{
    Certificate, ClimateReading, LabInfo, OnOutOfRange, ReferenceConditions, RunFacts,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabFile {
    lab: RawLab,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    name: String,
    address: Vec<String>,
    accreditation: Option<String>,
    authoriser: String,
    authoriser_role: Option<String>,
}

/// Loads and checks a lab file.
pub fn load_lab(path: &Path) -> Result<LabInfo, FileError> {
    let text = crate::files::read_bounded(path, "lab file")?;
    parse_lab(&text, path)
}

/// Checks a lab file's text; `path` names it in errors and in the record.
pub fn parse_lab(text: &str, path: &Path) -> Result<LabInfo, FileError> {
    let raw: RawLabFile = toml::from_str(text).map_err(|e| FileError::syntax(path, &e))?;
    let c = Checker::new(path);
    let l = raw.lab;
    let filled = |key: &str, v: &str| {
        if v.trim().is_empty() {
            Err(c.invalid(key, "\"\"", "a non-empty text"))
        } else {
            Ok(())
        }
    };
    filled("lab.name", &l.name)?;
    filled("lab.authoriser", &l.authoriser)?;
    if l.address.iter().all(|a| a.trim().is_empty()) {
        return Err(c.invalid(
            "lab.address",
            format!("{:?}", l.address),
            "at least one non-empty line (17025 §7.8.2.1 b: the laboratory's address)",
        ));
    }
    if let Some(a) = &l.accreditation {
        filled("lab.accreditation", a)?;
    }
    Ok(LabInfo {
        name: l.name,
        address: l.address,
        accreditation: l.accreditation,
        authoriser: l.authoriser,
        authoriser_role: l.authoriser_role,
        file: Some(FileRef::of(path)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_file_is_read_and_blank_keys_are_refused() {
        let p = Path::new("lab.toml");
        let ok = parse_lab(
            "[lab]\nname = \"L\"\naddress = [\"Street 1\"]\nauthoriser = \"A\"\n",
            p,
        )
        .expect("ok");
        assert_eq!(ok.name, "L");
        let e = parse_lab(
            "[lab]\nname = \" \"\naddress = [\"x\"]\nauthoriser = \"A\"\n",
            p,
        )
        .expect_err("blank");
        assert_eq!(e.key(), Some("lab.name"), "{e}");
        let e = parse_lab("[lab]\nname = \"L\"\naddress = []\nauthoriser = \"A\"\n", p)
            .expect_err("no address");
        assert!(e.to_string().contains("lab.address"), "{e}");
        let e = parse_lab(
            "[lab]\nname = \"L\"\naddress = [\"x\"]\nauthoriser = \"A\"\nphone = 1\n",
            p,
        )
        .expect_err("unknown key");
        assert!(e.to_string().contains("phone"), "{e}");
    }

    #[test]
    fn a_type_test_plan_names_its_missing_facts_and_reads_them_from_report() {
        let text = "[plan]\nname = \"t\"\ndecision_rule = \"non-binary\"\nkind = \"type-test\"\n\
            [report]\nlab = \"../labs/example-lab.toml\"\ncustomer = \"ACME\"\nreceived = \"2026-11-20\"\n\
            [[suites]]\nid = \"a\"\n";
        let plan = crate::run::parse_plan(
            text,
            Path::new("fixtures/plans/t.toml"),
            &[crate::run::Declaration::bare("a")],
        )
        .expect("plan");
        assert_eq!(
            plan.report.lab_file.as_deref(),
            Some(Path::new("fixtures/plans/../labs/example-lab.toml")),
            "relative to the plan"
        );
        assert_eq!(plan.report.facts.customer.as_deref(), Some("ACME"));
        // The lab is named until it is loaded (the command line loads it).
        assert_eq!(
            plan.missing_report_facts(),
            vec!["lab", "report-number", "operator", "sample-id"]
        );
        let check = crate::run::parse_plan(
            &text.replace("kind = \"type-test\"\n", ""),
            Path::new("p.toml"),
            &[crate::run::Declaration::bare("a")],
        )
        .expect("plan");
        assert!(
            check.missing_report_facts().is_empty(),
            "only type tests require them"
        );
    }
}
