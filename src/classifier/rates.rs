//! What prevalence correction needs to know about a classifier's errors: its out-of-fold
//! confusion rates on the training data, estimated at train time and stored in the model.

use serde::{Deserialize, Serialize};

/// A classifier's error rates, from out-of-fold predictions of its own training data (each
/// document scored by a model that did not see it: see
/// [`HeldOut`](crate::logistic::HeldOut)). Rows of `hard` and `soft` are the true labels.
///
/// - Single-label models: `hard[j][i]` = share of the documents of label j predicted as label i;
///   `soft[j][i]` = mean probability of label i over the documents of label j. A column of
///   observed shares `q` is then `q = Mᵀ π` for the true shares `π` (Forman's ACC with `hard`,
///   Bella et al.'s PACC with `soft`).
/// - One-vs-rest models: `hard[l] = [tpr, fpr]` of label l under the model's own decision rule
///   (thresholds, forced label), `soft[l] = [mean p | positive, mean p | negative]`; each label is
///   corrected on its own: `π = (q − fpr) / (tpr − fpr)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrevalenceRates {
    /// Folds of the out-of-fold predictions.
    pub folds: usize,
    /// Seed of the folds.
    pub seed: u64,
    /// Training documents.
    pub n_documents: usize,
    /// Training documents of each label, in model order.
    pub positives: Vec<usize>,
    /// The label shares the model's probabilities are calibrated to: the class-weighted training
    /// shares (uniform, or 0.5 per one-vs-rest label, under balanced class weights). EMQ re-weights
    /// probabilities from this prior to the corpus's.
    pub calibration_prior: Vec<f64>,
    /// Classify-and-count rates (see the type's description).
    pub hard: Vec<Vec<f64>>,
    /// Probabilistic rates (see the type's description).
    pub soft: Vec<Vec<f64>>,
}

impl PrevalenceRates {
    /// The rates from out-of-fold probabilities `probs` (n × labels, row-major), the labels each
    /// document's probabilities lead to (`decided`), and its true labels (`truth`, label indices).
    pub fn estimate(
        multi_label: bool,
        probs: &[f64],
        decided: &[Vec<usize>],
        truth: &[Vec<usize>],
        calibration_prior: Vec<f64>,
        folds: usize,
        seed: u64,
    ) -> PrevalenceRates {
        let k = calibration_prior.len();
        let n = truth.len();
        let mut positives = vec![0usize; k];
        for t in truth {
            for &l in t {
                positives[l] += 1;
            }
        }
        let (hard, soft) = if multi_label {
            // [positives, negatives] sums per label.
            let mut hit = vec![[0.0f64; 2]; k];
            let mut mass = vec![[0.0f64; 2]; k];
            for ((p, d), t) in probs.chunks(k).zip(decided).zip(truth) {
                for l in 0..k {
                    let side = if t.contains(&l) { 0 } else { 1 };
                    if d.contains(&l) {
                        hit[l][side] += 1.0;
                    }
                    mass[l][side] += p[l];
                }
            }
            let rate = |sums: &[[f64; 2]]| -> Vec<Vec<f64>> {
                sums.iter()
                    .zip(&positives)
                    .map(|(s, &pos)| {
                        let neg = n - pos;
                        vec![s[0] / pos.max(1) as f64, s[1] / neg.max(1) as f64]
                    })
                    .collect()
            };
            (rate(&hit), rate(&mass))
        } else {
            let mut hard = vec![vec![0.0; k]; k];
            let mut soft = vec![vec![0.0; k]; k];
            for ((p, d), t) in probs.chunks(k).zip(decided).zip(truth) {
                let j = t[0];
                hard[j][d[0]] += 1.0;
                for (s, &pi) in soft[j].iter_mut().zip(p) {
                    *s += pi;
                }
            }
            for (j, &pos) in positives.iter().enumerate() {
                let div = pos.max(1) as f64;
                hard[j].iter_mut().for_each(|x| *x /= div);
                soft[j].iter_mut().for_each(|x| *x /= div);
            }
            (hard, soft)
        };
        PrevalenceRates {
            folds,
            seed,
            n_documents: n,
            positives,
            calibration_prior,
            hard,
            soft,
        }
    }

    /// Check the shapes and ranges scoring-side correction relies on, for `n_labels` labels.
    pub fn validate(&self, n_labels: usize, multi_label: bool) -> std::result::Result<(), String> {
        let width = if multi_label { 2 } else { n_labels };
        if self.positives.len() != n_labels || self.calibration_prior.len() != n_labels {
            return Err(format!(
                "{} positive counts and {} prior shares for {n_labels} labels",
                self.positives.len(),
                self.calibration_prior.len()
            ));
        }
        for (name, m) in [("hard", &self.hard), ("soft", &self.soft)] {
            if m.len() != n_labels || m.iter().any(|r| r.len() != width) {
                return Err(format!("the {name} rates are not {n_labels} × {width}"));
            }
            if m.iter().flatten().any(|x| !(0.0..=1.0).contains(x)) {
                return Err(format!("a {name} rate is outside [0, 1]"));
            }
        }
        if self
            .calibration_prior
            .iter()
            .any(|x| !(x.is_finite() && *x > 0.0 && *x < 1.0 + 1e-9))
        {
            return Err("a calibration prior share is outside (0, 1]".into());
        }
        Ok(())
    }
}
