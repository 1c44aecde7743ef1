//! Label prevalence by group and period: the aggregate state one pass over a corpus keeps, its
//! merge, and the estimates and intervals made from it.
//!
//! Memory grows with groups × labels × (bootstrap replicates + probability cells), never with the
//! number of documents: a document adds to its group's counts and is forgotten.
//!
//! Every sum is exact: probabilities are fixed-point numbers (multiples of 2⁻³², summed in
//! 128-bit integers) and bootstrap weights are whole numbers, so the state of a corpus does not
//! depend on the order of its documents, on threads, or on how it was split before a merge. The
//! estimates of a merged state are therefore the same bits as those of one pass.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::prevalence_render::PrevalenceReport;
use super::quantify::{
    binary_adjust, em_binary, em_shares, quantile, simplex_least_squares, Method,
    EM_REPLICATE_TOLERANCE, EM_TOLERANCE,
};
use crate::classifier::PrevalenceRates;
use crate::dataset::Period;
use crate::error::{Error, Result};

/// Most labels of a single-label model that ACC and PACC correct: their simplex least squares
/// costs k³ per group and bootstrap replicate (minutes at a thousand labels), and its labels ×
/// labels rates rest on a few out-of-fold documents per cell at that size. Beyond, their columns
/// are empty and `--method acc|pacc` is refused.
pub const JOINT_LABELS: usize = 100;

impl PrevalenceSpec {
    /// Whether ACC and PACC are computed: always for one-vs-rest models (each label on its own);
    /// for single-label ones up to [`JOINT_LABELS`] labels.
    pub fn corrects_jointly(&self) -> bool {
        self.multi_label || self.labels.len() <= JOINT_LABELS
    }

    /// Refuse a method these rates cannot give: ACC and PACC without stored rates, or past
    /// [`JOINT_LABELS`] single labels. Called before the input is read, and again on estimating
    /// (merged states).
    pub fn check_rates(&self, method: Method) -> Result<()> {
        if !method.needs_rates() || self.gold {
            return Ok(());
        }
        if self.rates.is_none() {
            return Err(Error::NoRates {
                method: method.as_str(),
            });
        }
        if !self.corrects_jointly() {
            return Err(Error::OutOfRange {
                name: "method",
                value: method.to_string(),
                range: "cc, pcc or emq for a single-label model of more than 100 labels (ACC and \
                        PACC invert its labels × labels rate matrix: k³ work per group and \
                        replicate, from rates that are mostly noise at that size)",
            });
        }
        Ok(())
    }
}

/// The format name of a saved state.
pub const STATE_FORMAT: &str = "framelens-prevalence-state";
/// The version of the saved state this build writes and reads.
pub const STATE_VERSION: u32 = 1;

/// One probability unit in fixed point: `p` is stored as `round(p · 2³²)`.
const FIXED_ONE: f64 = 4_294_967_296.0;
/// Single-label EMQ cells: each probability rounded to a multiple of 1/CELL_STEPS.
const CELL_STEPS: f64 = 200.0;
/// One-vs-rest EMQ bins per label: probabilities rounded to a multiple of 1/BIN_STEPS.
const BIN_STEPS: f64 = 1000.0;

/// What a state was computed with; states merge only when these agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceSpec {
    /// Identifies the model (the caller's fingerprint of its file).
    pub model: String,
    /// The model's labels, in model order.
    pub labels: Vec<String>,
    /// One-vs-rest model (label shares need not sum to 1).
    pub multi_label: bool,
    /// The record fields documents are grouped by.
    pub by: Vec<String>,
    /// The record field holding the date, when grouping by period.
    pub time: Option<String>,
    /// The period length.
    pub every: Option<Period>,
    /// The records' own labels were counted instead of the model's predictions.
    pub gold: bool,
    /// Bootstrap replicates.
    pub bootstrap: usize,
    /// Seed of the bootstrap weights.
    pub seed: u64,
    /// The model's out-of-fold rates (for ACC and PACC).
    pub rates: Option<PrevalenceRates>,
}

