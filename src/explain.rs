//! Explanations: what each term of a document contributed to each label's score.
//!
//! A label's logit is exactly `bias + Σ_j tfidf_j × weight_j` over the document's terms, so the
//! contribution of term j is `tfidf_j × weight_j` and the contributions with the bias add up to the
//! logit (to rounding, checked to 1e-9 in the tests). For a multinomial model the probability is the
//! softmax of the logits; for one-vs-rest it is the sigmoid of the label's own logit.

use serde::{Deserialize, Serialize};

use crate::classify::LogisticModel;

/// One term's part in one label's logit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermContribution {
    /// The term as stored in the vocabulary (lower-cased, n-grams joined by a space).
    pub term: String,
    /// `tfidf × weight`.
    pub contribution: f64,
    /// The term's TF-IDF value in this document.
    pub tfidf: f64,
    /// The model's weight of the term for this label.
    pub weight: f64,
}

/// Why a label got its score in one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelExplanation {
    /// The label.
    pub label: String,
    /// Its probability.
    pub probability: f64,
    /// Its logit: `bias + sum of all contributions` (not only the listed ones).
    pub logit: f64,
    /// The label's bias (intercept).
    pub bias: f64,
    /// The decision threshold, for one-vs-rest models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Terms pushing the score up, largest first.
    pub up: Vec<TermContribution>,
    /// Terms pushing the score down, most negative first.
    pub down: Vec<TermContribution>,
}

/// All contributions of one document's terms to label `k`, in term-id order.
pub fn contributions(
    model: &LogisticModel,
    vocabulary: &[String],
    indices: &[u32],
    values: &[f64],
    k: usize,
) -> Vec<TermContribution> {
    indices
        .iter()
        .zip(values)
        .filter(|(&j, _)| (j as usize) < model.n_features)
        .map(|(&j, &v)| {
            let w = model.weight(j as usize, k);
            TermContribution {
                term: vocabulary[j as usize].clone(),
                contribution: v * w,
                tfidf: v,
                weight: w,
            }
        })
        .collect()
}

/// Explain label `k` for one document: the `top` terms pushing it up and the `top` pushing it
/// down (ties broken by term, so the output is deterministic). `logits` and `probabilities` are
/// the document's, for every label.
#[allow(clippy::too_many_arguments)]
pub fn explain_label(
    model: &LogisticModel,
    vocabulary: &[String],
    labels: &[String],
    indices: &[u32],
    values: &[f64],
    logits: &[f64],
    probabilities: &[f64],
    threshold: Option<f64>,
    k: usize,
    top: usize,
) -> LabelExplanation {
    let all = contributions(model, vocabulary, indices, values, k);
    let (mut up, mut down): (Vec<_>, Vec<_>) = all
        .into_iter()
        .filter(|c| c.contribution != 0.0)
        .partition(|c| c.contribution > 0.0);
    up.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then_with(|| a.term.cmp(&b.term))
    });
    down.sort_by(|a, b| {
        a.contribution
            .total_cmp(&b.contribution)
            .then_with(|| a.term.cmp(&b.term))
    });
    up.truncate(top);
    down.truncate(top);
    LabelExplanation {
        label: labels[k].clone(),
        probability: probabilities[k],
        logit: logits[k],
        bias: model.bias[k],
        threshold,
        up,
        down,
    }
}

/// The `top` terms with the largest (and most negative) weights of label `k` in the whole model.
pub fn top_weights(
    model: &LogisticModel,
    vocabulary: &[String],
    k: usize,
    top: usize,
) -> (Vec<(String, f64)>, Vec<(String, f64)>) {
    let mut ids: Vec<usize> = (0..model.n_features).collect();
    ids.sort_by(|&a, &b| {
        model
            .weight(b, k)
            .total_cmp(&model.weight(a, k))
            .then_with(|| vocabulary[a].cmp(&vocabulary[b]))
    });
    let pick = |it: &mut dyn Iterator<Item = &usize>, positive: bool| {
        it.filter(|&&j| (model.weight(j, k) > 0.0) == positive && model.weight(j, k) != 0.0)
            .take(top)
            .map(|&j| (vocabulary[j].clone(), model.weight(j, k)))
            .collect::<Vec<_>>()
    };
    let up = pick(&mut ids.iter(), true);
    let down = pick(&mut ids.iter().rev(), false);
    (up, down)
}
