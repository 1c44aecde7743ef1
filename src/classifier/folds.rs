//! Cross-validation of the whole pipeline, and the one out-of-fold loop that it shares with
//! threshold tuning.

use rayon::prelude::*;
use serde::Serialize;

use super::params::{ClassifierParams, CountedRows, LabelMode, Texts, WarmStart};
use super::pipeline::Classifier;
use crate::error::{Error, Result};
use crate::eval::{self, CvSummary, Report};
use crate::logistic::ModelKind;
use crate::Document;

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
        self.cross_validate_texts(docs, None, k, seed)
    }

    /// As [`ClassifierParams::cross_validate`], but the texts are freed as soon as they are
    /// analysed: the folds run beside the documents' term counts, not beside the corpus too.
    pub fn cross_validate_owned(
        &self,
        mut docs: Vec<Document>,
        k: usize,
        seed: u64,
    ) -> Result<CrossValidation> {
        let texts: Vec<String> = docs
            .iter_mut()
            .map(|d| std::mem::take(&mut d.text))
            .collect();
        self.cross_validate_texts(&docs, Some(texts), k, seed)
    }

    /// `texts`, when given, replaces the documents' own (then empty).
    fn cross_validate_texts(
        &self,
        docs: &[Document],
        texts: Option<Vec<String>>,
        k: usize,
        seed: u64,
    ) -> Result<CrossValidation> {
        self.validate()?;
        let refs: Vec<&Document> = docs.iter().collect();
        let kind = self.kind_for(&refs)?;
        self.check_threshold_folds(kind)?;
        let params = ClassifierParams {
            label_mode: match kind {
                ModelKind::OneVsRest => LabelMode::Multi,
                ModelKind::Multinomial => LabelMode::Single,
            },
            ..self.clone()
        };
        let truth: Vec<Vec<String>> = docs.iter().map(|d| d.labels.clone()).collect();
        let folds = eval::stratified_folds(&truth, k, seed)?;
        // Every fold's pipeline (and the folds of its thresholds) selects its rows from counts
        // made once.
        let counts = match texts {
            Some(owned) => self.tfidf.count_terms_owned(owned)?,
            None => {
                let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
                self.tfidf.count_terms(&texts)?
            }
        };
        let every: Vec<usize> = (0..docs.len()).collect();
        let counted = CountedRows {
            counts: &counts,
            rows: &every,
        };
        let reports = out_of_fold(
            &params,
            &refs,
            counted,
            &folds,
            k,
            FoldPurpose::CrossValidation,
            None,
            |clf, held| {
                let x = counts.rows_under(&clf.vectorizer, held)?;
                let predicted: Vec<Vec<String>> = clf
                    .probabilities_of_rows(&x)
                    .iter()
                    .map(|p| {
                        clf.decide(p)
                            .into_iter()
                            .map(|k| clf.labels[k].clone())
                            .collect()
                    })
                    .collect();
                let gold: Vec<Vec<String>> = held.iter().map(|&i| truth[i].clone()).collect();
                eval::evaluate(&clf.labels, &gold, &predicted, clf.is_multi_label())
            },
        )?;
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

/// Why a pipeline is trained on all folds but one: names the failure of a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FoldPurpose {
    /// Cross-validation of the settings.
    CrossValidation,
    /// Out-of-fold probabilities for one-vs-rest thresholds.
    ThresholdTuning,
}

/// The one out-of-fold loop: for each fold f of `k` (`folds[i]` is document i's fold), trains
/// `params` from scratch on the documents of the other folds (their rows of `counted`, which
/// holds `docs`) and calls `held_out` with that classifier and the indices of fold f's documents
/// (in input order). Folds run in parallel; results come back in fold order, so they depend only
/// on the data, the settings and the folds.
#[allow(clippy::too_many_arguments)] // Each is one input of the loop; a struct would only rename them.
pub(super) fn out_of_fold<T: Send>(
    params: &ClassifierParams,
    docs: &[&Document],
    counted: CountedRows<'_>,
    folds: &[usize],
    k: usize,
    purpose: FoldPurpose,
    start: Option<&WarmStart>,
    held_out: impl Fn(&Classifier, &[usize]) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    (0..k)
        .into_par_iter()
        .map(|f| {
            let (train, held): (Vec<usize>, Vec<usize>) =
                (0..docs.len()).partition(|&i| folds[i] != f);
            let train_docs: Vec<&Document> = train.iter().map(|&i| docs[i]).collect();
            let rows = counted.rows_of(&train);
            let texts = Texts::Counted(CountedRows {
                counts: counted.counts,
                rows: &rows,
            });
            let (clf, _) =
                params
                    .fit_refs(&train_docs, texts, start)
                    .map_err(|e| Error::FoldFailed {
                        purpose: match purpose {
                            FoldPurpose::CrossValidation => "cross-validation",
                            FoldPurpose::ThresholdTuning => "tuning thresholds",
                        },
                        fold: f + 1,
                        k,
                        n_train: train_docs.len(),
                        hint: match purpose {
                            FoldPurpose::CrossValidation => "",
                            FoldPurpose::ThresholdTuning => {
                                " (use fewer threshold folds or fixed thresholds)"
                            }
                        },
                        source: Box::new(e),
                    })?;
            held_out(&clf, &held)
        })
        .collect()
}
