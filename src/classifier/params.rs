//! Training settings and the fit of the whole pipeline: documents → vectorizer → logistic model →
//! thresholds, as one [`Classifier`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::pipeline::{Classifier, StageTimes, TrainingSummary};
use super::rates::PrevalenceRates;
use crate::error::{Error, Result};
use crate::eval;
use crate::features::{TermCounts, TfidfParams, TfidfVectorizer};
use crate::logistic::{ClassWeight, HeldOut, LogisticModel, LogisticParams, ModelKind, Solver};
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
    /// The same threshold for every label: [`ClassifierParams::threshold`]. What models saved
    /// before the evidence rule read as (their files lack the field).
    #[default]
    Fixed,
    /// Per label, the threshold that maximises the label's F1 on out-of-fold probabilities of the
    /// training data (see [`ClassifierParams::threshold_folds`] and [`tune_on_probabilities`](super::tune_on_probabilities)).
    Tuned,
    /// The default of new models: per label, 0.5 unless the out-of-fold probabilities of the
    /// training data show a gain larger than its noise from moving it; see
    /// [`evidence_thresholds`](super::evidence_thresholds).
    Evidence,
}

impl std::str::FromStr for ThresholdMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "evidence" => Ok(ThresholdMode::Evidence),
            "tuned" => Ok(ThresholdMode::Tuned),
            "fixed" => Ok(ThresholdMode::Fixed),
            _ => Err(Error::UnknownChoice {
                name: "thresholds",
                value: s.to_string(),
                expected: "`evidence`, `tuned` or `fixed`".into(),
            }),
        }
    }
}

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
    /// How one-vs-rest thresholds are set: by evidence (the default), tuned or fixed. Files
    /// without the field (saved before tuning existed) read as fixed.
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
    /// macro-F1 most of all the multi-label settings measured (README, "Multi-label models"). Since
    /// `logistic.class_weight` defaults to balanced too, this only matters for models saved
    /// before that default changed.
    #[serde(default)]
    pub one_vs_rest_class_weight: Option<ClassWeight>,
    /// Let a one-vs-rest prediction be empty when no label reaches its threshold. Default false:
    /// such a document gets its most probable label.
    #[serde(default)]
    pub allow_empty: bool,
    /// Folds of the out-of-fold predictions of the training data from which the model's error
    /// rates are estimated (for prevalence correction, [`PrevalenceRates`]); their seed is
    /// [`Self::threshold_seed`]. 0: no rates. Default 5; models saved before rates existed read
    /// as 0.
    #[serde(default)]
    pub rate_folds: usize,
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
            threshold_mode: ThresholdMode::Evidence,
            threshold_folds: default_threshold_folds(),
            threshold_seed: 0,
            one_vs_rest_class_weight: Some(ClassWeight::Balanced),
            allow_empty: false,
            rate_folds: 5,
        }
    }
}