/// The counts of one group: its documents, what was predicted, the probability mass, the
/// probability cells EMQ needs, and the same sums under every bootstrap replicate's weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GroupState {
    documents: u64,
    /// Documents predicted with each label.
    predicted: Vec<u64>,
    /// Sum of each label's probability, fixed point.
    mass: Vec<u128>,
    /// EMQ cells: single-label, the rounded probability vector; one-vs-rest, `[label, bin]`.
    /// Saved as a list of [key, count] pairs (JSON keys are strings).
    #[serde(with = "pairs")]
    cells: BTreeMap<Vec<u16>, u64>,
    /// Replicate r's weighted document count.
    rep_documents: Vec<u64>,
    /// Replicate r's weighted predictions of label l at `r * k + l`.
    rep_predicted: Vec<u64>,
    /// Replicate r's weighted probability mass of label l at `r * k + l`, fixed point.
    rep_mass: Vec<u128>,
}

impl GroupState {
    fn new(k: usize, replicates: usize) -> GroupState {
        GroupState {
            documents: 0,
            predicted: vec![0; k],
            mass: vec![0; k],
            cells: BTreeMap::new(),
            rep_documents: vec![0; replicates],
            rep_predicted: vec![0; replicates * k],
            rep_mass: vec![0; replicates * k],
        }
    }

    fn merge(&mut self, other: &GroupState) {
        self.documents += other.documents;
        add(&mut self.predicted, &other.predicted);
        add(&mut self.mass, &other.mass);
        for (key, n) in &other.cells {
            *self.cells.entry(key.clone()).or_insert(0) += n;
        }
        add(&mut self.rep_documents, &other.rep_documents);
        add(&mut self.rep_predicted, &other.rep_predicted);
        add(&mut self.rep_mass, &other.rep_mass);
    }
}

