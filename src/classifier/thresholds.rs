//! Decision thresholds of one-vs-rest models: per-label thresholds chosen on out-of-fold
//! probabilities of the training data, to maximise each label's F1.

use serde::{Deserialize, Serialize};

use super::folds::{out_of_fold, FoldPurpose};
use super::params::{ClassifierParams, CountedRows, LabelMode, ThresholdMode, WarmStart};
use super::pipeline::argmax;
use crate::error::{Error, Result};
use crate::eval;
use crate::Document;

/// Tuned thresholds are kept inside this range: the best midpoint is searched within it, and the
/// bounds themselves are candidates. Out-of-fold probabilities of a label with a handful of
/// positives can make a threshold of 0.01 or 0.99 look best on a few documents; such a threshold
/// fires on nearly everything or nothing on new text. 0.05 and 0.95 are one-in-twenty odds either
/// way, far outside where the tuned thresholds of real labels fall.
pub const TUNED_THRESHOLD_RANGE: (f64, f64) = (0.05, 0.95);

/// How a one-vs-rest model's thresholds were chosen (tuned, or by evidence): saved in the training
/// summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdTuning {
    /// Cross-validation folds.
    pub folds: usize,
    /// Seed of the folds.
    pub seed: u64,
    /// One entry per label, in model order (empty when `unavailable`).
    pub labels: Vec<LabelThreshold>,
    /// Why the evidence rule had no out-of-fold probabilities to go on (every threshold is then
    /// 0.5). Absent in models saved before the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// The evidence rule's common threshold, which every label starts from (absent for tuned
    /// thresholds, a single label, and models saved before the common step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common: Option<CommonThreshold>,
}

/// The evidence rule's first step: one threshold for every label, and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonThreshold {
    /// The common threshold: `proposed` when its gain beat the noise, else 0.5.
    pub threshold: f64,
    /// The common threshold that maximises the objective out of fold.
    pub proposed: f64,
    /// What moving every label from 0.5 to `proposed` gained in the objective.
    pub gain: f64,
    /// The noise `gain` had to beat: see [`evidence_thresholds`].
    pub noise: f64,
}

impl CommonThreshold {
    /// Why the common threshold is what it is, in words.
    pub fn reason(&self) -> String {
        let (p, g, n) = (self.proposed, self.gain, self.noise);
        if p == 0.5 {
            "0.5 is already the best common threshold out of fold".to_string()
        } else if self.threshold != 0.5 {
            format!("moved: {p:.3} for every label gains {g:.4}, beyond the noise {n:.4}")
        } else {
            format!("kept 0.5: {p:.3} for every label gains {g:.4}, within the noise {n:.4}")
        }
    }
}

impl ThresholdTuning {
    /// One line: how the thresholds were chosen and, for the evidence rule, how many moved.
    pub fn describe(&self) -> String {
        if let Some(why) = &self.unavailable {
            return why.clone();
        }
        let how = format!(
            "{}-fold out-of-fold probabilities of the training data (seed {})",
            self.folds, self.seed
        );
        if self.labels.iter().any(|l| l.proposed.is_some()) {
            let base = self.common.as_ref().map_or(0.5, |c| c.threshold);
            let moved = self.labels.iter().filter(|l| l.threshold != base).count();
            let (common, from) = match &self.common {
                Some(c) if c.threshold != 0.5 => (
                    format!(
                        "common threshold {:.3} ({}), then ",
                        c.threshold,
                        c.reason()
                    ),
                    "it",
                ),
                _ => (String::new(), "0.5"),
            };
            format!(
                "by evidence from {how}: {common}{moved} of {} moved from {from} (gain in \
                 {:.1} micro-F1 + {MACRO_WEIGHT} macro-F1 beyond {EVIDENCE_Z} s.e., micro-F1 \
                 kept)",
                self.labels.len(),
                1.0 - MACRO_WEIGHT
            )
        } else {
            format!("tuned per label (F1) on {how}")
        }
    }
}

