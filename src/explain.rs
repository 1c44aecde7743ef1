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

/// (contribution, term id, tf-idf value) of each of the document's terms for label `k`, in
/// term-id order; features outside the model are skipped.
fn ranked<'a>(
    model: &'a LogisticModel,
    indices: &'a [u32],
    values: &'a [f64],
    k: usize,
) -> impl Iterator<Item = Ranked> + 'a {
    indices
        .iter()
        .zip(values)
        .filter(|(&j, _)| (j as usize) < model.n_features)
        .map(move |(&j, &v)| (v * model.weight(j as usize, k), j, v))
}

fn named(model: &LogisticModel, vocabulary: &[String], k: usize, r: Ranked) -> TermContribution {
    let (contribution, j, tfidf) = r;
    TermContribution {
        term: vocabulary[j as usize].clone(),
        contribution,
        tfidf,
        weight: model.weight(j as usize, k),
    }
}

/// All contributions of one document's terms to label `k`, in term-id order.
pub fn contributions(
    model: &LogisticModel,
    vocabulary: &[String],
    indices: &[u32],
    values: &[f64],
    k: usize,
) -> Vec<TermContribution> {
    ranked(model, indices, values, k)
        .map(|r| named(model, vocabulary, k, r))
        .collect()
}

/// (contribution, term id, tf-idf value) of one term.
type Ranked = (f64, u32, f64);

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
    // Rank (contribution, term id, tf-idf) first; only the terms shown are copied.
    let (up, down): (Vec<Ranked>, Vec<Ranked>) = ranked(model, indices, values, k)
        .filter(|r| r.0 != 0.0)
        .partition(|r| r.0 > 0.0);
    let term = |j: u32| vocabulary[j as usize].as_str();
    let by_up = |a: &Ranked, b: &Ranked| b.0.total_cmp(&a.0).then_with(|| term(a.1).cmp(term(b.1)));
    let by_down =
        |a: &Ranked, b: &Ranked| a.0.total_cmp(&b.0).then_with(|| term(a.1).cmp(term(b.1)));
    let finish = |mut v: Vec<Ranked>, cmp: &dyn Fn(&Ranked, &Ranked) -> std::cmp::Ordering| {
        if v.len() > top && top > 0 {
            v.select_nth_unstable_by(top - 1, cmp);
        }
        v.truncate(top);
        v.sort_by(cmp);
        v.into_iter()
            .map(|r| named(model, vocabulary, k, r))
            .collect::<Vec<_>>()
    };
    let up = finish(up, &by_up);
    let down = finish(down, &by_down);
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

/// A term and its weight.
pub type TermWeight = (String, f64);

/// The `top` terms with the largest (and most negative) weights of label `k` in the whole model.
pub fn top_weights(
    model: &LogisticModel,
    vocabulary: &[String],
    k: usize,
    top: usize,
) -> (Vec<TermWeight>, Vec<TermWeight>) {
    let w = |j: usize| model.weight(j, k);
    let mut up: Vec<usize> = (0..model.n_features).filter(|&j| w(j) > 0.0).collect();
    let mut down: Vec<usize> = (0..model.n_features).filter(|&j| w(j) < 0.0).collect();
    up.sort_by(|&a, &b| {
        w(b).total_cmp(&w(a))
            .then_with(|| vocabulary[a].cmp(&vocabulary[b]))
    });
    down.sort_by(|&a, &b| {
        w(a).total_cmp(&w(b))
            .then_with(|| vocabulary[a].cmp(&vocabulary[b]))
    });
    let named = |ids: Vec<usize>| {
        ids.into_iter()
            .take(top)
            .map(|j| (vocabulary[j].clone(), w(j)))
            .collect()
    };
    (named(up), named(down))
}
