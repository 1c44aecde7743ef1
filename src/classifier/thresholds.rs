//! Decision thresholds of one-vs-rest models: per-label thresholds chosen on out-of-fold
//! probabilities of the training data, to maximise each label's F1.

use serde::{Deserialize, Serialize};

use super::folds::{out_of_fold, FoldPurpose};
use super::params::{ClassifierParams, LabelMode, ThresholdMode};
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

/// How the thresholds of a one-vs-rest model were tuned: saved in the training summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdTuning {
    /// Cross-validation folds.
    pub folds: usize,
    /// Seed of the folds.
    pub seed: u64,
    /// One entry per label, in model order.
    pub labels: Vec<LabelThreshold>,
}

/// The tuned threshold of one label and what it gained on the out-of-fold probabilities.
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
}

impl ClassifierParams {
    /// Per-label thresholds from out-of-fold probabilities: the documents are split into
    /// `threshold_folds` stratified folds; the whole pipeline (vocabulary, idf, one-vs-rest
    /// weights, with these settings and fixed thresholds) is trained on all folds but one and
    /// scores the one left out, in parallel; every label then gets the threshold maximising its F1
    /// over all documents' out-of-fold probabilities.
    pub(super) fn tune_thresholds(
        &self,
        docs: &[&Document],
        labels: &[String],
    ) -> Result<ThresholdTuning> {
        let k = self.threshold_folds;
        let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
        let folds =
            eval::stratified_folds(&truth, k, self.threshold_seed).map_err(|e| match e {
                Error::BadFoldCount { k, rule, .. } => Error::BadFoldCount {
                    name: "threshold_folds",
                    k,
                    rule: format!("{rule}; use fewer threshold folds or fixed thresholds"),
                },
                e => e,
            })?;
        let inner = ClassifierParams {
            label_mode: LabelMode::Multi,
            threshold_mode: ThresholdMode::Fixed,
            ..self.clone()
        };
        let purpose = FoldPurpose::ThresholdTuning;
        let per_fold = out_of_fold(&inner, docs, &folds, k, purpose, |clf, held| {
            // A label missing from this training fold cannot be predicted: probability 0.
            let columns: Vec<Option<usize>> = labels
                .iter()
                .map(|l| clf.labels.iter().position(|m| m == l))
                .collect();
            let texts: Vec<&str> = held.iter().map(|&i| docs[i].text.as_str()).collect();
            let probs = clf.predict_proba_many(&texts);
            Ok(held
                .iter()
                .zip(probs)
                .map(|(&i, p)| (i, columns.iter().map(|c| c.map_or(0.0, |c| p[c])).collect()))
                .collect::<Vec<(usize, Vec<f64>)>>())
        })?;
        let mut oof = vec![Vec::new(); docs.len()];
        for (i, p) in per_fold.into_iter().flatten() {
            oof[i] = p;
        }
        let truth: Vec<Vec<bool>> = docs
            .iter()
            .map(|d| labels.iter().map(|l| d.labels.contains(l)).collect())
            .collect();
        let chosen = tune_on_probabilities(&oof, &truth, self.allow_empty);
        let at_half = label_f1s(&oof, &truth, &vec![0.5; labels.len()], self.allow_empty);
        let tuned = labels
            .iter()
            .zip(chosen)
            .zip(at_half)
            .map(|((label, (threshold, f1)), f1_at_half)| LabelThreshold {
                label: label.clone(),
                threshold,
                f1,
                f1_at_half,
            })
            .collect();
        Ok(ThresholdTuning {
            folds: k,
            seed: self.threshold_seed,
            labels: tuned,
        })
    }
}

/// in two or three.
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
    let n_labels = thresholds.len();
    let mut tp = vec![0usize; n_labels];
    let mut errors = vec![0usize; n_labels];
    for (p, y) in probs.iter().zip(truth) {
        let mut predicted: Vec<bool> = (0..n_labels).map(|j| p[j] >= thresholds[j]).collect();
        if !allow_empty && !predicted.iter().any(|&x| x) && n_labels > 0 {
            predicted[argmax(p)] = true;
        }
        for j in 0..n_labels {
            match (predicted[j], y[j]) {
                (true, true) => tp[j] += 1,
                (true, false) | (false, true) => errors[j] += 1,
                (false, false) => {}
            }
        }
    }
    tp.into_iter()
        .zip(errors)
        .map(|(t, e)| eval::f1(t, e))
        .collect()
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
fn best_f1_threshold_forced(
    probs: &[f64],
    truth: &[bool],
    forced: &[bool],
    range: (f64, f64),
) -> (f64, f64) {
    let (lo, hi) = range;
    let is_forced = |i: usize| forced.get(i).copied().unwrap_or(false);
    // (probability, positive, forced), by decreasing probability.
    let mut sorted: Vec<(f64, bool, bool)> = (0..probs.len())
        .map(|i| (probs[i], truth[i], is_forced(i)))
        .collect();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = truth.iter().filter(|&&y| y).count();
    let mut candidates: Vec<f64> = sorted
        .windows(2)
        .filter(|w| w[0].0 > w[1].0)
        .map(|w| w[0].0 / 2.0 + w[1].0 / 2.0)
        .filter(|&t| t > lo && t < hi)
        .collect();
    candidates.push(lo);
    candidates.push(hi);
    candidates.push(0.5_f64.clamp(lo, hi));
    candidates.sort_by(|a, b| b.total_cmp(a));
    candidates.dedup();
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