/// One label's threshold and the out-of-fold evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelThreshold {
    /// The label.
    pub label: String,
    /// The chosen threshold.
    pub threshold: f64,
    /// The label's out-of-fold F1 at the chosen threshold.
    pub f1: f64,
    /// The label's out-of-fold F1 at 0.5, for comparison.
    pub f1_at_half: f64,
    /// Positive training documents of the label (evidence rule; absent in older models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positives: Option<usize>,
    /// The threshold the evidence rule proposed before its noise test (evidence rule only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed: Option<f64>,
    /// The label's out-of-fold F1 at `proposed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1_proposed: Option<f64>,
    /// What moving to `proposed` gained in the evidence rule's objective
    /// (`(1 − MACRO_WEIGHT) · micro-F1 + MACRO_WEIGHT · macro-F1`, out of fold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain: Option<f64>,
    /// The noise `gain` had to beat, in the same units: see [`evidence_thresholds`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
    /// The threshold the label started from and was tested against, when not 0.5: the evidence
    /// rule's common threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
}

impl LabelThreshold {
    /// Why the threshold is what it is, in words (evidence rule; `None` for tuned thresholds).
    pub fn reason(&self) -> Option<String> {
        let (proposed, gain, noise) = (self.proposed?, self.gain?, self.noise?);
        let base = self.baseline.unwrap_or(0.5);
        let from = if self.baseline.is_some() {
            format!("the common {base:.3}")
        } else {
            "0.5".to_string()
        };
        Some(if proposed == base {
            format!("{from} is already best out of fold")
        } else if self.threshold != base {
            format!("moved: {proposed:.3} gains {gain:.4}, beyond its noise {noise:.4}")
        } else {
            format!("kept {from}: {proposed:.3} gains {gain:.4}, within its noise {noise:.4}")
        })
    }
}

/// The evidence rule's trade between the two F1s it serves: its proposal maximises
/// `(1 − MACRO_WEIGHT) · micro-F1 + MACRO_WEIGHT · macro-F1` over the out-of-fold probabilities.
/// Per-label F1 alone (`tuned`) gives up micro-F1 for rare labels; micro-F1 alone gives up
/// macro-F1 (BENCHMARKS.md, "Multi-label thresholds").
pub const MACRO_WEIGHT: f64 = 0.7;

/// A move (the common threshold's, or a label's from it) is kept only when its out-of-fold gain
/// exceeds this many standard errors (see [`evidence_thresholds`]): a smaller gain is what
/// picking the best of many candidate thresholds finds in noise. One, not two: with the
/// micro-F1 floors guarding micro-F1, two left rare labels' real gains unused (BENCHMARKS.md,
/// "Multi-label thresholds").
pub const EVIDENCE_Z: f64 = 1.0;

/// Rounds of the evidence rule's coordinate ascent (it stops earlier when no threshold moves).
const EVIDENCE_ROUNDS: usize = 10;

