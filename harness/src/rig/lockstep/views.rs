//! Splitting a rig into one view per position for a point measured on many
//! positions at once, and putting it back together afterwards.
//!
//! Each view is a whole `Rig` to the suite that measures on it: every
//! position's profile is there (the limits are checked against every meter
//! in the circuit), but only its own position carries a link, pulse input
//! and tariff output. The source, clock and pulse waits go through the
//! bench's [`Lockstep`]; the reference and error calculator are shared.
//!
//! A position may appear more than once in `members`: points of different
//! suites sharing one dwell on it (issue 20, `run::dwell`). Then its link,
//! tariff output and pulse input are lent to each of those views at once
//! (`SharedLink`, `SharedTariff`, one pulse input behind every view's
//! `LockstepPulses`).

use std::sync::Arc;

use super::link::{LentLink, LentTariff, SharedLink, SharedTariff};
use super::pulses::LentPulses;
use super::{
    Lockstep, LockstepClock, LockstepPulses, LockstepSource, SharedErrorCalculator, SharedReference,
};
use crate::rig::{Identity, Position, Rig};

/// What the views borrowed from the rig.
#[derive(Debug)]
pub struct Lent {
    bench: Arc<Lockstep>,
    reference: Option<SharedReference>,
    error_calculator: Option<SharedErrorCalculator>,
    pulses: Vec<(usize, LentPulses)>,
    /// Links and tariff outputs lent to several views of one position.
    links: Vec<(usize, LentLink)>,
    tariffs: Vec<(usize, LentTariff)>,
}

impl Lent {
    /// The bench the views share: a view's measurement tells it when it ends.
    pub fn bench(&self) -> Arc<Lockstep> {
        self.bench.clone()
    }
}

/// A position lent to several views at once: its index and its link,
/// tariff output and pulse input, a clone of each for every view.
type SharedPosition = (
    usize,
    Option<SharedLink>,
    Option<SharedTariff>,
    Option<LentPulses>,
);

/// One view per position in `members` (indices into `rig.positions`), in
/// that order.
pub fn split(rig: &mut Rig, members: &[usize]) -> (Vec<Rig>, Lent) {
    let source_identity = rig.source.as_ref().map(|s| s.identity());
    let bench = Lockstep::new(
        members.len(),
        rig.source.take(),
        rig.clock.clone(),
        rig.bench.clone(),
    );
    let reference = rig.reference.take().map(SharedReference::lend);
    let error_calculator = rig.error_calculator.take().map(SharedErrorCalculator::lend);
    let mut pulses = Vec::new();
    let mut links = Vec::new();
    let mut tariffs = Vec::new();
    // A position shared by several views: its instruments lent once, a
    // clone to each of them.
    let mut shared: Vec<SharedPosition> = Vec::new();
    for (i, p) in rig.positions.iter_mut().enumerate() {
        if members.iter().filter(|&&m| m == i).count() < 2 {
            continue;
        }
        let link = p.link.take().map(|l| {
            let (link, handle) = SharedLink::lend(l);
            links.push((i, handle));
            link
        });
        let tariff = p.tariff.take().map(|t| {
            let (tariff, handle) = SharedTariff::lend(t);
            tariffs.push((i, handle));
            tariff
        });
        let lent = p.pulses.take().map(|inner| {
            let handle: LentPulses = std::sync::Arc::new(tokio::sync::Mutex::new(inner));
            pulses.push((i, handle.clone()));
            handle
        });
        shared.push((i, link, tariff, lent));
    }
    let mut views = Vec::new();
    for (me, &member) in members.iter().enumerate() {
        let positions = rig
            .positions
            .iter_mut()
            .enumerate()
            .map(|(i, p)| {
                let mut view = Position {
                    index: p.index,
                    profile: p.profile.clone(),
                    link: None,
                    pulses: None,
                    tariff: None,
                };
                if i != member {
                    return view;
                }
                if let Some((_, link, tariff, lent)) = shared.iter().find(|s| s.0 == i) {
                    view.link = link
                        .clone()
                        .map(|l| Box::new(l) as Box<dyn crate::rig::meter_link::MeterLink>);
                    view.tariff = tariff
                        .clone()
                        .map(|t| Box::new(t) as Box<dyn crate::rig::tariff_output::TariffOutput>);
                    view.pulses = lent.clone().map(|inner| {
                        Box::new(LockstepPulses::share(inner, bench.clone(), me, i))
                            as Box<dyn crate::rig::pulse_input::PulseInput>
                    });
                    return view;
                }
                view.link = p.link.take();
                view.tariff = p.tariff.take();
                view.pulses = p.pulses.take().map(|inner| {
                    let (wrapped, handle) = LockstepPulses::lend(inner, bench.clone(), me, i);
                    pulses.push((i, handle));
                    Box::new(wrapped) as Box<dyn crate::rig::pulse_input::PulseInput>
                });
                view
            })
            .collect();
        views.push(Rig {
            config: rig.config.clone(),
            clock: Arc::new(LockstepClock::new(bench.clone(), me)),
            source: source_identity.clone().map(|id: Identity| {
                Box::new(LockstepSource::new(bench.clone(), me, id))
                    as Box<dyn crate::rig::source::Source>
            }),
            reference: reference
                .clone()
                .map(|r| Box::new(r) as Box<dyn crate::rig::reference::ReferenceStandard>),
            error_calculator: error_calculator
                .clone()
                .map(|e| Box::new(e) as Box<dyn crate::rig::error_calculator::ErrorCalculator>),
            positions,
            climate: None,
            tasks: Vec::new(),
            bench: rig.bench.clone(),
            meter_identities: rig.meter_identities.clone(),
            view: true,
        });
    }
    (
        views,
        Lent {
            bench,
            reference,
            error_calculator,
            pulses,
            links,
            tariffs,
        },
    )
}

/// Puts every instrument the views borrowed back into `rig`.
pub fn join(rig: &mut Rig, mut views: Vec<Rig>, lent: Lent) {
    let Lent {
        bench,
        reference,
        error_calculator,
        pulses,
        links,
        tariffs,
    } = lent;
    for view in views.iter_mut() {
        for (i, p) in view.positions.iter_mut().enumerate() {
            if links.iter().any(|(l, _)| *l == i) || tariffs.iter().any(|(t, _)| *t == i) {
                // A shared position's: its views hold clones, dropped below.
                continue;
            }
            if let Some(home) = rig.positions.get_mut(i) {
                if let Some(link) = p.link.take() {
                    home.link = Some(link);
                }
                if let Some(t) = p.tariff.take() {
                    home.tariff = Some(t);
                }
            }
        }
    }
    drop(views);
    for (i, handle) in links {
        if let (Some(home), Ok(inner)) = (rig.positions.get_mut(i), Arc::try_unwrap(handle)) {
            home.link = Some(inner.into_inner());
        }
    }
    for (i, handle) in tariffs {
        if let (Some(home), Ok(inner)) = (rig.positions.get_mut(i), Arc::try_unwrap(handle)) {
            home.tariff = Some(inner.into_inner());
        }
    }
    for (i, handle) in pulses {
        if let (Some(home), Ok(inner)) = (rig.positions.get_mut(i), Arc::try_unwrap(handle)) {
            home.pulses = Some(inner.into_inner());
        }
    }
    rig.reference = reference.and_then(SharedReference::take_back);
    rig.error_calculator = error_calculator.and_then(SharedErrorCalculator::take_back);
    rig.source = bench.take_source();
}
