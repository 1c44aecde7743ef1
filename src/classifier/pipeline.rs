//! The fitted pipeline: [`Classifier`] scores and explains documents; [`TrainingSummary`] says
//! what training saw.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use super::params::ClassifierParams;
use super::rates::PrevalenceRates;
use super::thresholds::{LabelThreshold, ThresholdTuning};
use crate::error::{Error, Result};
use crate::explain::{Explainer, LabelExplanation, ScoredRow};
use crate::features::{TfidfVectorizer, VocabularyStats};
use crate::logistic::{LogisticModel, ModelKind, SolverReport};
use crate::sparse::{CsrMatrix, SparseRow};

/// times), so the same data and settings give the same model bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// Training documents.
    pub n_documents: usize,
    /// Documents per label.
    pub label_counts: BTreeMap<String, usize>,
    /// Vocabulary figures.
    pub vocabulary: VocabularyStats,
    /// One report per optimisation (one, or one per label in one-vs-rest).
    pub solver: Vec<SolverReport>,
    /// The framelens version that trained the model.
    pub framelens_version: String,
    /// How the thresholds were chosen (one-vs-rest with tuned or evidence thresholds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_tuning: Option<ThresholdTuning>,
    /// Out-of-fold error rates for prevalence correction; `None` in models trained without them
    /// (0 rate folds, the linfa solver, fewer documents than folds, or before they existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<PrevalenceRates>,
}

impl TrainingSummary {
    /// Whether every optimisation converged.
    pub fn converged(&self) -> bool {
        self.solver.iter().all(|r| r.converged)
    }

    /// The out-of-fold evidence behind `label`'s threshold, when its thresholds were chosen.
    pub fn threshold_evidence(&self, label: &str) -> Option<&LabelThreshold> {
        let tuning = self.threshold_tuning.as_ref()?;
        tuning.labels.iter().find(|x| x.label == label)
    }
}

/// Most labels (and solver problems) the overview lists one by one.
const LISTED: usize = 30;

/// [`Classifier::overview`]: renders the training summary with the model's kind and thresholds,
/// one `key  value` line each (keys padded to 12 columns, no indent of its own).
#[derive(Debug, Clone, Copy)]
pub struct Overview<'a>(&'a Classifier);

impl fmt::Display for Overview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clf = self.0;
        let s = &clf.summary;
        let kind = if clf.is_multi_label() {
            "multi-label: one-vs-rest"
        } else {
            "single-label: multinomial"
        };
        writeln!(f, "documents   {} ({kind})", s.n_documents)?;
        writeln!(f, "labels      {}", clf.labels.len())?;
        // Beyond LISTED labels, the most frequent ones (a thousand lines would bury the rest).
        let mut shown: Vec<usize> = (0..clf.labels.len()).collect();
        if shown.len() > LISTED {
            let count = |k: &usize| s.label_counts.get(&clf.labels[*k]).copied().unwrap_or(0);
            shown.sort_by_key(|k| std::cmp::Reverse(count(k)));
            shown.truncate(LISTED);
            shown.sort_unstable();
        }
        for &k in &shown {
            let label = &clf.labels[k];
            let count = s.label_counts.get(label).copied().unwrap_or(0);
            write!(f, "  {count:>7}  {label}")?;
            let evidence = s.threshold_tuning.as_ref().and_then(|t| t.labels.get(k));
            match (evidence, &clf.thresholds) {
                (Some(t), _) => write!(
                    f,
                    "  threshold {:.3} (out-of-fold F1 {:.3}; {:.3} at 0.5)",
                    t.threshold, t.f1, t.f1_at_half
                )?,
                (None, Some(t)) => write!(f, "  threshold {:.3}", t[k])?,
                (None, None) => {}
            }
            writeln!(f)?;
        }
        if shown.len() < clf.labels.len() {
            writeln!(
                f,
                "  ... and {} more (the {LISTED} most frequent are listed; inspect --format json has all)",
                clf.labels.len() - shown.len()
            )?;
        }
        if let Some(t) = &s.threshold_tuning {
            writeln!(f, "thresholds  {}", t.describe())?;
        }
        writeln!(
            f,
            "vocabulary  {} terms kept of {} seen; {} non-zeros",
            s.vocabulary.n_terms_kept, s.vocabulary.n_terms_seen, s.vocabulary.nnz
        )?;
        if s.solver.len() <= LISTED {
            for r in &s.solver {
                writeln!(f, "solver      {r}")?;
            }
        } else {
            // One line for all, then the problems that did not converge.
            let (lo, hi) = s.solver.iter().fold((usize::MAX, 0), |(lo, hi), r| {
                (lo.min(r.iterations), hi.max(r.iterations))
            });
            let failed: Vec<&SolverReport> = s.solver.iter().filter(|r| !r.converged).collect();
            writeln!(
                f,
                "solver      {} problems, {} converged, {lo}-{hi} iterations",
                s.solver.len(),
                s.solver.len() - failed.len()
            )?;
            for r in failed.iter().take(LISTED) {
                writeln!(f, "solver      {r}")?;
            }
        }
        match &s.rates {
            Some(r) => {
                // Out-of-fold recall of each label under the model's own decisions; beyond
                // LISTED labels, the lowest ones and the mean.
                let hit = |k: usize| {
                    if clf.is_multi_label() {
                        r.hard[k][0]
                    } else {
                        r.hard[k][k]
                    }
                };
                let mut shown: Vec<usize> = (0..clf.labels.len()).collect();
                let mut lead = String::new();
                if shown.len() > LISTED {
                    shown.sort_by(|&a, &b| hit(a).total_cmp(&hit(b)).then(a.cmp(&b)));
                    shown.truncate(10);
                    let mean =
                        (0..clf.labels.len()).map(hit).sum::<f64>() / clf.labels.len() as f64;
                    lead = format!("mean {mean:.2}; lowest ");
                }
                let recall: Vec<String> = shown
                    .iter()
                    .map(|&k| format!("{} {:.2}", clf.labels[k], hit(k)))
                    .collect();
                writeln!(
                    f,
                    "rates       error rates from {}-fold out-of-fold predictions (for analyze); recall {lead}{}",
                    r.folds,
                    recall.join(", ")
                )?;
            }
            None => writeln!(
                f,
                "rates       none stored: analyze cannot correct with ACC or PACC"
            )?,
        }
        Ok(())
    }
}