impl ClassifierParams {
    /// The thresholds of [`ThresholdMode::Tuned`] or [`ThresholdMode::Evidence`], and the
    /// out-of-fold probabilities they were chosen on (`probs[i][j]`, document i, label j). The
    /// documents are split into `threshold_folds` stratified folds; the whole pipeline
    /// (vocabulary, idf, one-vs-rest weights, with these settings and fixed thresholds, no error
    /// rates) is trained on all folds but one and scores the one left out, in parallel. With too
    /// few documents for the folds, the evidence rule keeps 0.5 (and says why); tuning is an
    /// error.
    pub(super) fn tune_thresholds(
        &self,
        docs: &[&Document],
        counted: CountedRows<'_>,
        labels: &[String],
        start: Option<&WarmStart>,
    ) -> Result<(ThresholdTuning, Option<Vec<Vec<f64>>>)> {
        let k = self.threshold_folds;
        let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
        let folds = match eval::stratified_folds(&truth, k, self.threshold_seed) {
            Ok(folds) => folds,
            Err(Error::BadFoldCount { k, rule, .. })
                if self.threshold_mode == ThresholdMode::Evidence =>
            {
                let tuning = ThresholdTuning {
                    folds: k,
                    seed: self.threshold_seed,
                    labels: Vec::new(),
                    unavailable: Some(format!(
                        "no out-of-fold evidence ({rule}): every threshold is 0.5"
                    )),
                    common: None,
                };
                return Ok((tuning, None));
            }
            Err(Error::BadFoldCount { k, rule, .. }) => {
                return Err(Error::BadFoldCount {
                    name: "threshold_folds",
                    k,
                    rule: format!("{rule}; use fewer threshold folds or fixed thresholds"),
                })
            }
            Err(e) => return Err(e),
        };
        let inner = ClassifierParams {
            label_mode: LabelMode::Multi,
            threshold_mode: ThresholdMode::Fixed,
            rate_folds: 0,
            ..self.clone()
        };
        let purpose = FoldPurpose::ThresholdTuning;
        let per_fold = out_of_fold(
            &inner,
            docs,
            counted,
            &folds,
            k,
            purpose,
            start,
            |clf, held| {
                // A label missing from this training fold cannot be predicted: probability 0.
                let columns: Vec<Option<usize>> = labels
                    .iter()
                    .map(|l| clf.labels.iter().position(|m| m == l))
                    .collect();
                let x = counted
                    .counts
                    .rows_under(&clf.vectorizer, &counted.rows_of(held))?;
                let probs = clf.probabilities_of_rows(&x);
                Ok(held
                    .iter()
                    .zip(probs)
                    .map(|(&i, p)| (i, columns.iter().map(|c| c.map_or(0.0, |c| p[c])).collect()))
                    .collect::<Vec<(usize, Vec<f64>)>>())
            },
        )?;
        let mut oof = vec![Vec::new(); docs.len()];
        for (i, p) in per_fold.into_iter().flatten() {
            oof[i] = p;
        }
        let truth: Vec<Vec<bool>> = docs
            .iter()
            .map(|d| labels.iter().map(|l| d.labels.contains(l)).collect())
            .collect();
        let (tuned, common) = if self.threshold_mode == ThresholdMode::Evidence {
            evidence_thresholds(&oof, &truth, self.allow_empty)
        } else {
            let chosen = tune_on_probabilities(&oof, &truth, self.allow_empty);
            let at_half = label_f1s(&oof, &truth, &vec![0.5; labels.len()], self.allow_empty);
            let per_label = chosen
                .into_iter()
                .zip(at_half)
                .map(|((threshold, f1), f1_at_half)| LabelThreshold {
                    label: String::new(),
                    threshold,
                    f1,
                    f1_at_half,
                    positives: None,
                    proposed: None,
                    f1_proposed: None,
                    gain: None,
                    noise: None,
                    baseline: None,
                })
                .collect();
            (per_label, None)
        };
        let tuning = ThresholdTuning {
            folds: k,
            seed: self.threshold_seed,
            common,
            labels: tuned
                .into_iter()
                .zip(labels)
                .map(|(t, label)| LabelThreshold {
                    label: label.clone(),
                    ..t
                })
                .collect(),
            unavailable: None,
        };
        Ok((tuning, Some(oof)))
    }
}

