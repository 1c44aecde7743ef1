//! The whole pipeline as one fitted value: [`ClassifierParams::fit`] turns labelled documents into
//! a [`Classifier`] (vectorizer + logistic model + labels + thresholds + training summary), which
//! scores and explains new documents. Saving and loading are in [`crate::model`].
//!
//! Multi-label (one-vs-rest) models decide each label with its own threshold. By default the
//! thresholds are tuned: k-fold cross-validation on the training data gives every training document
//! an out-of-fold probability per label, and each label gets the threshold that maximises its F1 on
//! those probabilities ([`best_f1_threshold`]). [`ClassifierParams::cross_validate`] runs the whole
//! pipeline (vocabulary, idf, weights and thresholds) inside each fold, so nothing leaks from the
//! held-out documents.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::classify::{
    ClassWeight, LogisticModel, LogisticParams, ModelKind, Solver, SolverReport, TrainingMatrix,
};
use crate::error::{Error, Result};
use crate::eval::{self, CvSummary, Report};
use crate::explain::{explain_label, LabelExplanation};
use crate::features::{CsrMatrix, TfidfParams, TfidfVectorizer, VocabularyStats};
use crate::Document;

/// Single-label or multi-label training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LabelMode {
    /// Multi-label (one-vs-rest) when any training document has more than one label, else
    /// single-label (multinomial). The default.
    #[default]
    Auto,
    /// One label per document: documents with several labels are an error.
    Single,
    /// One-vs-rest, whatever the data.
    Multi,
}

/// How the decision thresholds of a one-vs-rest model are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// The same threshold for every label: [`ClassifierParams::threshold`]. The default: with
    /// balanced per-label class weights, 0.5 did as well as tuning or better on real data (gvfc)
    /// and costs no extra fits (NOTES-multilabel.md).
    #[default]
    Fixed,
    /// Per label, the threshold that maximises the label's F1 on out-of-fold probabilities of the
    /// training data (see [`ClassifierParams::threshold_folds`] and [`tune_on_probabilities`]).
    Tuned,
}

impl std::str::FromStr for ThresholdMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "tuned" => Ok(ThresholdMode::Tuned),
            "fixed" => Ok(ThresholdMode::Fixed),
            _ => Err(Error::param("thresholds", s, "expected `tuned` or `fixed`")),
        }
    }
}

/// Tuned thresholds are kept inside this range: the best midpoint is searched within it, and the
/// bounds themselves are candidates. Out-of-fold probabilities of a label with a handful of
/// positives can make a threshold of 0.01 or 0.99 look best on a few documents; such a threshold
/// fires on nearly everything or nothing on new text. 0.05 and 0.95 are one-in-twenty odds either
/// way, far outside what real labels need: the tuned thresholds of gvfc lie in 0.39–0.77 and those
/// of the demo corpus in 0.28–0.40, none at a bound.
pub const TUNED_THRESHOLD_RANGE: (f64, f64) = (0.05, 0.95);

/// Everything that defines how a classifier is trained.
///
/// The fields added with threshold tuning read what models trained before them did from files that
/// lack them (fixed thresholds, `logistic.class_weight` for one-vs-rest too, no empty
/// predictions), so an old model still describes how it was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierParams {
    /// Text to TF-IDF rows.
    pub tfidf: TfidfParams,
    /// The logistic regression. Its `class_weight` applies to multinomial models, and to
    /// one-vs-rest models unless [`Self::one_vs_rest_class_weight`] says otherwise.
    pub logistic: LogisticParams,
    /// Single- or multi-label.
    pub label_mode: LabelMode,
    /// The fixed decision threshold of every label (with [`ThresholdMode::Fixed`]). Default 0.5.
    pub threshold: Option<f64>,
    /// Fixed (default) or tuned one-vs-rest thresholds.
    #[serde(default)]
    pub threshold_mode: ThresholdMode,
    /// Cross-validation folds used to tune thresholds. Default 5.
    #[serde(default = "default_threshold_folds")]
    pub threshold_folds: usize,
    /// Seed of the threshold-tuning folds, so the same data and settings give the same model.
    /// Default 0.
    #[serde(default)]
    pub threshold_seed: u64,
    /// Class weighting of one-vs-rest models; `None` uses `logistic.class_weight`. Default
    /// `Some(Balanced)`: each label weighs its positives against its negatives, which lifted
    /// gvfc's macro-F1 from 0.654 to 0.703 in cross-validation (NOTES-multilabel.md). Since
    /// `logistic.class_weight` defaults to balanced too, this only matters for models saved
    /// before that default changed.
    #[serde(default)]
    pub one_vs_rest_class_weight: Option<ClassWeight>,
    /// Let a one-vs-rest prediction be empty when no label reaches its threshold. Default false:
    /// such a document gets its most probable label.
    #[serde(default)]
    pub allow_empty: bool,
}

