//! Statistics for verdicts: uncertainty budgets (GUM), decision rules
//! (ILAC-G8:09/2019) and the two-sample test the firmware gate uses.

pub mod chi_square;
pub mod decision;
pub mod sequential;
pub mod type_a;
pub mod uncertainty;
pub mod welch;

pub use chi_square::SigmaInterval;
pub use decision::{DecisionRule, Verdict};
pub use sequential::SequentialRule;
pub use type_a::{Reproducibility, TypeA, TypeAGoverned};
pub use uncertainty::{Budget, Component, student_t_975};
