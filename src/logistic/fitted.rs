//! The fitted linear model: one weight per (term, label) and one bias per label, and the link
//! functions (softmax, sigmoid) that turn its logits into probabilities.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Multinomial (one label per document) or one-vs-rest (any number of labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Softmax over the labels; the prediction is the most probable label.
    Multinomial,
    /// One sigmoid per label; a label is predicted when its probability reaches its threshold.
    OneVsRest,
}

/// A fitted linear model: one weight column and one bias per label.
///
/// With two labels a single-label model is one binary logistic regression, as scikit-learn fits
/// it, stored as two symmetric rows (±w/2, ±b/2) so that every label has its own logit and
/// explanation: the softmax of those two logits is exactly the sigmoid of the binary model.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticModel {
    /// Multinomial or one-vs-rest.
    pub kind: ModelKind,
    /// Number of features (columns of the TF-IDF matrix).
    pub n_features: usize,
    /// Number of labels K.
    pub n_labels: usize,
    /// `weights[j * K + k]` is the weight of feature j for label k (feature-major, so one
    /// document's terms touch contiguous memory).
    pub weights: Vec<f64>,
    /// Bias (intercept) of each label.
    pub bias: Vec<f64>,
}

impl LogisticModel {
    /// The weight of feature `j` for label `k`.
    pub fn weight(&self, j: usize, k: usize) -> f64 {
        self.weights[j * self.n_labels + k]
    }

    /// Logits (softmax inputs, or per-label log-odds in one-vs-rest) of one sparse row.
    /// Features outside the model are ignored.
    pub fn logits(&self, indices: &[u32], values: &[f64]) -> Vec<f64> {
        let k = self.n_labels;
        let mut z = self.bias.clone();
        for (&j, &v) in indices.iter().zip(values) {
            let j = j as usize;
            if j < self.n_features {
                let w = &self.weights[j * k..(j + 1) * k];
                z.iter_mut().zip(w).for_each(|(z, w)| *z += v * w);
            }
        }
        z
    }

    /// Probabilities from logits: softmax for multinomial, per-label sigmoid for one-vs-rest.
    pub fn probabilities_from_logits(&self, z: &[f64]) -> Vec<f64> {
        match self.kind {
            ModelKind::Multinomial => softmax(z),
            ModelKind::OneVsRest => z.iter().map(|&v| sigmoid(v)).collect(),
        }
    }

    /// Probabilities of one sparse row.
    pub fn predict_proba(&self, indices: &[u32], values: &[f64]) -> Vec<f64> {
        self.probabilities_from_logits(&self.logits(indices, values))
    }

    /// Check lengths and finiteness (used when loading a model).
    pub fn validate(&self) -> Result<()> {
        if self.n_labels < 2 && self.kind == ModelKind::Multinomial {
            return Err(Error::inconsistent(format!(
                "a multinomial model needs at least 2 labels, not {}",
                self.n_labels
            )));
        }
        if self.weights.len() != self.n_features * self.n_labels {
            return Err(Error::inconsistent(format!(
                "{} weights, expected n_features × n_labels = {} × {}",
                self.weights.len(),
                self.n_features,
                self.n_labels
            )));
        }
        if self.bias.len() != self.n_labels {
            return Err(Error::inconsistent(format!(
                "{} biases, expected one per label ({})",
                self.bias.len(),
                self.n_labels
            )));
        }
        if let Some(x) = self
            .weights
            .iter()
            .chain(&self.bias)
            .find(|x| !x.is_finite())
        {
            return Err(Error::inconsistent(format!(
                "weight {x}: every weight must be finite"
            )));
        }
        Ok(())
    }
}

/// Numerically stable softmax.
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Numerically stable logistic function.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
pub(super) fn log1pexp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}