/// How the thresholds of a one-vs-rest model were tuned: saved in the training summary.
impl ClassifierParams {
    /// Check the parameters that need no data.
    pub fn validate(&self) -> Result<()> {
        self.tfidf.validate()?;
        self.logistic.validate()?;
        let threshold = self.threshold.unwrap_or(0.5);
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(Error::OutOfRange {
                name: "threshold",
                value: threshold.to_string(),
                range: "in (0, 1)",
            });
        }
        if self.threshold.is_some() && self.threshold_mode != ThresholdMode::Fixed {
            return Err(Error::OutOfRange {
                name: "threshold",
                value: threshold.to_string(),
                range: "only with fixed thresholds (threshold_mode fixed)",
            });
        }
        if self.rate_folds == 1 || self.rate_folds > 64 {
            return Err(Error::BadFoldCount {
                name: "rate_folds",
                k: self.rate_folds,
                rule: "error rates need 2 to 64 folds (0: none)".into(),
            });
        }
        if self.label_mode == LabelMode::Multi {
            self.check_threshold_folds(ModelKind::OneVsRest)?;
        }
        Ok(())
    }

    /// Threshold folds apply to one-vs-rest models with tuned or evidence thresholds, which
    /// need at least 2; a single-label model has no thresholds, so any number is ignored.
    pub(super) fn check_threshold_folds(&self, kind: ModelKind) -> Result<()> {
        let tuned = kind == ModelKind::OneVsRest && self.threshold_mode != ThresholdMode::Fixed;
        if tuned && self.threshold_folds < 2 {
            return Err(Error::BadFoldCount {
                name: "threshold_folds",
                k: self.threshold_folds,
                rule: "threshold tuning needs at least 2 folds".into(),
            });
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
    pub(super) fn kind_for(&self, docs: &[&Document]) -> Result<ModelKind> {
        let multi = docs.iter().find(|d| d.labels.len() > 1);
        match (self.label_mode, multi) {
            (LabelMode::Multi, _) | (LabelMode::Auto, Some(_)) => Ok(ModelKind::OneVsRest),
            (LabelMode::Auto, None) | (LabelMode::Single, None) => Ok(ModelKind::Multinomial),
            (LabelMode::Single, Some(d)) => Err(Error::SeveralLabels {
                id: d.id.clone(),
                n: d.labels.len(),
            }),
        }
    }

    /// Why training on `docs` stores no error rates (`None`: it does). Single-label rates are a
    /// labels × labels matrix: with fewer documents than folds × labels, a fold holds under one
    /// document per label on average, the matrix is mostly empty, and the refits would only
    /// cost time and memory (two more documents × labels margins).
    pub fn rates_skipped(&self, docs: &[&Document]) -> Option<String> {
        let folds = self.rate_folds;
        if folds < 2 {
            return Some("--rate-folds is 0".into());
        }
        if self.logistic.solver != Solver::Lbfgs {
            return Some("the linfa solver does not refit folds".into());
        }
        if docs.len() < folds {
            return Some(format!(
                "{} documents are fewer than {folds} folds",
                docs.len()
            ));
        }
        if self.kind_for(docs).ok()? == ModelKind::Multinomial {
            let labels: std::collections::BTreeSet<&str> = docs
                .iter()
                .flat_map(|d| d.labels.iter().map(String::as_str))
                .collect();
            if docs.len() < folds * labels.len() {
                return Some(format!(
                    "{} documents are fewer than {folds} folds × {} labels (under one document \
                     per label in a fold)",
                    docs.len(),
                    labels.len()
                ));
            }
        }
        None
    }

    /// Train on labelled documents. Every document must carry at least one label.
    pub fn fit(&self, docs: &[Document]) -> Result<(Classifier, StageTimes)> {
        let refs: Vec<&Document> = docs.iter().collect();
        self.fit_refs(&refs, Texts::Borrowed, None)
    }

    /// As [`ClassifierParams::fit`], but the texts are freed as soon as they are analysed, so
    /// the solver does not run beside a copy of the corpus (the out-of-fold pipelines of
    /// one-vs-rest thresholds start from the term counts, not the texts).
    pub fn fit_owned(&self, mut docs: Vec<Document>) -> Result<(Classifier, StageTimes)> {
        let texts: Vec<String> = docs
            .iter_mut()
            .map(|d| std::mem::take(&mut d.text))
            .collect();
        let refs: Vec<&Document> = docs.iter().collect();
        self.fit_refs(&refs, Texts::Owned(texts), None)
    }

    /// `texts`: where the documents' texts come from.
    ///
    /// `start`: a one-vs-rest fit whose weights this one starts from (mapped term by term and
    /// label by label: [`WarmStart::onto`]); out-of-fold refits use their full fit's.
    pub(super) fn fit_refs(
        &self,
        docs: &[&Document],
        texts: Texts<'_>,
        start: Option<&WarmStart>,
    ) -> Result<(Classifier, StageTimes)> {
        let mut times = StageTimes::default();
        self.validate()?;
        if docs.is_empty() {
            return Err(Error::EmptyCorpus { what: "training" });
        }
        if let Some(d) = docs.iter().find(|d| d.labels.is_empty()) {
            return Err(Error::UnlabelledDocument { id: d.id.clone() });
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
        self.check_threshold_folds(kind)?;
        let logistic = self.logistic_for(kind);
        let tuning_wanted =
            kind == ModelKind::OneVsRest && self.threshold_mode != ThresholdMode::Fixed;

        let t0 = std::time::Instant::now();
        // Thresholds from out-of-fold evidence train a pipeline per fold on part of these
        // documents: the texts are counted once, and every pipeline selects its rows.
        let borrowed = || -> Vec<&str> { docs.iter().map(|d| d.text.as_str()).collect() };
        let (local, texts) = match texts {
            Texts::Owned(owned) if tuning_wanted => {
                (Some(self.tfidf.count_terms_owned(owned)?), None)
            }
            Texts::Borrowed if tuning_wanted => (Some(self.tfidf.count_terms(&borrowed())?), None),
            texts => (None, Some(texts)),
        };
        let every: Vec<usize> = match local {
            Some(_) => (0..docs.len()).collect(),
            None => Vec::new(),
        };
        let counted = match (&local, &texts) {
            (Some(counts), _) => Some(CountedRows {
                counts,
                rows: &every,
            }),
            (None, Some(Texts::Counted(c))) => Some(*c),
            _ => None,
        };
        // Owned texts are freed as soon as they are analysed.
        let (vectorizer, x, vocab_stats) = match (counted, texts) {
            (Some(c), _) => c.counts.select(c.rows)?,
            (None, Some(Texts::Owned(owned))) => self.tfidf.fit_factored_owned(owned)?,
            (None, _) => self.tfidf.fit_factored(&borrowed())?,
        };
        times.vectorize_s = t0.elapsed().as_secs_f64();

        let t1 = std::time::Instant::now();
        let index: BTreeMap<&str, usize> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let truth: Vec<Vec<usize>> = docs
            .iter()
            .map(|d| d.labels.iter().map(|l| index[l.as_str()]).collect())
            .collect();
        let rates_wanted = self.rates_skipped(docs).is_none();
        // Out-of-fold rates need the L-BFGS refits and at least one document per fold. With
        // thresholds from out-of-fold evidence, that evidence gives the rates instead.
        let rate_folds = if rates_wanted && !tuning_wanted {
            let names: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
            Some(eval::stratified_folds(
                &names,
                self.rate_folds,
                self.threshold_seed,
            )?)
        } else {
            None
        };
        // A fold's refit keeps the terms its training rows alone would keep (minimum document
        // frequency over the (k-1)/k of the documents outside the fold).
        let n_fold_train = docs.len() - docs.len() / self.rate_folds.max(1);
        let held = rate_folds.as_deref().map(|folds| HeldOut {
            folds,
            k: self.rate_folds,
            min_rows: self.tfidf.min_df.documents(n_fold_train),
        });
        let (model, reports, refit_oof) = match (kind, start) {
            (ModelKind::Multinomial, _) => {
                let y: Vec<usize> = truth.iter().map(|t| t[0]).collect();
                logistic.fit_multiclass_held_out(x, &y, labels.len(), held.as_ref())?
            }
            (ModelKind::OneVsRest, Some(start)) if held.is_none() => {
                let from = start.onto(&vectorizer, &labels);
                let (model, reports) = logistic.fit_one_vs_rest_warm(x, &truth, &labels, &from)?;
                (model, reports, None)
            }
            (ModelKind::OneVsRest, _) => {
                logistic.fit_one_vs_rest_held_out(x, &truth, &labels, held.as_ref())?
            }
        };
        // One-vs-rest thresholds from out-of-fold evidence: whole-pipeline folds, each started
        // from this fit, whose probabilities then also give the error rates (so the fit above
        // refit no folds).
        // `counted` is there whenever tuning is wanted: the texts were counted above.
        let evidence = if let (true, Some(counted)) = (tuning_wanted, counted) {
            let t = std::time::Instant::now();
            logistic.progress.post(|| {
                format!(
                    "thresholds: {}-fold out-of-fold probabilities",
                    self.threshold_folds
                )
            });
            let start = WarmStart {
                vectorizer: &vectorizer,
                model: &model,
                labels: &labels,
            };
            let e = self.tune_thresholds(docs, counted, &labels, Some(&start))?;
            times.tune_s = t.elapsed().as_secs_f64();
            Some(e)
        } else {
            None
        };
        times.fit_s = t1.elapsed().as_secs_f64() - times.tune_s;

        // The out-of-fold probabilities come with the folds they came from: the thresholds'
        // when they gave them.
        let refits = refit_oof.map(|p| (p, self.rate_folds));
        let (thresholds, threshold_tuning, oof) = match (kind, evidence) {
            (ModelKind::Multinomial, _) => (None, None, refits),
            (ModelKind::OneVsRest, None) => (
                Some(vec![self.threshold.unwrap_or(0.5); labels.len()]),
                None,
                refits,
            ),
            (ModelKind::OneVsRest, Some((tuning, probs))) => {
                let t = tuning.labels.iter().map(|l| l.threshold).collect();
                let rates = probs.filter(|_| rates_wanted);
                let folds = self.threshold_folds;
                (Some(t), Some(tuning), rates.map(|p| (p.concat(), folds)))
            }
        };
        let summary = TrainingSummary {
            n_documents: docs.len(),
            label_counts,
            vocabulary: vocab_stats,
            solver: reports,
            framelens_version: env!("CARGO_PKG_VERSION").to_string(),
            threshold_tuning,
            rates: None,
        };
        let mut clf = Classifier {
            params: self.clone(),
            vectorizer,
            model,
            labels,
            thresholds,
            summary,
        };
        let t3 = std::time::Instant::now();
        if let Some((probs, rate_source_folds)) = oof {
            logistic
                .progress
                .post(|| "error rates and calibration from the out-of-fold predictions".into());
            let k = clf.labels.len();
            let multi = kind == ModelKind::OneVsRest;
            let decided: Vec<Vec<usize>> = probs.chunks(k).map(|p| clf.decide(p)).collect();
            clf.summary.rates = Some(PrevalenceRates::estimate(
                multi,
                k,
                &probs,
                &decided,
                &truth,
                rate_source_folds,
                self.threshold_seed,
            ));
        }
        times.rates_s = t3.elapsed().as_secs_f64();
        Ok((clf, times))
    }
}

/// Where a pipeline's training texts come from.
pub(super) enum Texts<'a> {
    /// The documents' own.
    Borrowed,
    /// These, in document order, in place of the documents' own (then empty); each is freed as
    /// soon as it has been analysed.
    Owned(Vec<String>),
    /// Counts made once for several pipelines.
    Counted(CountedRows<'a>),
}

/// Documents as rows of term counts made once: document i is counted document `rows[i]`.
#[derive(Clone, Copy)]
pub(super) struct CountedRows<'a> {
    pub(super) counts: &'a TermCounts,
    pub(super) rows: &'a [usize],
}

impl CountedRows<'_> {
    /// The counted rows of documents `docs` (indices into this one's documents).
    pub(super) fn rows_of(&self, docs: &[usize]) -> Vec<usize> {
        docs.iter().map(|&i| self.rows[i]).collect()
    }
}