/// One stretch of a document's text (a word, as byte offsets) and its share of a label's logit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Highlight {
    /// Start byte in the text.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// Its share of the contributions (tf-idf × weight) of the terms it is part of.
    pub contribution: f64,
}

/// A trained classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// The training settings (the analyzer and TF-IDF settings also live in the vectorizer).
    pub params: ClassifierParams,
    /// Vocabulary, idf and analyzer.
    pub vectorizer: TfidfVectorizer,
    /// Weights and biases.
    pub model: LogisticModel,
    /// Label names, in model order.
    pub labels: Vec<String>,
    /// Per-label decision thresholds (one-vs-rest only).
    pub thresholds: Option<Vec<f64>>,
    /// What training saw.
    pub summary: TrainingSummary,
}

/// Wall-clock time of each training stage, in seconds (not saved in the model).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimes {
    pub vectorize_s: f64,
    pub fit_s: f64,
    /// Threshold tuning (the fold fits), 0 when thresholds are fixed.
    pub tune_s: f64,
    /// The error rates and calibration from the out-of-fold predictions (their refits count in
    /// `fit_s`), 0 without rates.
    pub rates_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The document's id.
    pub id: String,
    /// Predicted labels: the most probable one (multinomial), or those whose probability reaches
    /// their threshold (one-vs-rest); when none does, the most probable one, or nothing if the
    /// model was trained with `allow_empty`.
    pub labels: Vec<String>,
    /// Probability of every label, in model order.
    pub probabilities: Vec<(String, f64)>,
    /// For each predicted label, the terms that drove its score.
    pub explanation: Vec<LabelExplanation>,
    /// How many of the document's terms are in the vocabulary.
    pub known_terms: usize,
    /// True when no term of the document is in the vocabulary: the probabilities then come from
    /// the biases alone.
    pub no_known_terms: bool,
}