/// A map with list keys saved as a list of `[key, value]` pairs, in key order.
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(m: &BTreeMap<Vec<u16>, u64>, s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<(&Vec<u16>, &u64)> = m.iter().collect();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Vec<u16>, u64>, D::Error> {
        let v: Vec<(Vec<u16>, u64)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

fn add<T: Copy + std::ops::AddAssign>(a: &mut [T], b: &[T]) {
    a.iter_mut().zip(b).for_each(|(x, &y)| *x += y);
}

/// One scored document as the state takes it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The document's id: its bootstrap weights are drawn from a hash of it and the seed.
    pub id: &'a str,
    /// The probability of every label, in model order (with gold labels: 1 or 0).
    pub probabilities: &'a [f64],
    /// The labels predicted (or, with gold labels, carried), as label indices.
    pub labels: &'a [usize],
}

/// The mergeable aggregate state of prevalence analysis: see the module description.
#[derive(Debug, Clone, PartialEq)]
pub struct PrevalenceState {
    spec: PrevalenceSpec,
    groups: FxHashMap<Vec<String>, GroupState>,
    skipped: BTreeMap<String, u64>,
    /// The fixed-point probabilities of the last document, reused.
    scratch: Vec<u64>,
    /// The calibrated probabilities of the last document, reused.
    calibrated: Vec<f64>,
}

/// The file form of a state: groups in key order, so the same state is the same bytes.
#[derive(Serialize, Deserialize)]
struct SavedState {
    format: String,
    version: u32,
    spec: PrevalenceSpec,
    skipped: BTreeMap<String, u64>,
    groups: Vec<(Vec<String>, GroupState)>,
}

impl PrevalenceState {
    /// An empty state.
    pub fn new(spec: PrevalenceSpec) -> PrevalenceState {
        PrevalenceState {
            spec,
            groups: FxHashMap::default(),
            skipped: BTreeMap::new(),
            scratch: Vec::new(),
            calibrated: Vec::new(),
        }
    }

    /// What the state was computed with.
    pub fn spec(&self) -> &PrevalenceSpec {
        &self.spec
    }

    /// Records left out, by reason.
    pub fn skipped(&self) -> &BTreeMap<String, u64> {
        &self.skipped
    }

    /// Documents counted.
    pub fn documents(&self) -> u64 {
        self.groups.values().map(|g| g.documents).sum()
    }

    /// Count `n` records left out for `reason` (nothing when `n` is 0).
    pub fn skip(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.to_string()).or_insert(0) += n;
        }
    }

    /// Add one document to the group `key` (its `--by` values, then its period).
    pub fn add(&mut self, key: &[String], obs: Observation) {
        let k = self.spec.labels.len();
        let r = self.spec.bootstrap;
        let multi = self.spec.multi_label;
        let seed = self.spec.seed;
        // PCC, PACC and EMQ read calibrated probabilities (see `Calibration`).
        let calibrated = &mut self.calibrated;
        calibrated.clear();
        calibrated.extend_from_slice(obs.probabilities);
        if let (Some(rates), false) = (&self.spec.rates, self.spec.gold) {
            rates.calibration.apply(multi, calibrated);
        }
        let probabilities = &calibrated[..];
        let fixed = &mut self.scratch;
        fixed.clear();
        fixed.extend(
            probabilities
                .iter()
                .map(|p| (p.clamp(0.0, 1.0) * FIXED_ONE).round() as u64),
        );
        let g = match self.groups.get_mut(key) {
            Some(g) => g,
            None => self
                .groups
                .entry(key.to_vec())
                .or_insert_with(|| GroupState::new(k, r)),
        };
        g.documents += 1;
        for &l in obs.labels {
            g.predicted[l] += 1;
        }
        for (m, &q) in g.mass.iter_mut().zip(fixed.iter()) {
            *m += q as u128;
        }
        if multi {
            for (l, p) in probabilities.iter().enumerate() {
                let bin = (p.clamp(0.0, 1.0) * BIN_STEPS).round() as u16;
                *g.cells.entry(vec![l as u16, bin]).or_insert(0) += 1;
            }
        } else {
            let key: Vec<u16> = probabilities
                .iter()
                .map(|p| (p.clamp(0.0, 1.0) * CELL_STEPS).round() as u16)
                .collect();
            *g.cells.entry(key).or_insert(0) += 1;
        }
        let mut rng = SplitMix(xxhash_rust::xxh3::xxh3_64_with_seed(
            obs.id.as_bytes(),
            seed,
        ));
        for rep in 0..r {
            let w = poisson1(rng.next());
            if w == 0 {
                continue;
            }
            g.rep_documents[rep] += w;
            let row = rep * k;
            for &l in obs.labels {
                g.rep_predicted[row + l] += w;
            }
            for (m, &q) in g.rep_mass[row..row + k].iter_mut().zip(fixed.iter()) {
                *m += (w * q) as u128;
            }
        }
    }

    /// Add another state of the same analysis (same model and settings) to this one.
    pub fn merge(&mut self, other: &PrevalenceState) -> Result<()> {
        if other.spec != self.spec {
            return Err(Error::StateMismatch {
                reason: mismatch(&self.spec, &other.spec),
            });
        }
        for (key, g) in &other.groups {
            match self.groups.get_mut(key) {
                Some(mine) => mine.merge(g),
                None => {
                    self.groups.insert(key.clone(), g.clone());
                }
            }
        }
        for (reason, n) in &other.skipped {
            *self.skipped.entry(reason.clone()).or_insert(0) += n;
        }
        Ok(())
    }

    /// The state as bytes (JSON, groups in key order).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut groups: Vec<(Vec<String>, GroupState)> = self
            .groups
            .iter()
            .map(|(k, g)| (k.clone(), g.clone()))
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let saved = SavedState {
            format: STATE_FORMAT.into(),
            version: STATE_VERSION,
            spec: self.spec.clone(),
            skipped: self.skipped.clone(),
            groups,
        };
        serde_json::to_vec(&saved).map_err(|e| Error::Render {
            what: "prevalence state",
            reason: e.to_string(),
        })
    }

    /// A state saved by [`PrevalenceState::to_bytes`]; `name` names the file in errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<PrevalenceState> {
        let bad = |reason: String| Error::BadState {
            path: name.to_string(),
            reason,
        };
        let saved: SavedState = serde_json::from_slice(bytes).map_err(|e| {
            bad(format!(
                "not a prevalence state written by `analyze --partial` ({e})"
            ))
        })?;
        if saved.format != STATE_FORMAT {
            return Err(bad(format!("format {:?}", saved.format)));
        }
        if saved.version != STATE_VERSION {
            return Err(bad(format!(
                "version {} (this build reads version {STATE_VERSION})",
                saved.version
            )));
        }
        let k = saved.spec.labels.len();
        let r = saved.spec.bootstrap;
        let width = if saved.spec.multi_label { 2 } else { k };
        for (key, g) in &saved.groups {
            let fits = g.predicted.len() == k
                && g.mass.len() == k
                && g.rep_documents.len() == r
                && g.rep_predicted.len() == r * k
                && g.rep_mass.len() == r * k
                && g.cells.keys().all(|c| c.len() == width);
            if !fits {
                return Err(bad(format!(
                    "group {key:?} does not have {k} labels and {r} replicates"
                )));
            }
            let cells_fit = g.cells.keys().all(|c| {
                if saved.spec.multi_label {
                    (c[0] as usize) < k && c[1] as f64 <= BIN_STEPS
                } else {
                    c.iter().all(|&v| v as f64 <= CELL_STEPS)
                }
            });
            let per_doc = if saved.spec.multi_label { k as u128 } else { 1 };
            let counts_fit = g.documents > 0
                && g.cells.values().map(|&c| c as u128).sum::<u128>()
                    == g.documents as u128 * per_doc
                && g.predicted.iter().all(|&c| c <= g.documents);
            if !cells_fit || !counts_fit {
                return Err(bad(format!("group {key:?} has inconsistent counts")));
            }
            let key_len = saved.spec.by.len() + saved.spec.time.is_some() as usize;
            if key.len() != key_len {
                return Err(bad(format!("group {key:?} does not have {key_len} values")));
            }
        }
        if let Some(rates) = &saved.spec.rates {
            rates
                .validate(k, saved.spec.multi_label)
                .map_err(|e| bad(format!("its rates: {e}")))?;
        }
        Ok(PrevalenceState {
            spec: saved.spec,
            groups: saved.groups.into_iter().collect(),
            skipped: saved.skipped,
            scratch: Vec::new(),
            calibrated: Vec::new(),
        })
    }

    /// The estimates of every group and label, groups in key order (labels in model order within
    /// a group): `method` gives `share`, whose interval is the central `ci` of its bootstrap
    /// replicates.
    pub fn estimate(&self, method: Method, ci: f64) -> Result<Vec<PrevalenceRow>> {
        let spec = &self.spec;
        if spec.gold && method != Method::Cc {
            return Err(Error::OutOfRange {
                name: "method",
                value: method.to_string(),
                range: "cc when counting the records' own labels (--gold)",
            });
        }
        spec.check_rates(method)?;
        if !(ci > 0.0 && ci < 1.0) {
            return Err(Error::OutOfRange {
                name: "ci",
                value: ci.to_string(),
                range: "between 0 and 1, such as 0.95",
            });
        }
        let mut keys: Vec<&Vec<String>> = self.groups.keys().collect();
        keys.sort();
        let per_group: Vec<Vec<PrevalenceRow>> = keys
            .par_iter()
            .map(|key| self.group_rows(key, method, ci))
            .collect();
        Ok(per_group.into_iter().flatten().collect())
    }

    /// The rows of one group: see [`PrevalenceState::estimate`].
    fn group_rows(&self, key: &[String], method: Method, ci: f64) -> Vec<PrevalenceRow> {
        let spec = &self.spec;
        let k = spec.labels.len();
        let mut rows = Vec::with_capacity(k);
        {
            let g = &self.groups[key];
            let n = g.documents as f64;
            let cc: Vec<f64> = g.predicted.iter().map(|&c| c as f64 / n).collect();
            let pcc: Vec<f64> = g.mass.iter().map(|&m| m as f64 / FIXED_ONE / n).collect();
            let (acc, pacc) = match (&spec.rates, spec.gold) {
                (Some(rates), false) if spec.corrects_jointly() => (
                    Some(self.adjust(&cc, &rates.hard)),
                    Some(self.adjust(&pcc, &rates.soft)),
                ),
                _ => (None, None),
            };
            let emq = if spec.gold { None } else { Some(self.em(g)) };
            let share = match method {
                Method::Cc => cc.clone(),
                Method::Pcc => pcc.clone(),
                Method::Acc => acc.clone().unwrap_or_default(),
                Method::Pacc => pacc.clone().unwrap_or_default(),
                Method::Emq => emq.clone().unwrap_or_default(),
            };
            let interval = match (method, &emq) {
                (Method::Emq, Some(point)) if spec.bootstrap > 0 => {
                    Some(central(self.em_replicates(key, g, point), k, ci))
                }
                _ => self.interval(g, method, ci),
            };
            let (group, period) = match spec.time {
                Some(_) => (key[..key.len() - 1].to_vec(), key.last().cloned()),
                None => (key.to_vec(), None),
            };
            for l in 0..k {
                rows.push(PrevalenceRow {
                    group: group.clone(),
                    period: period.clone(),
                    label: spec.labels[l].clone(),
                    documents: g.documents,
                    cc: cc[l],
                    pcc: if spec.gold { None } else { Some(pcc[l]) },
                    acc: acc.as_ref().map(|v| v[l]),
                    pacc: pacc.as_ref().map(|v| v[l]),
                    emq: emq.as_ref().map(|v| v[l]),
                    share: share[l],
                    share_low: interval.as_ref().map(|(lo, _)| lo[l]),
                    share_high: interval.as_ref().map(|(_, hi)| hi[l]),
                });
            }
        }
        rows
    }

    /// The finished analysis: [`PrevalenceState::estimate`] per group and period, and per group
    /// over all periods.
    pub fn report(&self, method: Method, ci: f64) -> Result<PrevalenceReport> {
        let rows = self.estimate(method, ci)?;
        let pooled = match self.spec.time {
            Some(_) => self.pooled_over_periods().estimate(method, ci)?,
            None => rows.clone(),
        };
        Ok(PrevalenceReport {
            spec: self.spec.clone(),
            method,
            ci,
            documents: self.documents(),
            skipped: self.skipped.clone(),
            rows,
            pooled,
        })
    }

    /// The state with its periods dropped: each group's counts summed over its periods (exact).
    pub fn pooled_over_periods(&self) -> PrevalenceState {
        if self.spec.time.is_none() {
            return self.clone();
        }
        let mut spec = self.spec.clone();
        spec.time = None;
        spec.every = None;
        let mut out = PrevalenceState::new(spec);
        for (key, g) in &self.groups {
            let group = key[..key.len() - 1].to_vec();
            match out.groups.get_mut(&group) {
                Some(mine) => mine.merge(g),
                None => {
                    out.groups.insert(group, g.clone());
                }
            }
        }
        out.skipped = self.skipped.clone();
        out
    }

    /// ACC / PACC of observed shares `q` with rates `m`.
    fn adjust(&self, q: &[f64], m: &[Vec<f64>]) -> Vec<f64> {
        if self.spec.multi_label {
            q.iter()
                .zip(m)
                .map(|(&q, r)| binary_adjust(q, r[0], r[1]))
                .collect()
        } else {
            simplex_least_squares(m, q)
        }
    }

    /// The prior the (calibrated) probabilities are calibrated to: the training shares, or
    /// without rates the class-balanced prior of the default training.
    fn prior(&self) -> Vec<f64> {
        let k = self.spec.labels.len();
        match &self.spec.rates {
            Some(r) => r.calibration_prior.clone(),
            None if self.spec.multi_label => vec![0.5; k],
            None => vec![1.0 / k as f64; k],
        }
    }

    /// A group's EMQ cells as probabilities, in cell order: single-label, one vector per cell;
    /// one-vs-rest, (label, probability) per cell.
    fn cell_probabilities(&self, g: &GroupState) -> CellProbabilities {
        if self.spec.multi_label {
            CellProbabilities::PerLabel(
                g.cells
                    .keys()
                    .map(|key| (key[0] as usize, key[1] as f64 / BIN_STEPS))
                    .collect(),
            )
        } else {
            CellProbabilities::Vectors(
                g.cells
                    .keys()
                    .map(|key| key.iter().map(|&c| c as f64 / CELL_STEPS).collect())
                    .collect(),
            )
        }
    }

    /// EMQ over the cells with weights `weights` (cell order), from `start`.
    fn em_weighted(
        &self,
        cells: &CellProbabilities,
        weights: &[f64],
        prior: &[f64],
        start: Option<&[f64]>,
        tolerance: f64,
    ) -> Vec<f64> {
        match cells {
            CellProbabilities::Vectors(v) => em_shares(v, weights, prior, start, tolerance),
            CellProbabilities::PerLabel(v) => {
                let k = prior.len();
                let mut probs: Vec<Vec<f64>> = vec![Vec::new(); k];
                let mut w: Vec<Vec<f64>> = vec![Vec::new(); k];
                for (&(l, p), &x) in v.iter().zip(weights) {
                    probs[l].push(p);
                    w[l].push(x);
                }
                (0..k)
                    .map(|l| em_binary(&probs[l], &w[l], prior[l], start.map(|s| s[l]), tolerance))
                    .collect()
            }
        }
    }

    /// EMQ of a group.
    fn em(&self, g: &GroupState) -> Vec<f64> {
        let weights: Vec<f64> = g.cells.values().map(|&n| n as f64).collect();
        let cells = self.cell_probabilities(g);
        self.em_weighted(&cells, &weights, &self.prior(), None, EM_TOLERANCE)
    }

    /// EMQ of each bootstrap replicate of group `key`. A cell holds documents with the same
    /// (rounded) probabilities, so its Poisson(1) weights summed over its n documents are one
    /// Poisson(n) draw: drawn here per cell and replicate from a hash of the seed, the group
    /// and the cell, so the replicates are a function of the state alone (merge = one pass).
    fn em_replicates(&self, key: &[String], g: &GroupState, point: &[f64]) -> Vec<Vec<f64>> {
        let r = self.spec.bootstrap;
        let cells = self.cell_probabilities(g);
        let prior = self.prior();
        let group_seed =
            xxhash_rust::xxh3::xxh3_64_with_seed(key.join("\u{1f}").as_bytes(), self.spec.seed);
        let counts: Vec<u64> = g.cells.values().copied().collect();
        let mut draws = vec![0u32; counts.len() * r];
        for (c, (cell, &n)) in g.cells.keys().zip(&counts).enumerate() {
            let bytes: Vec<u8> = cell.iter().flat_map(|v| v.to_le_bytes()).collect();
            let mut rng = SplitMix(xxhash_rust::xxh3::xxh3_64_with_seed(&bytes, group_seed));
            for rep in 0..r {
                draws[c * r + rep] = poisson(n as f64, &mut rng) as u32;
            }
        }
        let mut weights = vec![0.0; counts.len()];
        (0..r)
            .map(|rep| {
                for (c, w) in weights.iter_mut().enumerate() {
                    *w = draws[c * r + rep] as f64;
                }
                self.em_weighted(
                    &cells,
                    &weights,
                    &prior,
                    Some(point),
                    EM_REPLICATE_TOLERANCE,
                )
            })
            .collect()
    }

    /// The central `ci` interval of `method` (CC, PCC, ACC or PACC) over the group's bootstrap
    /// replicates, per label; `None` without replicates.
    fn interval(&self, g: &GroupState, method: Method, ci: f64) -> Option<(Vec<f64>, Vec<f64>)> {
        let k = self.spec.labels.len();
        let r = self.spec.bootstrap;
        if r == 0 {
            return None;
        }
        let mut estimates: Vec<Vec<f64>> = Vec::with_capacity(r);
        for rep in 0..r {
            let n = g.rep_documents[rep];
            if n == 0 {
                continue;
            }
            let n = n as f64;
            let row = rep * k;
            let cc: Vec<f64> = g.rep_predicted[row..row + k]
                .iter()
                .map(|&c| c as f64 / n)
                .collect();
            let pcc: Vec<f64> = g.rep_mass[row..row + k]
                .iter()
                .map(|&m| m as f64 / FIXED_ONE / n)
                .collect();
            let est = match (method, &self.spec.rates) {
                (Method::Cc, _) => cc,
                (Method::Pcc, _) => pcc,
                (Method::Acc, Some(rates)) => self.adjust(&cc, &rates.hard),
                (Method::Pacc, Some(rates)) => self.adjust(&pcc, &rates.soft),
                _ => return None,
            };
            estimates.push(est);
        }
        Some(central(estimates, k, ci))
    }
}