fn default_threshold_folds() -> usize {
    5
}

impl Default for ClassifierParams {
    fn default() -> Self {
        ClassifierParams {
            tfidf: TfidfParams::default(),
            logistic: LogisticParams::default(),
            label_mode: LabelMode::Auto,
            threshold: None,
            threshold_mode: ThresholdMode::Fixed,
            threshold_folds: default_threshold_folds(),
            threshold_seed: 0,
            one_vs_rest_class_weight: Some(ClassWeight::Balanced),
            allow_empty: false,
        }
    }
}

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

/// What training saw and did: saved in the model, shown by `inspect`. Deterministic (no clock
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
    /// How the thresholds were tuned (one-vs-rest with tuned thresholds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_tuning: Option<ThresholdTuning>,
}

impl TrainingSummary {
    /// Whether every optimisation converged.
    pub fn converged(&self) -> bool {
        self.solver.iter().all(|r| r.converged)
    }
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
}

/// Cross-validation of a whole training pipeline: see [`ClassifierParams::cross_validate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossValidation {
    /// Whether the folds trained one-vs-rest (multi-label) models.
    pub multi_label: bool,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// The fold (0..k) of every document, in input order.
    #[serde(skip)]
    pub folds: Vec<usize>,
    /// Held-out documents per fold.
    pub fold_sizes: Vec<usize>,
    /// The test report of each fold, in fold order.
    #[serde(skip)]
    pub reports: Vec<Report>,
    /// Mean, standard deviation and per-fold values of every metric.
    pub summary: CvSummary,
}

