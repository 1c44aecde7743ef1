//! Explanations: what each term of a document contributed to each label's score.
//!
//! A label's logit is exactly `bias + Σ_j tfidf_j × weight_j` over the document's terms, so the
//! contribution of term j is `tfidf_j × weight_j` and the contributions with the bias add up to the
//! logit (to rounding, checked to 1e-9 in the tests). For a multinomial model the probability is the
//! softmax of the logits; for one-vs-rest it is the sigmoid of the label's own logit.

use serde::{Deserialize, Serialize};

use crate::logistic::LogisticModel;

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

/// A fitted model with the names of its terms and labels: what an explanation is computed from.
#[derive(Debug, Clone, Copy)]
pub struct Explainer<'a> {
    /// Weights and biases.
    pub model: &'a LogisticModel,
    /// Terms by id.
    pub vocabulary: &'a [String],
    /// Labels in model order.
    pub labels: &'a [String],
}

/// One scored document: its TF-IDF row and what the model made of it, for every label.
#[derive(Debug, Clone, Copy)]
pub struct ScoredRow<'a> {
    /// Term ids of the row.
    pub indices: &'a [u32],
    /// TF-IDF values of the row.
    pub values: &'a [f64],
    /// Logit of every label.
    pub logits: &'a [f64],
    /// Probability of every label.
    pub probabilities: &'a [f64],
}

/// (contribution, term id, tf-idf value) of one term.
type Contribution = (f64, u32, f64);

impl Explainer<'_> {
    /// (contribution, term id, tf-idf value) of each of the row's terms for label `k`, in the
    /// row's (term id) order, unsorted; terms outside the model are skipped.
    fn contributions_by_id<'r>(
        &'r self,
        indices: &'r [u32],
        values: &'r [f64],
        k: usize,
    ) -> impl Iterator<Item = Contribution> + 'r {
        indices
            .iter()
            .zip(values)
            .filter(|(&j, _)| (j as usize) < self.model.n_features)
            .map(move |(&j, &v)| (v * self.model.weight(j as usize, k), j, v))
    }

    fn named(&self, k: usize, (contribution, j, tfidf): Contribution) -> TermContribution {
        TermContribution {
            term: self.vocabulary[j as usize].clone(),
            contribution,
            tfidf,
            weight: self.model.weight(j as usize, k),
        }
    }

    /// All contributions of one row's terms to label `k`, in term-id order: with the bias, they
    /// add up to the label's logit.
    pub fn contributions(
        &self,
        indices: &[u32],
        values: &[f64],
        k: usize,
    ) -> Vec<TermContribution> {
        self.contributions_by_id(indices, values, k)
            .map(|c| self.named(k, c))
            .collect()
    }

    /// Explain label `k` for one document: the `top` terms pushing it up and the `top` pushing
    /// it down (ties broken by term, so the output is deterministic), with the label's
    /// `threshold` (one-vs-rest models) carried along.
    pub fn explain(
        &self,
        row: &ScoredRow<'_>,
        k: usize,
        threshold: Option<f64>,
        top: usize,
    ) -> LabelExplanation {
        // Rank (contribution, term id, tf-idf) first; only the terms shown are copied.
        let (up, down): (Vec<Contribution>, Vec<Contribution>) = self
            .contributions_by_id(row.indices, row.values, k)
            .filter(|c| c.0 != 0.0)
            .partition(|c| c.0 > 0.0);
        let term = |j: u32| self.vocabulary[j as usize].as_str();
        let by_up = |a: &Contribution, b: &Contribution| {
            b.0.total_cmp(&a.0).then_with(|| term(a.1).cmp(term(b.1)))
        };
        let by_down = |a: &Contribution, b: &Contribution| {
            a.0.total_cmp(&b.0).then_with(|| term(a.1).cmp(term(b.1)))
        };
        let finish =
            |mut v: Vec<Contribution>,
             cmp: &dyn Fn(&Contribution, &Contribution) -> std::cmp::Ordering| {
                if v.len() > top && top > 0 {
                    v.select_nth_unstable_by(top - 1, cmp);
                }
                v.truncate(top);
                v.sort_by(cmp);
                v.into_iter().map(|c| self.named(k, c)).collect::<Vec<_>>()
            };
        LabelExplanation {
            label: self.labels[k].clone(),
            probability: row.probabilities[k],
            logit: row.logits[k],
            bias: self.model.bias[k],
            threshold,
            up: finish(up, &by_up),
            down: finish(down, &by_down),
        }
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
