//! What an instrument says it is: the type lives in `model` because every
//! record carries one per instrument.

pub use model::identity::Identity;