impl ClassifierParams {
    /// Check the parameters that need no data.
    pub fn validate(&self) -> Result<()> {
        self.tfidf.validate()?;
        self.logistic.validate()?;
        let threshold = self.threshold.unwrap_or(0.5);
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(Error::param("threshold", threshold, "must be in (0, 1)"));
        }
        if self.threshold_mode == ThresholdMode::Tuned && self.threshold_folds < 2 {
            return Err(Error::param(
                "threshold_folds",
                self.threshold_folds,
                "threshold tuning needs at least 2 folds",
            ));
        }
        Ok(())
    }

    /// The logistic-regression settings a model of this kind is trained with.
    pub fn logistic_for(&self, kind: ModelKind) -> LogisticParams {
        match (kind, self.one_vs_rest_class_weight) {
            (ModelKind::OneVsRest, Some(w)) => LogisticParams {
                class_weight: w,
                ..self.logistic.clone()
            },
            _ => self.logistic.clone(),
        }
    }

    /// The model kind these settings train on these documents.
    fn kind_for(&self, docs: &[&Document]) -> Result<ModelKind> {
        let multi = docs.iter().find(|d| d.labels.len() > 1);
        match (self.label_mode, multi) {
            (LabelMode::Multi, _) | (LabelMode::Auto, Some(_)) => Ok(ModelKind::OneVsRest),
            (LabelMode::Auto, None) | (LabelMode::Single, None) => Ok(ModelKind::Multinomial),
            (LabelMode::Single, Some(d)) => Err(Error::param(
                "labels",
                &d.id,
                format!(
                    "document has {} labels but single-label training was asked for; drop --single-label to train one-vs-rest",
                    d.labels.len()
                ),
            )),
        }
    }

    /// Train on labelled documents. Every document must carry at least one label.
    pub fn fit(&self, docs: &[Document]) -> Result<(Classifier, StageTimes)> {
        let refs: Vec<&Document> = docs.iter().collect();
        self.fit_refs(&refs, None)
    }

    /// As [`ClassifierParams::fit`], but the texts are freed as soon as they are vectorized, so
    /// the solver does not run beside a copy of the corpus (tuned thresholds refit on the texts,
    /// so they keep them).
    pub fn fit_owned(&self, mut docs: Vec<Document>) -> Result<(Classifier, StageTimes)> {
        if self.threshold_mode == ThresholdMode::Tuned {
            return self.fit(&docs);
        }
        let texts: Vec<String> = docs
            .iter_mut()
            .map(|d| std::mem::take(&mut d.text))
            .collect();
        let refs: Vec<&Document> = docs.iter().collect();
        self.fit_refs(&refs, Some(texts))
    }

    /// `texts`, when given, replaces the documents' own texts (which are then empty).
    fn fit_refs(
        &self,
        docs: &[&Document],
        texts: Option<Vec<String>>,
    ) -> Result<(Classifier, StageTimes)> {
        let mut times = StageTimes::default();
        self.validate()?;
        if docs.is_empty() {
            return Err(Error::param("documents", 0, "no training documents"));
        }
        if let Some(d) = docs.iter().find(|d| d.labels.is_empty()) {
            return Err(Error::param(
                "labels",
                &d.id,
                "every training document needs a label",
            ));
        }
        let mut label_counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in docs {
            for l in &d.labels {
                *label_counts.entry(l.clone()).or_insert(0) += 1;
            }
        }
        let labels: Vec<String> = label_counts.keys().cloned().collect();
        if labels.len() < 2 {
            return Err(Error::TooFewLabels {
                found: labels.len(),
                labels,
            });
        }
        let kind = self.kind_for(docs)?;
        let logistic = self.logistic_for(kind);

        let t0 = std::time::Instant::now();
        // The L-BFGS solver reads the matrix term by term (`Columns`): the vectorizer writes it so
        // directly.
        let borrowed = || docs.iter().map(|d| d.text.as_str()).collect::<Vec<&str>>();
        let (vectorizer, x, vocab_stats): (_, TrainingMatrix, _) = match (texts, logistic.solver) {
            (Some(owned), Solver::Lbfgs) => {
                let (v, xt, s) = self.tfidf.fit_columns_owned(owned)?;
                (v, TrainingMatrix::Columns(xt), s)
            }
            (None, Solver::Lbfgs) => {
                let (v, xt, s) = self.tfidf.fit_columns(&borrowed())?;
                (v, TrainingMatrix::Columns(xt), s)
            }
            (Some(owned), Solver::Linfa) => {
                let (v, x, s) = self.tfidf.fit_transform_owned(owned)?;
                (v, x.into(), s)
            }
            (None, Solver::Linfa) => {
                let (v, x, s) = self.tfidf.fit_transform(&borrowed())?;
                (v, x.into(), s)
            }
        };
        times.vectorize_s = t0.elapsed().as_secs_f64();

        let t1 = std::time::Instant::now();
        let index: BTreeMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let (model, reports) = match kind {
            ModelKind::Multinomial => {
                let y: Vec<usize> = docs.iter().map(|d| index[d.labels[0].as_str()]).collect();
                logistic.fit_multiclass(x, &y, labels.len())?
            }
            ModelKind::OneVsRest => {
                let y: Vec<Vec<usize>> = docs
                    .iter()
                    .map(|d| d.labels.iter().map(|l| index[l.as_str()]).collect())
                    .collect();
                logistic.fit_one_vs_rest(x, &y, &labels)?
            }
        };
        times.fit_s = t1.elapsed().as_secs_f64();

        let t2 = std::time::Instant::now();
        let (thresholds, threshold_tuning) = match (kind, self.threshold_mode) {
            (ModelKind::Multinomial, _) => (None, None),
            (ModelKind::OneVsRest, ThresholdMode::Fixed) => (
                Some(vec![self.threshold.unwrap_or(0.5); labels.len()]),
                None,
            ),
            (ModelKind::OneVsRest, ThresholdMode::Tuned) => {
                let tuning = self.tune_thresholds(docs, &labels)?;
                let t = tuning.labels.iter().map(|l| l.threshold).collect();
                (Some(t), Some(tuning))
            }
        };
        times.tune_s = t2.elapsed().as_secs_f64();
        let summary = TrainingSummary {
            n_documents: docs.len(),
            label_counts,
            vocabulary: vocab_stats,
            solver: reports,
            framelens_version: env!("CARGO_PKG_VERSION").to_string(),
            threshold_tuning,
        };
        Ok((
            Classifier {
                params: self.clone(),
                vectorizer,
                model,
                labels,
                thresholds,
                summary,
            },
            times,
        ))
    }

    /// Per-label thresholds from out-of-fold probabilities: the documents are split into
    /// `threshold_folds` stratified folds; the whole pipeline (vocabulary, idf, one-vs-rest
    /// weights, with these settings and fixed thresholds) is trained on all folds but one and
    /// scores the one left out, in parallel; every label then gets the threshold maximising its F1
    /// over all documents' out-of-fold probabilities.
    fn tune_thresholds(&self, docs: &[&Document], labels: &[String]) -> Result<ThresholdTuning> {
        let k = self.threshold_folds;
        let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
        let folds = eval::stratified_folds(&truth, k, self.threshold_seed).map_err(|e| {
            Error::param(
                "threshold_folds",
                k,
                format!("{e}; use fewer threshold folds or fixed thresholds"),
            )
        })?;
        let inner = ClassifierParams {
            label_mode: LabelMode::Multi,
            threshold_mode: ThresholdMode::Fixed,
            ..self.clone()
        };
        let per_fold: Vec<Vec<(usize, Vec<f64>)>> = (0..k)
            .into_par_iter()
            .map(|f| {
                let (train, held): (Vec<usize>, Vec<usize>) =
                    (0..docs.len()).partition(|&i| folds[i] != f);
                let train_docs: Vec<&Document> = train.iter().map(|&i| docs[i]).collect();
                let (clf, _) = inner.fit_refs(&train_docs, None).map_err(|e| {
                    Error::param(
                        "threshold_folds",
                        k,
                        format!(
                            "tuning thresholds, fold {} of {k} ({} training documents): {e}; use fewer threshold folds or fixed thresholds",
                            f + 1,
                            train_docs.len()
                        ),
                    )
                })?;
                // A label missing from this training fold cannot be predicted: probability 0.
                let columns: Vec<Option<usize>> = labels
                    .iter()
                    .map(|l| clf.labels.iter().position(|m| m == l))
                    .collect();
                let texts: Vec<&str> = held.iter().map(|&i| docs[i].text.as_str()).collect();
                let probs = clf.predict_proba_many(&texts);
                Ok(held
                    .into_iter()
                    .zip(probs)
                    .map(|(i, p)| (i, columns.iter().map(|c| c.map_or(0.0, |c| p[c])).collect()))
                    .collect())
            })
            .collect::<Result<_>>()?;
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

    /// Stratified k-fold cross-validation of these settings: the documents are assigned to `k`
    /// folds ([`eval::stratified_folds`]: stratified by label, iterative stratification for
    /// multi-label data) with `seed`; for each fold a classifier is trained from scratch on the
    /// other folds (vocabulary, idf, weights and, for one-vs-rest, thresholds tuned on those folds
    /// alone) and evaluated on it. Folds run in parallel; the result depends only on the data, the
    /// settings and the seed.
    ///
    /// The model kind is decided once on all documents (with [`LabelMode::Auto`], multi-label when
    /// any document has several labels), so every fold trains the same kind.
    pub fn cross_validate(
        &self,
        docs: &[Document],
        k: usize,
        seed: u64,
    ) -> Result<CrossValidation> {
        self.validate()?;
        let refs: Vec<&Document> = docs.iter().collect();
        let kind = self.kind_for(&refs)?;
        let params = ClassifierParams {
            label_mode: match kind {
                ModelKind::OneVsRest => LabelMode::Multi,
                ModelKind::Multinomial => LabelMode::Single,
            },
            ..self.clone()
        };
        let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
        let folds = eval::stratified_folds(&truth, k, seed)?;
        let reports: Vec<Report> = (0..k)
            .into_par_iter()
            .map(|f| {
                let (train, held): (Vec<usize>, Vec<usize>) =
                    (0..docs.len()).partition(|&i| folds[i] != f);
                let train_docs: Vec<&Document> = train.iter().map(|&i| &docs[i]).collect();
                let (clf, _) = params.fit_refs(&train_docs, None).map_err(|e| {
                    Error::param(
                        "folds",
                        k,
                        format!(
                            "cross-validation fold {} of {k} ({} training documents): {e}",
                            f + 1,
                            train_docs.len()
                        ),
                    )
                })?;
                let texts: Vec<&str> = held.iter().map(|&i| docs[i].text.as_str()).collect();
                let predicted = clf.predict_labels(&texts);
                let gold: Vec<Vec<String>> = held.iter().map(|&i| truth[i].clone()).collect();
                eval::evaluate(&clf.labels, &gold, &predicted, clf.is_multi_label())
            })
            .collect::<Result<_>>()?;
        let mut fold_sizes = vec![0; k];
        for &f in &folds {
            fold_sizes[f] += 1;
        }
        Ok(CrossValidation {
            multi_label: kind == ModelKind::OneVsRest,
            seed,
            summary: eval::summarize_folds(&reports),
            folds,
            fold_sizes,
            reports,
        })
    }
}