/// The evidence rule's thresholds from the out-of-fold probabilities `probs[i][j]` of document i
/// and label j, against `truth[i][j]` (labels unnamed: the caller names them), for the decision
/// rule the model applies: `p ≥ t` per label, and unless `allow_empty`, a document no label
/// passes gets its most probable label (so every count below is of that rule's predictions).
///
/// The objective is `(1 − MACRO_WEIGHT) · micro-F1 + MACRO_WEIGHT · macro-F1` of all labels'
/// predictions. A label's noise is `EVIDENCE_Z` binomial standard errors of its F1,
/// `se = sqrt(F̃ (1 − F̃) / positives)` with the smoothed `F̃ = (2 tp + 1) / (predicted +
/// positives + 2)` (so an F1 of 0 or 1 on a few documents still has noise), in objective units:
/// times the label's share of it, `MACRO_WEIGHT / labels + (1 − MACRO_WEIGHT) · positives / all
/// positives`.
///
/// 1. Common threshold (two labels or more): one threshold for every label, the candidate (as in
///    [`best_f1_threshold`], over all labels' probabilities, within [`TUNED_THRESHOLD_RANGE`];
///    ties to the one closest to 0.5) that maximises the objective among those whose micro-F1 is
///    at least micro-F1 at 0.5 and within `EVIDENCE_Z` standard errors of the best candidate's,
///    `µ* − EVIDENCE_Z · sqrt(µ* (1 − µ*) / all positives)` (the one-standard-error rule: the
///    objective may buy macro-F1 with micro-F1 only within micro-F1's noise). It is kept when
///    its gain over 0.5 beats the labels' noises combined as independent,
///    `EVIDENCE_Z · sqrt(Σ_j (share_j · se_j)²)` (se at 0.5); else the common threshold is 0.5.
///    Why: a shift every label shares (a model whose probabilities sit low for all labels) is
///    evidence pooled over all of them, which a label alone may not have; and a shift that buys
///    macro-F1 with micro-F1 out of fold loses micro-F1 on new documents too (BENCHMARKS.md,
///    "Multi-label thresholds").
/// 2. Proposal: coordinate ascent from the common threshold; each label in turn takes the
///    threshold (candidates as in [`best_f1_threshold`]; ties to the one closest to the common
///    threshold) that maximises the objective, the others' thresholds held, among those whose
///    micro-F1 is at least micro-F1 with that label at the common threshold; until no threshold
///    moves. A document the label's threshold admits is no longer handed to its most probable
///    label, so the sweep moves that label's count too. Why the floor: a rare label's F1 rises
///    when it admits documents of precision above half its F1, but micro-F1 falls when that
///    precision is below half of micro-F1; that trade, made out of fold, loses micro-F1 on new
///    documents too.
/// 3. Noise test: a label keeps its proposal only when the objective falls by more than its noise
///    (se at the common threshold) when that label alone goes back to the common threshold;
///    else it keeps the common threshold.
///
/// Deterministic: labels are visited in order and every sum is over integers.
pub fn evidence_thresholds(
    probs: &[Vec<f64>],
    truth: &[Vec<bool>],
    allow_empty: bool,
) -> (Vec<LabelThreshold>, Option<CommonThreshold>) {
    let n_labels = probs.first().map_or(0, Vec::len);
    let n = probs.len();
    // Per label: documents by decreasing probability, the candidate thresholds (descending), its
    // positives.
    struct Column {
        sorted: Vec<usize>,
        candidates: Vec<f64>,
        positives: usize,
    }
    let columns: Vec<Column> = (0..n_labels)
        .map(|j| {
            let mut sorted: Vec<usize> = (0..n).collect();
            // Ties in document order (the keys are distinct, so an unstable sort is exact).
            sorted.sort_unstable_by(|&a, &b| probs[b][j].total_cmp(&probs[a][j]).then(a.cmp(&b)));
            let candidates =
                threshold_candidates(sorted.iter().map(|&i| probs[i][j]), TUNED_THRESHOLD_RANGE);
            let positives = truth.iter().filter(|y| y[j]).count();
            Column {
                sorted,
                candidates,
                positives,
            }
        })
        .collect();
    let positives: Vec<usize> = columns.iter().map(|c| c.positives).collect();
    // The label a document no label passes falls back to (none with `allow_empty`).
    let fallback: Vec<Option<usize>> = probs
        .iter()
        .map(|p| (!allow_empty && n_labels > 0).then(|| argmax(p)))
        .collect();
    let rule_counts = |th: &[f64]| rule_counts(probs, truth, th, allow_empty);
    let all_positives: usize = columns.iter().map(|c| c.positives).sum();
    // The objective of per-label (true positives, predicted) counts.
    let objective = |st: Vec<(usize, usize)>| Tally::new(st, &positives).value();
    let half = rule_counts(&vec![0.5; n_labels]);
    // A label's standard error of F1 at counts `at`, smoothed by one pseudo-positive half right
    // so that 0 (or 1) still has a variance, and its share of the objective.
    let se_of = |j: usize, at: (usize, usize)| -> f64 {
        let pos = columns[j].positives;
        let smooth = (2 * at.0 + 1) as f64 / (at.1 + pos + 2) as f64;
        (smooth * (1.0 - smooth) / pos.max(1) as f64).sqrt()
    };
    let share_of = |j: usize| -> f64 {
        MACRO_WEIGHT / n_labels as f64
            + (1.0 - MACRO_WEIGHT) * columns[j].positives as f64 / all_positives.max(1) as f64
    };
    // 0. The common threshold (step 1 of the rule, documented above).
    let common = (n_labels > 1).then(|| {
        // Every (probability, i · labels + j) of document i and label j, by decreasing
        // probability, ties in index order: 16 bytes a pair, sorted directly (sorting bare
        // indices by their probabilities, 8 bytes a pair, took three times as long). A
        // document's most probable label is predicted whatever the common threshold (it passes
        // first, or the fallback hands it over), so without `allow_empty` only the others are
        // swept.
        let mut pairs: Vec<(f64, u64)> = probs
            .iter()
            .flatten()
            .enumerate()
            .map(|(q, &x)| (x, q as u64))
            .collect();
        pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let candidates = threshold_candidates(pairs.iter().map(|q| q.0), TUNED_THRESHOLD_RANGE);
        let mut handed = vec![(0usize, 0usize); n_labels];
        for (i, a) in fallback.iter().enumerate() {
            if let Some(a) = *a {
                handed[a] = (handed[a].0 + usize::from(truth[i][a]), handed[a].1 + 1);
            }
        }
        let mut tally = Tally::new(handed, &positives);
        // (threshold, objective, true positives, predicted) at every candidate.
        let mut swept: Vec<(f64, f64, usize, usize)> = Vec::with_capacity(candidates.len());
        let mut next = 0usize;
        for &t in &candidates {
            while next < pairs.len() && pairs[next].0 >= t {
                let q = pairs[next].1 as usize;
                let (i, j) = (q / n_labels, q % n_labels);
                next += 1;
                if fallback[i] != Some(j) {
                    tally.change(j, truth[i][j], true);
                }
            }
            swept.push((t, tally.value(), tally.tp, tally.predicted));
        }
        let micro = |s: &(f64, f64, usize, usize)| f1_counts((s.2, s.3), all_positives);
        let half_at = swept
            .iter()
            .find(|s| s.0 == 0.5)
            .expect("0.5 is a candidate");
        let (at_half, micro_half) = (half_at.1, micro(half_at));
        // The floor: micro-F1 at 0.5, and within EVIDENCE_Z standard errors of the best
        // common threshold's micro-F1 (the one-standard-error rule).
        let top = swept.iter().map(micro).fold(micro_half, f64::max);
        let floor = micro_half
            .max(top - EVIDENCE_Z * (top * (1.0 - top) / all_positives.max(1) as f64).sqrt());
        let mut best: Option<(f64, f64)> = None;
        for sw in swept.iter().filter(|s| micro(s) >= floor) {
            keep_better(&mut best, sw.0, sw.1, 0.5);
        }
        let (proposed, v) = best.expect("the best micro-F1 meets its own floor");
        let noise = EVIDENCE_Z
            * (0..n_labels)
                .map(|j| (share_of(j) * se_of(j, half[j])).powi(2))
                .sum::<f64>()
                .sqrt();
        let gain = v - at_half;
        CommonThreshold {
            threshold: if gain > noise { proposed } else { 0.5 },
            proposed,
            gain,
            noise,
        }
    });
    // The threshold every label starts from and is tested against.
    let base = common.as_ref().map_or(0.5, |c| c.threshold);
    let mut thresholds = vec![base; n_labels];
    // The rule's counts at `thresholds`, and how many labels pass each document there.
    let mut state = rule_counts(&thresholds);
    let mut passing: Vec<usize> = probs
        .iter()
        .map(|p| p.iter().filter(|&&x| x >= base).count())
        .collect();
    // The counts when label j alone moves from its threshold `from` to `to` (∞: it passes
    // nothing), from `state` and `passing` at the current thresholds: only the documents
    // between the two change, and one that j alone passes goes to or from the fallback.
    // O(documents), where recounting would be O(documents × labels).
    let shift = |state: &[(usize, usize)], passing: &[usize], j: usize, from: f64, to: f64| {
        let mut st = state.to_vec();
        for (i, (p, y)) in probs.iter().zip(truth).enumerate() {
            let (was, now) = (p[j] >= from, p[j] >= to);
            if was == now {
                continue;
            }
            // j starts (`now`) or stops passing the document; when no other label passes it,
            // its fallback label stops (or starts) getting it.
            count(&mut st[j], y[j], now);
            if passing[i] == usize::from(was) {
                if let Some(a) = fallback[i] {
                    count(&mut st[a], y[a], was);
                }
            }
        }
        st
    };
    for _ in 0..EVIDENCE_ROUNDS {
        let mut moved = false;
        for j in 0..n_labels {
            let c = &columns[j];
            // The counts with label j passing no document: the start of the sweep.
            let mut tally = Tally::new(
                shift(&state, &passing, j, thresholds[j], f64::INFINITY),
                &positives,
            );
            // The micro-F1 floor: out-of-fold micro-F1 with label j at the common threshold, the
            // others held.
            let floor = {
                let at = Tally::new(shift(&state, &passing, j, thresholds[j], base), &positives);
                at.micro()
            };
            // Sweep the candidates from high to low, admitting documents as t drops.
            let mut next = 0usize;
            let mut best: Option<(f64, f64)> = None;
            for &t in &c.candidates {
                while next < c.sorted.len() && probs[c.sorted[next]][j] >= t {
                    let i = c.sorted[next];
                    next += 1;
                    // Another label passes it, or it falls back to its most probable label.
                    let others = passing[i] > usize::from(probs[i][j] >= thresholds[j]);
                    let handed = if others { None } else { fallback[i] };
                    if handed == Some(j) {
                        continue; // the fallback already predicts j here
                    }
                    tally.change(j, truth[i][j], true);
                    if let Some(m) = handed {
                        tally.change(m, truth[i][m], false); // no longer empty: m loses it
                    }
                }
                if tally.micro() >= floor {
                    keep_better(&mut best, t, tally.value(), base);
                }
            }
            // Some candidate admits what the common threshold admits, so the floor is met; were
            // none to, the label would stay where it is.
            let t = best.map_or(thresholds[j], |b| b.0);
            if t != thresholds[j] {
                moved = true;
                state = shift(&state, &passing, j, thresholds[j], t);
                for (k, p) in passing.iter_mut().zip(probs) {
                    *k = *k - usize::from(p[j] >= thresholds[j]) + usize::from(p[j] >= t);
                }
                thresholds[j] = t;
            }
        }
        if !moved {
            break;
        }
    }
    debug_assert_eq!(state, rule_counts(&thresholds));
    let proposed_value = objective(state.clone());
    let at_base = rule_counts(&vec![base; n_labels]);
    let labels = (0..n_labels)
        .map(|j| {
            let pos = columns[j].positives;
            let f1_proposed = f1_counts(state[j], pos);
            let gain = if thresholds[j] == base {
                0.0
            } else {
                proposed_value - objective(shift(&state, &passing, j, thresholds[j], base))
            };
            let noise = EVIDENCE_Z * se_of(j, at_base[j]) * share_of(j);
            let keep = gain > noise;
            LabelThreshold {
                label: String::new(),
                threshold: if keep { thresholds[j] } else { base },
                f1: if keep {
                    f1_proposed
                } else {
                    f1_counts(at_base[j], pos)
                },
                f1_at_half: f1_counts(half[j], pos),
                positives: Some(pos),
                proposed: Some(thresholds[j]),
                f1_proposed: Some(f1_proposed),
                gain: Some(gain),
                noise: Some(noise),
                baseline: (base != 0.5).then_some(base),
            }
        })
        .collect();
    (labels, common)
}

