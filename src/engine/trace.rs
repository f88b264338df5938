//! Tracing one viewer for `explain`: what each recommendation was, and what lay behind it.
//! A traced run is an ordinary run of one arm that stops early and records one viewer.

use super::arm::ArmRun;
use crate::catalog::{Catalog, ItemIdx};
use crate::population::Population;
use crate::recommender::{Source, Trace};
use crate::scenario::Scenario;
use crate::viewer::Response;

/// One impression of the traced viewer, for `explain`.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    pub step: u32,
    /// Minutes of use before the impression.
    pub minute: f64,
    pub item: ItemIdx,
    pub source: Source,
    /// What the policy ranked and how.
    pub trace: Trace,
    pub response: Response,
    /// The viewer had switched to the arm's other recommender.
    pub switched: bool,
    /// The slot was filled by a `slots` boost: its name and whether it is disclosed.
    pub slot: Option<(String, bool)>,
    /// The viewer when the impression was ranked: what they are, and what the platform
    /// believed of them.
    pub viewer: ViewerSnapshot,
}

/// The traced viewer at one impression, before it: the cohorts they belong to, their day of
/// use, their true interests and the platform's profile of them.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewerSnapshot {
    /// The day of use under way (1 = the first).
    pub day: u16,
    /// Under 18.
    pub minor: bool,
    /// Lingers on sensitive content and drifts faster towards it.
    pub vulnerable: bool,
    /// A scripted audit account.
    pub bot: bool,
    /// Switches to the arm's other recommender during the run.
    pub switcher: bool,
    /// A coordinated account.
    pub coordinated: bool,
    /// The platform's profile: its estimate of the viewer's watch signal per topic (what
    /// `explain` calls `topic_estimate`).
    pub estimate: Vec<f32>,
    /// The viewer's true interests per topic (on the simplex; the platform never reads them).
    pub interests: Vec<f32>,
}

/// Records one viewer's recommendations for `explain`.
#[derive(Debug, Clone)]
pub struct Tracer {
    /// The viewer traced.
    pub viewer: u32,
    /// Steps to run.
    pub steps: u32,
    /// One record per impression of the viewer.
    pub records: Vec<TraceRecord>,
}

/// Runs arm `arm` of `replicate` for `steps` steps and records every recommendation made to
/// `viewer`, with what lies behind it. The other arms are not needed: with common random
/// numbers, an arm runs the same alone as beside others.
pub fn trace(scenario: &Scenario, arm: usize, replicate: u32, viewer: u32, steps: u32) -> Vec<TraceRecord> {
    let catalog = Catalog::generate(scenario, replicate);
    let population = Population::generate(scenario, replicate);
    let mut run = ArmRun::new(scenario, &catalog, &population, replicate);
    if let Some(w) = ArmRun::warmed(scenario, &catalog, &population, replicate) {
        run.start_from(&w);
    }
    let mut tracer = Tracer {
        viewer,
        steps,
        records: Vec::new(),
    };
    let mut rows = Vec::new();
    run.run(arm, &mut rows, &|_| {}, Some(&mut tracer));
    tracer.records
}