/// The central `ci` interval per label of replicate estimates (each a vector over `k` labels;
/// replicates whose estimate is not a number, such as one that drew no document, are left out).
fn central(estimates: Vec<Vec<f64>>, k: usize, ci: f64) -> (Vec<f64>, Vec<f64>) {
    let (a, b) = ((1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0);
    let mut lo = Vec::with_capacity(k);
    let mut hi = Vec::with_capacity(k);
    for l in 0..k {
        let mut v: Vec<f64> = estimates
            .iter()
            .map(|e| e[l])
            .filter(|x| !x.is_nan())
            .collect();
        v.sort_by(f64::total_cmp);
        lo.push(quantile(&v, a));
        hi.push(quantile(&v, b));
    }
    (lo, hi)
}

/// A group's EMQ cells as probabilities.
enum CellProbabilities {
    /// Single-label: one probability vector per cell.
    Vectors(Vec<Vec<f64>>),
    /// One-vs-rest: (label, probability) per cell.
    PerLabel(Vec<(usize, f64)>),
}

/// A Poisson(λ) draw: by inversion for λ ≤ 30, else by the normal approximation
/// `round(λ + √λ z)` (Box–Muller), whose error at λ > 30 is far below the bootstrap's own.
fn poisson(lambda: f64, rng: &mut SplitMix) -> u64 {
    let uniform = |rng: &mut SplitMix| (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    if lambda <= 30.0 {
        let u = uniform(rng);
        let (mut k, mut p) = (0u64, (-lambda).exp());
        let mut cdf = p;
        while u > cdf && k < 1000 {
            k += 1;
            p *= lambda / k as f64;
            cdf += p;
        }
        k
    } else {
        let (u1, u2) = (uniform(rng).max(f64::MIN_POSITIVE), uniform(rng));
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (lambda + lambda.sqrt() * z).round().max(0.0) as u64
    }
}

/// Which setting two states disagree on.
fn mismatch(a: &PrevalenceSpec, b: &PrevalenceSpec) -> String {
    if a.model != b.model || a.labels != b.labels {
        return "they were computed with different models".into();
    }
    if a.by != b.by || a.time != b.time || a.every != b.every {
        return format!(
            "they group differently (--by {:?} --time {:?} --every {:?} against --by {:?} --time {:?} --every {:?})",
            a.by, a.time, a.every, b.by, b.time, b.every
        );
    }
    if a.bootstrap != b.bootstrap || a.seed != b.seed {
        return format!(
            "their bootstraps differ (--bootstrap {} --seed {} against --bootstrap {} --seed {})",
            a.bootstrap, a.seed, b.bootstrap, b.seed
        );
    }
    if a.gold != b.gold {
        return "one counted the records' own labels (--gold) and the other predictions".into();
    }
    "their settings differ".into()
}

/// The estimates of one group and label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrevalenceRow {
    /// The group's `--by` values, in `--by` order.
    pub group: Vec<String>,
    /// The period, when grouping by time.
    pub period: Option<String>,
    /// The label.
    pub label: String,
    /// Documents in the group.
    pub documents: u64,
    /// Classify and count.
    pub cc: f64,
    /// Probabilistic classify and count (absent with gold labels).
    pub pcc: Option<f64>,
    /// Adjusted classify and count (absent without the model's rates).
    pub acc: Option<f64>,
    /// Probabilistic adjusted classify and count (absent without the model's rates).
    pub pacc: Option<f64>,
    /// EM (absent with gold labels).
    pub emq: Option<f64>,
    /// The chosen method's estimate.
    pub share: f64,
    /// Lower end of the share's bootstrap interval (absent with `bootstrap` 0).
    pub share_low: Option<f64>,
    /// Upper end of the share's bootstrap interval.
    pub share_high: Option<f64>,
}

/// SplitMix64: the stream of a document's bootstrap weights, seeded by a hash of its id.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Cumulative probabilities of Poisson(1) at 0, 1, 2, ..., scaled to 2⁶⁴: `e⁻¹ Σ_{i≤n} 1/i!`.
const POISSON1_CDF: [u64; 10] = [
    6_786_177_901_268_885_274,
    13_572_355_802_537_770_549,
    16_965_444_753_172_213_186,
    18_096_474_403_383_694_065,
    18_379_231_815_936_564_285,
    18_435_783_298_447_138_329,
    18_445_208_545_532_234_003,
    18_446_555_009_401_533_385,
    18_446_723_317_385_195_808,
    18_446_742_018_272_269_410,
];

/// A Poisson(1) draw from a uniform 64-bit number (inverse CDF): the bootstrap weight of a
/// document in one replicate, as if n documents were drawn with replacement from n.
fn poisson1(u: u64) -> u64 {
    POISSON1_CDF.iter().take_while(|&&c| u >= c).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_weights_have_mean_and_variance_one() {
        let mut rng = SplitMix(7);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| poisson1(rng.next()) as f64).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        let zeros = draws.iter().filter(|&&x| x == 0.0).count() as f64 / n as f64;
        assert!((zeros - (-1f64).exp()).abs() < 0.005, "{zeros}");
    }

    #[test]
    fn the_cdf_table_is_the_poisson_cdf() {
        let mut term = (-1f64).exp();
        let mut cdf = 0.0;
        for (i, &c) in POISSON1_CDF.iter().enumerate() {
            cdf += term;
            term /= (i + 1) as f64;
            assert!((c as f64 / 2f64.powi(64) - cdf).abs() < 1e-15, "{i}");
        }
    }
}