impl Classifier {
    /// Check that the parts fit together (used after loading).
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        let fail = |what: &str| Err(Error::inconsistent(what));
        if self.model.n_features != self.vectorizer.n_features() {
            return fail("weights and vocabulary differ in size");
        }
        if self.model.n_labels != self.labels.len() {
            return fail("weights and labels differ in number");
        }
        if self.labels.is_empty() {
            return fail("the model has no label");
        }
        if self.labels.iter().any(|l| l.is_empty()) {
            return fail("a label is empty");
        }
        let mut seen = std::collections::HashSet::new();
        if !self.labels.iter().all(|l| seen.insert(l)) {
            return fail("labels are not unique");
        }
        // Every score must stay finite: a logit is the bias plus Σ tf-idf × weight, and a tf-idf
        // value is at most tf × idf. With |bias| and every |weight| × idf at most SCORE_BOUND, a
        // document would need about 10^150 terms to overflow.
        const SCORE_BOUND: f64 = 1e150;
        if let Some(b) = self.model.bias.iter().find(|b| b.abs() > SCORE_BOUND) {
            return Err(Error::inconsistent(format!(
                "bias {b:e} is beyond ±{SCORE_BOUND:e}: scores would not be finite"
            )));
        }
        let idf = self.vectorizer.idf();
        for (j, idf_j) in idf.iter().enumerate() {
            for k in 0..self.model.n_labels {
                let w = self.model.weight(j, k);
                if (w * idf_j).abs() > SCORE_BOUND {
                    return Err(Error::inconsistent(format!(
                        "weight {w:e} × idf {idf_j:e} of term {:?} is beyond ±{SCORE_BOUND:e}: scores would not be finite",
                        self.vectorizer.vocabulary()[j]
                    )));
                }
            }
        }
        match (&self.thresholds, self.model.kind) {
            (Some(t), ModelKind::OneVsRest) if t.len() == self.labels.len() => {
                if t.iter().any(|x| !(x.is_finite() && *x > 0.0 && *x < 1.0)) {
                    return fail("thresholds must be in (0, 1)");
                }
            }
            (None, ModelKind::Multinomial) => {}
            _ => return fail("thresholds do not match the model kind"),
        }
        if let Some(rates) = &self.summary.rates {
            rates
                .validate(self.labels.len(), self.is_multi_label())
                .map_err(|e| Error::inconsistent(format!("prevalence rates: {e}")))?;
        }
        Ok(())
    }

    /// The probability of every label (model order) and the predicted label indices of one text,
    /// without explanations: what prevalence analysis counts.
    pub fn probabilities_and_labels(&self, text: &str) -> (Vec<f64>, Vec<usize>) {
        let row = self.vectorizer.transform(text);
        let probs = self.model.predict_proba(&row.indices, &row.values);
        let labels = self.decide(&probs);
        (probs, labels)
    }

    /// Whether the model is one-vs-rest (multi-label).
    pub fn is_multi_label(&self) -> bool {
        self.model.kind == ModelKind::OneVsRest
    }

    /// What training saw and made, as text: the block `framelens train` prints and `inspect`
    /// repeats under "training".
    pub fn overview(&self) -> Overview<'_> {
        Overview(self)
    }

    /// Per word of `text`, its share of what the terms contributed to label `k`'s logit, for
    /// highlighting the text. A term's contribution (tf-idf × weight) is split equally among its
    /// occurrences, and each occurrence's share equally among the words it spans (a bigram gives
    /// half to each of its two words; a char_wb n-gram all to its word). The shares add up to
    /// the sum of the contributions, `logit − bias`, when every term of the document is found
    /// word by word ([`crate::text::Analyzer::token_spans`]).
    pub fn highlight(&self, text: &str, k: usize) -> Vec<Highlight> {
        let row = self.vectorizer.transform(text);
        self.highlights(text, &row, &[k]).remove(0)
    }

    /// The explanation of label `k` for a document's `row`, whether or not it is predicted.
    pub fn explain_row(&self, row: &SparseRow, k: usize, top_terms: usize) -> LabelExplanation {
        let logits = self.model.logits(&row.indices, &row.values);
        let probs = self.model.probabilities_from_logits(&logits);
        let scored = ScoredRow {
            indices: &row.indices,
            values: &row.values,
            logits: &logits,
            probabilities: &probs,
        };
        let threshold = self.thresholds.as_ref().map(|t| t[k]);
        self.explainer().explain(&scored, k, threshold, top_terms)
    }

    /// [`Classifier::highlight`] for each label of `ks`, from the document's `row` (as
    /// [`Classifier::predict_with_row`] gives it): the text is analysed once for all of them.
    pub fn highlights(&self, text: &str, row: &SparseRow, ks: &[usize]) -> Vec<Vec<Highlight>> {
        let analyzer = self.vectorizer.analyzer();
        let spans = analyzer.token_spans(text);
        let tokens: Vec<String> = spans.iter().map(|(_, t)| t.clone()).collect();
        // Every known term occurrence once: (term id, first token, end token). The document's
        // known terms are exactly its row's, so they are looked up in a small map of those (the
        // whole vocabulary's index is far larger and slower to probe).
        let vocabulary = self.vectorizer.vocabulary();
        let known: rustc_hash::FxHashMap<&str, u32> = row
            .indices
            .iter()
            .map(|&j| (vocabulary[j as usize].as_str(), j))
            .collect();
        let mut found: Vec<(u32, usize, usize)> = Vec::new();
        analyzer.for_each_term_of_tokens(&tokens, |term, first, end| {
            if let Some(&j) = known.get(term) {
                found.push((j, first, end));
            }
        });
        let mut occurrences: std::collections::HashMap<u32, u32> = Default::default();
        for &(j, _, _) in &found {
            *occurrences.entry(j).or_insert(0) += 1;
        }
        let value: rustc_hash::FxHashMap<u32, f64> = row
            .indices
            .iter()
            .copied()
            .zip(row.values.iter().copied())
            .collect();
        ks.iter()
            .map(|&k| {
                let mut share = vec![0.0; tokens.len()];
                for &(j, first, end) in &found {
                    let (Some(v), Some(n)) = (value.get(&j), occurrences.get(&j)) else {
                        continue;
                    };
                    let c = v * self.model.weight(j as usize, k);
                    let each = c / f64::from(*n) / (end - first) as f64;
                    for s in &mut share[first..end] {
                        *s += each;
                    }
                }
                // Tokens of one word segment (a word the tokeniser splits) make one highlight.
                let mut out: Vec<Highlight> = Vec::new();
                for ((range, _), s) in spans.iter().zip(share) {
                    match out.last_mut() {
                        Some(h) if h.start == range.start => h.contribution += s,
                        _ => out.push(Highlight {
                            start: range.start,
                            end: range.end,
                            contribution: s,
                        }),
                    }
                }
                out
            })
            .collect()
    }

    /// The model with the names of its terms and labels, to explain scores with.
    pub fn explainer(&self) -> Explainer<'_> {
        Explainer {
            model: &self.model,
            vocabulary: self.vectorizer.vocabulary(),
            labels: &self.labels,
        }
    }

    /// Score and explain one document, listing `top_terms` terms each way per predicted label.
    pub fn predict(&self, id: &str, text: &str, top_terms: usize) -> Prediction {
        self.predict_explaining(id, text, top_terms, &[])
    }

    /// [`Classifier::predict`], with the labels `also` (indices) explained after the predicted
    /// ones even when they are not predicted: why a document missed a label.
    pub fn predict_explaining(
        &self,
        id: &str,
        text: &str,
        top_terms: usize,
        also: &[usize],
    ) -> Prediction {
        self.predict_with_row(id, text, top_terms, also).0
    }

    /// [`Classifier::predict_explaining`], with the document's TF-IDF row (for
    /// [`Classifier::highlights`], which then need not compute it again).
    pub fn predict_with_row(
        &self,
        id: &str,
        text: &str,
        top_terms: usize,
        also: &[usize],
    ) -> (Prediction, SparseRow) {
        let row = self.vectorizer.transform(text);
        let logits = self.model.logits(&row.indices, &row.values);
        let probs = self.model.probabilities_from_logits(&logits);
        let predicted = self.decide(&probs);
        let scored = ScoredRow {
            indices: &row.indices,
            values: &row.values,
            logits: &logits,
            probabilities: &probs,
        };
        let explainer = self.explainer();
        let extra = also
            .iter()
            .filter(|k| **k < self.labels.len() && !predicted.contains(k));
        let explanation = predicted
            .iter()
            .chain(extra)
            .map(|&k| {
                let threshold = self.thresholds.as_ref().map(|t| t[k]);
                explainer.explain(&scored, k, threshold, top_terms)
            })
            .collect();
        let prediction = Prediction {
            id: id.to_string(),
            labels: predicted.iter().map(|&k| self.labels[k].clone()).collect(),
            probabilities: self.labels.iter().cloned().zip(probs).collect(),
            explanation,
            known_terms: row.nnz(),
            no_known_terms: row.nnz() == 0,
        };
        (prediction, row)
    }

    /// Predicted label indices from probabilities.
    pub(super) fn decide(&self, probs: &[f64]) -> Vec<usize> {
        let best = argmax(probs);
        match &self.thresholds {
            None => vec![best],
            Some(t) => {
                let passing: Vec<usize> = (0..probs.len()).filter(|&k| probs[k] >= t[k]).collect();
                if passing.is_empty() && !self.params.allow_empty {
                    vec![best]
                } else {
                    passing
                }
            }
        }
    }

    /// Probabilities of every label (model order) for many documents, in parallel, in input order.
    pub fn predict_proba_many<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<f64>> {
        texts
            .par_iter()
            .map(|t| {
                let row = self.vectorizer.transform(t.as_ref());
                self.model.predict_proba(&row.indices, &row.values)
            })
            .collect()
    }

    /// Probabilities of every label (model order) for TF-IDF rows under this model's
    /// vocabulary, in parallel, in input order.
    pub(super) fn probabilities_of_rows(&self, rows: &[SparseRow]) -> Vec<Vec<f64>> {
        rows.par_iter()
            .map(|row| self.model.predict_proba(&row.indices, &row.values))
            .collect()
    }

    /// Predicted labels of many documents (no explanations), in parallel, in input order.
    pub fn predict_labels<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<String>> {
        texts
            .par_iter()
            .map(|t| {
                let row = self.vectorizer.transform(t.as_ref());
                let probs = self.model.predict_proba(&row.indices, &row.values);
                self.decide(&probs)
                    .into_iter()
                    .map(|k| self.labels[k].clone())
                    .collect()
            })
            .collect()
    }

    /// The TF-IDF matrix of many documents under this model's vocabulary.
    pub fn transform(&self, texts: &[&str]) -> CsrMatrix {
        self.vectorizer.transform_many(texts)
    }
}

pub(super) fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}