/// The evidence rule's choice between candidate thresholds: `(t, v)` replaces `best` when its
/// objective v is higher (beyond rounding, 1e-12), or equal and t closer to `anchor`.
fn keep_better(best: &mut Option<(f64, f64)>, t: f64, v: f64, anchor: f64) {
    let better = match *best {
        None => true,
        Some((bt, bv)) => {
            v > bv + 1e-12 || (v >= bv - 1e-12 && (t - anchor).abs() < (bt - anchor).abs())
        }
    };
    if better {
        *best = Some((t, v));
    }
}

/// Per-label (true positives, predicted) counts of a decision rule, with their totals and the sum
/// of the labels' F1s, kept current as predictions are added or taken away (the evidence rule's
/// sweeps). Its [`Tally::value`] is the evidence rule's objective.
struct Tally<'a> {
    counts: Vec<(usize, usize)>,
    positives: &'a [usize],
    all_positives: usize,
    tp: usize,
    predicted: usize,
    f1_sum: f64,
}

impl<'a> Tally<'a> {
    fn new(counts: Vec<(usize, usize)>, positives: &'a [usize]) -> Tally<'a> {
        let f1_sum = (0..counts.len())
            .map(|m| f1_counts(counts[m], positives[m]))
            .sum();
        Tally {
            tp: counts.iter().map(|c| c.0).sum(),
            predicted: counts.iter().map(|c| c.1).sum(),
            all_positives: positives.iter().sum(),
            counts,
            positives,
            f1_sum,
        }
    }

    /// One more (`add`) or one fewer prediction of label m, a true positive when `hit`.
    fn change(&mut self, m: usize, hit: bool, add: bool) {
        let old = f1_counts(self.counts[m], self.positives[m]);
        count(&mut self.counts[m], hit, add);
        let mut totals = (self.tp, self.predicted);
        count(&mut totals, hit, add);
        (self.tp, self.predicted) = totals;
        self.f1_sum += f1_counts(self.counts[m], self.positives[m]) - old;
    }

    /// Micro-F1 of all labels' predictions.
    fn micro(&self) -> f64 {
        f1_counts((self.tp, self.predicted), self.all_positives)
    }

    /// `(1 − MACRO_WEIGHT) · micro-F1 + MACRO_WEIGHT · macro-F1`.
    fn value(&self) -> f64 {
        (1.0 - MACRO_WEIGHT) * self.micro() + MACRO_WEIGHT * self.f1_sum / self.counts.len() as f64
    }
}

/// One more (`add`) or one fewer prediction in (true positives, predicted), a true positive when
/// `hit`.
fn count(c: &mut (usize, usize), hit: bool, add: bool) {
    let y = usize::from(hit);
    *c = if add {
        (c.0 + y, c.1 + 1)
    } else {
        (c.0 - y, c.1 - 1)
    };
}

/// F1 from (true positives, predicted) and positives: fp + fn = predicted + positives − 2 tp.
fn f1_counts((tp, predicted): (usize, usize), positives: usize) -> f64 {
    eval::f1(tp, predicted + positives - 2 * tp)
}

/// Rounds of [`tune_on_probabilities`] at most; in practice it settles in two or three.
const TUNING_ROUNDS: usize = 10;

/// Per-label thresholds (and each label's F1 at its threshold) from the probabilities `probs[i][j]`
/// of document i and label j, against `truth[i][j]`.
///
/// With `allow_empty`, each label independently gets [`best_f1_threshold`]. Without it, a document
/// no label passes gets its most probable label anyway, so a label need not lower its threshold to
/// catch documents that rule already hands it: starting from the independent choice, each label in
/// turn is re-tuned with those documents counted as predicted, until no threshold moves (at most
/// 10 rounds). Deterministic: labels are visited in model order.
pub fn tune_on_probabilities(
    probs: &[Vec<f64>],
    truth: &[Vec<bool>],
    allow_empty: bool,
) -> Vec<(f64, f64)> {
    let n_labels = probs.first().map_or(0, Vec::len);
    let column = |j: usize| -> (Vec<f64>, Vec<bool>) {
        (
            probs.iter().map(|p| p[j]).collect(),
            truth.iter().map(|y| y[j]).collect(),
        )
    };
    let mut chosen: Vec<(f64, f64)> = (0..n_labels)
        .map(|j| {
            let (p, y) = column(j);
            best_f1_threshold(&p, &y, TUNED_THRESHOLD_RANGE)
        })
        .collect();
    if allow_empty {
        return chosen;
    }
    let best: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    for _ in 0..TUNING_ROUNDS {
        let mut moved = false;
        for j in 0..n_labels {
            let forced: Vec<bool> = probs
                .iter()
                .zip(&best)
                .map(|(p, &b)| b == j && (0..n_labels).all(|k| k == j || p[k] < chosen[k].0))
                .collect();
            let (p, y) = column(j);
            let next = best_f1_threshold_forced(&p, &y, &forced, TUNED_THRESHOLD_RANGE);
            moved |= next.0 != chosen[j].0;
            chosen[j] = next;
        }
        if !moved {
            break;
        }
    }
    // The F1 each label reaches with all thresholds at their final values.
    let thresholds: Vec<f64> = chosen.iter().map(|c| c.0).collect();
    let f1s = label_f1s(probs, truth, &thresholds, allow_empty);
    thresholds.into_iter().zip(f1s).collect()
}

/// Per-label F1 of the decision rule (`p >= threshold`, else the most probable label unless
/// `allow_empty`) on these probabilities.
fn label_f1s(
    probs: &[Vec<f64>],
    truth: &[Vec<bool>],
    thresholds: &[f64],
    allow_empty: bool,
) -> Vec<f64> {
    rule_counts(probs, truth, thresholds, allow_empty)
        .into_iter()
        .enumerate()
        .map(|(j, c)| f1_counts(c, truth.iter().filter(|y| y[j]).count()))
        .collect()
}

/// Per-label (true positives, predicted) of the decision rule: `p >= threshold`, and unless
/// `allow_empty`, a document no label passes gets its most probable label. Counted document by
/// document: the reference the incremental sweeps must agree with.
pub(super) fn rule_counts(
    probs: &[Vec<f64>],
    truth: &[Vec<bool>],
    thresholds: &[f64],
    allow_empty: bool,
) -> Vec<(usize, usize)> {
    let mut st = vec![(0usize, 0usize); thresholds.len()];
    for (p, y) in probs.iter().zip(truth) {
        let mut any = false;
        for (j, &t) in thresholds.iter().enumerate() {
            if p[j] >= t {
                any = true;
                count(&mut st[j], y[j], true);
            }
        }
        if !any && !allow_empty && !thresholds.is_empty() {
            let a = argmax(p);
            count(&mut st[a], y[a], true);
        }
    }
    st
}

/// The threshold `t` in `[range.0, range.1]` that maximises the F1 of predicting `p >= t`, and
/// that F1.
///
/// Candidates are the midpoints between consecutive distinct probabilities that fall inside the
/// range (F1 only changes when the threshold crosses a probability, and a midpoint sits as far as
/// possible from the two probabilities that bound it), plus the two bounds and 0.5 itself. Ties
/// (equal F1, compared exactly as fractions) go to the candidate closest to 0.5: when 0.5 is
/// already optimal it is kept, and a label with no usable signal (every F1 0) keeps 0.5.
pub fn best_f1_threshold(probs: &[f64], truth: &[bool], range: (f64, f64)) -> (f64, f64) {
    best_f1_threshold_forced(probs, truth, &[], range)
}

/// As [`best_f1_threshold`], with documents whose `forced` entry is true predicted whatever the
/// threshold (the at-least-one-label rule hands them this label anyway).
/// The candidate thresholds within `range`, descending, from probabilities in descending order:
/// the midpoints between consecutive distinct probabilities that fall inside the range (F1 only
/// changes when the threshold crosses a probability, and a midpoint sits as far as possible from
/// the two that bound it), plus the two bounds and 0.5 (clamped into the range).
fn threshold_candidates(descending: impl Iterator<Item = f64>, range: (f64, f64)) -> Vec<f64> {
    let (lo, hi) = range;
    let probs: Vec<f64> = descending.collect();
    let mut candidates: Vec<f64> = probs
        .windows(2)
        .filter(|w| w[0] > w[1])
        .map(|w| w[0] / 2.0 + w[1] / 2.0)
        .filter(|&t| t > lo && t < hi)
        .chain([lo, hi, 0.5_f64.clamp(lo, hi)])
        .collect();
    candidates.sort_by(|a, b| b.total_cmp(a));
    candidates.dedup();
    candidates
}

fn best_f1_threshold_forced(
    probs: &[f64],
    truth: &[bool],
    forced: &[bool],
    range: (f64, f64),
) -> (f64, f64) {
    let is_forced = |i: usize| forced.get(i).copied().unwrap_or(false);
    // (probability, positive, forced), by decreasing probability.
    let mut sorted: Vec<(f64, bool, bool)> = (0..probs.len())
        .map(|i| (probs[i], truth[i], is_forced(i)))
        .collect();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = truth.iter().filter(|&&y| y).count();
    let candidates = threshold_candidates(sorted.iter().map(|d| d.0), range);
    // Sweep the candidates from high to low, admitting documents as the threshold drops (forced
    // ones are in from the start). F1 = 2tp / (2tp + fp + fn) = 2tp / (predicted + positives),
    // kept as an exact fraction.
    let mut predicted = sorted.iter().filter(|d| d.2).count();
    let mut tp = sorted.iter().filter(|d| d.2 && d.1).count();
    let mut next = 0usize;
    let mut best: Option<(f64, usize, usize)> = None; // (threshold, numerator, denominator)
    for &t in &candidates {
        while next < sorted.len() && sorted[next].0 >= t {
            if !sorted[next].2 {
                predicted += 1;
                tp += usize::from(sorted[next].1);
            }
            next += 1;
        }
        let (num, den) = (2 * tp, predicted + positives);
        let better = match best {
            None => true,
            Some((bt, bn, bd)) => {
                // Compare num/den with bn/bd exactly; a zero denominator means F1 0.
                let (a, b) = (
                    num as u128 * bd.max(1) as u128,
                    bn as u128 * den.max(1) as u128,
                );
                a > b || (a == b && (t - 0.5).abs() < (bt - 0.5).abs())
            }
        };
        if better {
            best = Some((t, num, den));
        }
    }
    let (t, num, den) = best.expect("the bounds are always candidates");
    // num = 2 tp and den = 2 tp + fp + fn.
    (t, eval::f1(num / 2, den - num))
}