/// A fitted one-vs-rest pipeline that another fit starts from (the out-of-fold refits start
/// from the full fit): its vocabulary with idf, its weights and its labels.
pub(super) struct WarmStart<'a> {
    pub(super) vectorizer: &'a TfidfVectorizer,
    pub(super) model: &'a LogisticModel,
    pub(super) labels: &'a [String],
}

impl WarmStart<'_> {
    /// The start of a fit over `vectorizer`'s terms and `labels`: a term the start knows takes
    /// its weights scaled by `idf_start / idf` (so the term adds the same to a margin as in the
    /// start, before the document's norm); a label the start knows takes its bias; anything else
    /// starts at 0. Only the path to the optimum depends on it: the objective is strictly convex.
    pub(super) fn onto(&self, vectorizer: &TfidfVectorizer, labels: &[String]) -> LogisticModel {
        let (k, ks) = (labels.len(), self.model.n_labels);
        let columns: Vec<Option<usize>> = labels
            .iter()
            .map(|l| self.labels.iter().position(|m| m == l))
            .collect();
        let (idf, idf_start) = (vectorizer.idf(), self.vectorizer.idf());
        let mut weights = vec![0.0; vectorizer.n_features() * k];
        for (j, term) in vectorizer.vocabulary().iter().enumerate() {
            let Some(js) = self.vectorizer.term_id(term).map(|t| t as usize) else {
                continue;
            };
            let scale = idf_start[js] / idf[j];
            for (l, c) in columns.iter().enumerate() {
                if let Some(c) = c {
                    weights[j * k + l] = self.model.weights[js * ks + c] * scale;
                }
            }
        }
        let bias = columns
            .iter()
            .map(|c| c.map_or(0.0, |c| self.model.bias[c]))
            .collect();
        LogisticModel {
            kind: ModelKind::OneVsRest,
            n_features: vectorizer.n_features(),
            n_labels: k,
            weights,
            bias,
        }
    }
}