/// Rounds of [`tune_on_probabilities`] at most (its documentation says 10); in practice it settles
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
        .map(|(t, e)| f1_ratio(t, e))
        .collect()
}

fn f1_ratio(tp: usize, errors: usize) -> f64 {
    if tp == 0 {
        0.0
    } else {
        2.0 * tp as f64 / (2 * tp + errors) as f64
    }
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
    (
        t,
        if num == 0 {
            0.0
        } else {
            num as f64 / den as f64
        },
    )
}

/// How a document was scored.
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
        let fail = |what: &str| {
            Err(Error::param(
                "model",
                what.to_string(),
                "inconsistent model",
            ))
        };
        if self.model.n_features != self.vectorizer.n_features() {
            return fail("weights and vocabulary differ in size");
        }
        if self.model.n_labels != self.labels.len() {
            return fail("weights and labels differ in number");
        }
        let mut seen = std::collections::HashSet::new();
        if !self.labels.iter().all(|l| seen.insert(l)) {
            return fail("labels are not unique");
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
        Ok(())
    }

    /// Whether the model is one-vs-rest (multi-label).
    pub fn is_multi_label(&self) -> bool {
        self.model.kind == ModelKind::OneVsRest
    }

    /// Score and explain one document, listing `top_terms` terms each way per predicted label.
    pub fn predict(&self, id: &str, text: &str, top_terms: usize) -> Prediction {
        let row = self.vectorizer.transform(text);
        let logits = self.model.logits(&row.indices, &row.values);
        let probs = self.model.probabilities_from_logits(&logits);
        let predicted = self.decide(&probs);
        let explanation = predicted
            .iter()
            .map(|&k| {
                explain_label(
                    &self.model,
                    self.vectorizer.vocabulary(),
                    &self.labels,
                    &row.indices,
                    &row.values,
                    &logits,
                    &probs,
                    self.thresholds.as_ref().map(|t| t[k]),
                    k,
                    top_terms,
                )
            })
            .collect();
        Prediction {
            id: id.to_string(),
            labels: predicted.iter().map(|&k| self.labels[k].clone()).collect(),
            probabilities: self.labels.iter().cloned().zip(probs).collect(),
            explanation,
            known_terms: row.nnz(),
            no_known_terms: row.nnz() == 0,
        }
    }

    /// Predicted label indices from probabilities.
    fn decide(&self, probs: &[f64]) -> Vec<usize> {
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

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::DfLimit;

    fn doc(id: &str, text: &str, labels: &[&str]) -> Document {
        Document {
            id: id.into(),
            text: text.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn small_corpus() -> Vec<Document> {
        let mut docs = Vec::new();
        for i in 0..20 {
            docs.push(doc(
                &format!("s{i}"),
                &format!("missile strike on the border base {i} troops drone"),
                &["security"],
            ));
            docs.push(doc(
                &format!("d{i}"),
                &format!("foreign minister talks summit envoy {i} delegation"),
                &["diplomacy"],
            ));
            docs.push(doc(
                &format!("e{i}"),
                &format!("oil exports inflation sanctions currency {i} trade"),
                &["economy"],
            ));
        }
        docs
    }

    #[test]
    fn contributions_add_up_to_the_logit_exactly() {
        let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
        let text = "The envoy spoke of sanctions after a drone strike; the summit talks went on.";
        let row = clf.vectorizer.transform(text);
        let logits = clf.model.logits(&row.indices, &row.values);
        for (k, &logit) in logits.iter().enumerate() {
            let all = crate::explain::contributions(
                &clf.model,
                clf.vectorizer.vocabulary(),
                &row.indices,
                &row.values,
                k,
            );
            let sum: f64 = clf.model.bias[k] + all.iter().map(|c| c.contribution).sum::<f64>();
            assert!((sum - logit).abs() < 1e-9, "label {k}: {sum} vs {logit}");
        }
        let p = clf.predict("x", text, 3);
        for e in &p.explanation {
            assert!(e.up.len() <= 3 && e.down.len() <= 3);
            assert!(e
                .up
                .windows(2)
                .all(|w| w[0].contribution >= w[1].contribution));
        }
    }

    #[test]
    fn predicts_the_right_frame_and_explains_with_its_words() {
        let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
        let p = clf.predict("x", "A drone and a missile hit the border.", 5);
        assert_eq!(p.labels, ["security"]);
        let terms: Vec<&str> = p.explanation[0]
            .up
            .iter()
            .map(|c| c.term.as_str())
            .collect();
        assert!(
            terms.contains(&"drone") && terms.contains(&"missile"),
            "{terms:?}"
        );
        let s: f64 = p.probabilities.iter().map(|(_, p)| p).sum();
        assert!((s - 1.0).abs() < 1e-12);
    }

    #[test]
    fn empty_document_is_scored_from_the_biases() {
        let (clf, _) = ClassifierParams::default().fit(&small_corpus()).unwrap();
        for text in ["", "   ", "zzz unknown words only"] {
            let p = clf.predict("e", text, 5);
            assert!(p.no_known_terms);
            assert_eq!(p.labels.len(), 1);
            assert!(p.explanation[0].up.is_empty());
        }
    }

    #[test]
    fn too_few_labels_and_empty_vocabulary_are_clear_errors() {
        let one: Vec<Document> = (0..5)
            .map(|i| doc(&i.to_string(), "some text here", &["a"]))
            .collect();
        assert!(matches!(
            ClassifierParams::default().fit(&one),
            Err(Error::TooFewLabels { found: 1, .. })
        ));
        let distinct = vec![doc("1", "alpha", &["a"]), doc("2", "beta", &["b"])];
        let err = ClassifierParams::default().fit(&distinct).unwrap_err();
        assert!(matches!(err, Error::EmptyVocabulary { .. }), "{err}");
        let ok = ClassifierParams {
            tfidf: TfidfParams {
                min_df: DfLimit::Count(1),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(ok.fit(&distinct).is_ok());
    }

    #[test]
    fn multi_label_documents_train_one_vs_rest() {
        let mut docs = small_corpus();
        for i in 0..10 {
            docs.push(doc(
                &format!("m{i}"),
                &format!("sanctions talks envoy oil exports summit {i}"),
                &["diplomacy", "economy"],
            ));
        }
        let (clf, _) = ClassifierParams::default().fit(&docs).unwrap();
        assert!(clf.is_multi_label());
        let p = clf.predict(
            "x",
            "sanctions on oil exports discussed at the summit talks",
            5,
        );
        assert!(p.labels.contains(&"economy".to_string()), "{:?}", p.labels);
        for e in &p.explanation {
            assert_eq!(e.threshold, Some(0.5));
        }
        let single = ClassifierParams {
            label_mode: LabelMode::Single,
            ..Default::default()
        };
        assert!(single.fit(&docs).is_err());
    }

    fn multi_label_corpus() -> Vec<Document> {
        let mut docs = small_corpus();
        for i in 0..15 {
            docs.push(doc(
                &format!("m{i}"),
                &format!("sanctions talks envoy oil exports summit {i}"),
                &["diplomacy", "economy"],
            ));
            docs.push(doc(
                &format!("n{i}"),
                &format!("drone strike near the summit venue envoy {i}"),
                &["diplomacy", "security"],
            ));
        }
        docs
    }

    #[test]
    fn best_f1_threshold_picks_the_midpoint_that_maximises_f1() {
        // Positives at 0.9, 0.8, 0.3; negatives at 0.6, 0.2. Predicting the top 3 (t in
        // (0.3, 0.6]) gives F1 4/6; the top 2 (t in (0.6, 0.8]): 4/5; the top 4: 6/7, the best.
        let p = [0.9, 0.8, 0.6, 0.3, 0.2];
        let y = [true, true, false, true, false];
        let (t, f1) = best_f1_threshold(&p, &y, (0.05, 0.95));
        assert!((t - 0.25).abs() < 1e-12, "{t}");
        assert!((f1 - 6.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn best_f1_threshold_ties_go_to_the_candidate_closest_to_half() {
        // Perfect separation between 0.7 and 0.2: every threshold in (0.2, 0.7] has F1 1, and
        // 0.5 is one of them, so it is kept.
        let (t, f1) = best_f1_threshold(
            &[0.9, 0.7, 0.2, 0.1],
            &[true, true, false, false],
            (0.05, 0.95),
        );
        assert_eq!((t, f1), (0.5, 1.0));
        // Separation between 0.9 and 0.8 only: the midpoint 0.85 is the one threshold with F1 1.
        let (t, _) = best_f1_threshold(&[0.9, 0.8, 0.7], &[true, false, false], (0.05, 0.95));
        assert!((t - 0.85).abs() < 1e-12, "{t}");
    }

    #[test]
    fn best_f1_threshold_stays_in_range_and_defaults_to_half_without_signal() {
        // The best split is at 0.035, below the range; inside it, the lower bound catches one of
        // the two positives (F1 2/3) and wins.
        let (t, f1) = best_f1_threshold(&[0.06, 0.04, 0.03], &[true, true, false], (0.05, 0.95));
        assert!((f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(t, 0.05);
        // No positive at all: every F1 is 0, the threshold stays 0.5.
        assert_eq!(
            best_f1_threshold(&[0.3, 0.2], &[false, false], (0.05, 0.95)),
            (0.5, 0.0)
        );
        assert_eq!(best_f1_threshold(&[], &[], (0.05, 0.95)), (0.5, 0.0));
    }

    #[test]
    fn tuning_counts_documents_the_at_least_one_rule_already_labels() {
        // Label 0 alone: a positive at 0.3 pulls its threshold below 0.3. But that document's
        // other label is lower still, so the at-least-one rule gives it label 0 at any threshold;
        // label 0 then keeps 0.5.
        let probs = vec![
            vec![0.9, 0.1],
            vec![0.3, 0.1],
            vec![0.4, 0.8],
            vec![0.1, 0.9],
        ];
        let truth = vec![
            vec![true, false],
            vec![true, false],
            vec![false, true],
            vec![false, true],
        ];
        let independent = tune_on_probabilities(&probs, &truth, true);
        assert!(independent[0].0 < 0.3, "{independent:?}");
        let with_rule = tune_on_probabilities(&probs, &truth, false);
        assert_eq!(with_rule[0], (0.5, 1.0));
        assert_eq!(with_rule[1], (0.5, 1.0));
    }

    #[test]
    fn defaults_are_fixed_thresholds_and_balanced_weights_for_both_kinds() {
        let p = ClassifierParams::default();
        assert_eq!(p.threshold_mode, ThresholdMode::Fixed);
        assert_eq!(
            p.logistic_for(ModelKind::OneVsRest).class_weight,
            ClassWeight::Balanced
        );
        assert_eq!(
            p.logistic_for(ModelKind::Multinomial).class_weight,
            ClassWeight::Balanced
        );
    }

    #[test]
    fn params_saved_before_threshold_tuning_load_with_what_those_models_did() {
        let mut v = serde_json::to_value(ClassifierParams::default()).unwrap();
        let m = v.as_object_mut().unwrap();
        for k in [
            "threshold_mode",
            "threshold_folds",
            "threshold_seed",
            "one_vs_rest_class_weight",
            "allow_empty",
        ] {
            assert!(m.remove(k).is_some(), "{k}");
        }
        let old: ClassifierParams = serde_json::from_value(v).unwrap();
        assert_eq!(old.threshold_mode, ThresholdMode::Fixed);
        assert_eq!(old.one_vs_rest_class_weight, None);
        assert!(!old.allow_empty);
        assert_eq!(old.threshold_folds, 5);
    }

    #[test]
    fn tuned_thresholds_are_deterministic_in_range_and_recorded() {
        let params = ClassifierParams {
            threshold_mode: ThresholdMode::Tuned,
            threshold_folds: 3,
            ..Default::default()
        };
        let docs = multi_label_corpus();
        let (a, _) = params.fit(&docs).unwrap();
        let (b, _) = params.fit(&docs).unwrap();
        let ta = a.thresholds.clone().unwrap();
        assert_eq!(Some(ta.clone()), b.thresholds);
        let (lo, hi) = TUNED_THRESHOLD_RANGE;
        assert!(ta.iter().all(|&t| (lo..=hi).contains(&t)), "{ta:?}");
        let tuning = a.summary.threshold_tuning.as_ref().unwrap();
        assert_eq!((tuning.folds, tuning.labels.len()), (3, a.labels.len()));
        for (l, t) in tuning.labels.iter().zip(&ta) {
            assert_eq!(l.threshold, *t);
            assert!(l.f1 >= 0.0 && l.f1 <= 1.0);
        }
        // The tuned model still predicts the obvious frames.
        let p = a.predict("x", "a drone strike on the border base", 3);
        assert!(p.labels.contains(&"security".to_string()), "{:?}", p.labels);
    }

    #[test]
    fn tuning_with_more_folds_than_documents_is_a_clear_error() {
        let params = ClassifierParams {
            threshold_mode: ThresholdMode::Tuned,
            threshold_folds: 500,
            ..Default::default()
        };
        let err = params.fit(&multi_label_corpus()).unwrap_err().to_string();
        assert!(err.contains("threshold"), "{err}");
        let one = ClassifierParams {
            threshold_mode: ThresholdMode::Tuned,
            threshold_folds: 1,
            ..Default::default()
        };
        assert!(one.validate().is_err());
    }

    #[test]
    fn allow_empty_lets_a_document_get_no_label() {
        let docs = multi_label_corpus();
        let strict = ClassifierParams {
            threshold: Some(0.99),
            ..Default::default()
        };
        let lenient = ClassifierParams {
            allow_empty: true,
            ..strict.clone()
        };
        let text = "nothing this model has seen";
        let (a, _) = strict.fit(&docs).unwrap();
        let (b, _) = lenient.fit(&docs).unwrap();
        assert_eq!(a.predict("x", text, 3).labels.len(), 1);
        let p = b.predict("x", text, 3);
        assert!(p.labels.is_empty() && p.explanation.is_empty());
        assert_eq!(b.predict_labels(&[text]), vec![Vec::<String>::new()]);
    }

    #[test]
    fn cross_validation_is_deterministic_per_seed_for_both_kinds() {
        for (docs, multi) in [(small_corpus(), false), (multi_label_corpus(), true)] {
            let p = ClassifierParams::default();
            let a = p.cross_validate(&docs, 3, 7).unwrap();
            let b = p.cross_validate(&docs, 3, 7).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.multi_label, multi);
            assert_eq!(a.summary.folds, 3);
            assert_eq!(a.fold_sizes.iter().sum::<usize>(), docs.len());
            assert_eq!(a.summary.get("samples_f1").is_some(), multi);
            let acc = a.summary.get("accuracy").unwrap();
            assert!(acc.mean > 0.8, "{}", a.summary);
            assert_ne!(a.folds, p.cross_validate(&docs, 3, 8).unwrap().folds);
        }
    }
}
