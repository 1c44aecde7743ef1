//! Metrics and the test report: per-label precision, recall and F1 with their counts, micro /
//! macro / weighted (and, for multi-label data, samples) averages, the confusion matrix.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the extra confusion-matrix column that counts single-label documents for which the model
/// predicted no label at all (an abstention, e.g. every probability below its threshold). Where a
/// label already has this name, the column takes it with asterisks added (`(none)*`, ...).
pub const NO_PREDICTION: &str = "(none)";

/// The name of the no-prediction column: [`NO_PREDICTION`], with asterisks added until it is no
/// label's name.
fn no_prediction_column(labels: &[String]) -> String {
    let mut name = NO_PREDICTION.to_string();
    while labels.contains(&name) {
        name.push('*');
    }
    name
}

/// Precision, recall, F1 and the underlying counts of one label.
///
/// Undefined ratios are 0, as with scikit-learn's `zero_division=0`: precision is 0 when the label
/// was never predicted, recall is 0 when it has no support, F1 is `2·tp / (2·tp + fp + fn)` and 0
/// when that denominator is 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    /// The label.
    pub label: String,
    /// `tp / (tp + fp)`, 0 when the label was never predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`, 0 when no document carries the label.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
    /// Number of documents whose gold labels include this one (`tp + fn`).
    pub support: usize,
    /// Documents that carry the label and were predicted with it.
    pub tp: usize,
    /// Documents predicted with the label that do not carry it.
    pub fp: usize,
    /// Documents that carry the label but were not predicted with it (JSON key `fn`).
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Documents that neither carry nor were predicted with the label.
    pub tn: usize,
    /// True when the label is not one of the model's labels (it only appears in the gold data, so
    /// the model can never predict it: its recall is 0 and it lowers the macro average).
    pub unknown: bool,
}

/// The confusion matrix of a [`Report`]; its JSON key is `confusion_matrix` in both modes and the
/// shape tells them apart (serde `untagged`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ConfusionMatrix {
    /// Single-label: `matrix[t][p]` = number of documents whose gold label is `labels[t]` and whose
    /// predicted label is `confusion_columns[p]`. Rows follow [`Report::labels`]; the columns are
    /// the same labels plus, only when some document got no prediction, a last column
    /// [`NO_PREDICTION`] (see [`Report::confusion_columns`]). Like sklearn's `confusion_matrix`.
    SingleLabel(Vec<Vec<usize>>),
    /// Multi-label: one 2×2 matrix `[[TN, FP], [FN, TP]]` per label, in the order of
    /// [`Report::labels`]. Like sklearn's `multilabel_confusion_matrix`.
    MultiLabel(Vec<[[usize; 2]; 2]>),
}

/// The test report of a model on labelled documents: what [`evaluate`] returns.
///
/// Label order ([`Report::labels`]): the model's labels in the model's order, then every gold label
/// the model does not know, sorted. Those unknown labels are listed in [`Report::unknown_labels`]
/// and scored like labels the model never predicts (recall 0), so they pull the macro and weighted
/// averages down instead of being silently dropped.
///
/// JSON: every field below under its own name; the multi-label-only fields (`samples_*`,
/// `hamming_loss`, `subset_accuracy`, `label_cardinality_*`) are omitted from single-label reports,
/// and `confusion_columns` is omitted from multi-label reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Whether the documents were evaluated as multi-label (sets of labels) or single-label.
    pub multi_label: bool,
    /// Number of evaluated documents.
    pub n_documents: usize,
    /// The report's label order (model labels, then unknown gold labels sorted).
    pub labels: Vec<String>,
    /// Gold labels the model does not know → number of documents carrying them. In single-label
    /// mode only the (first) gold label that is evaluated counts.
    pub unknown_labels: BTreeMap<String, usize>,
    /// Single-label: share of documents whose predicted label equals the gold label (an empty
    /// prediction is wrong). Multi-label: subset accuracy (predicted set == gold set).
    pub accuracy: f64,
    /// Micro-averaged precision: Σtp / (Σtp + Σfp) over all labels. Single-label: a document with
    /// no prediction adds no false positive, so this exceeds `accuracy` when some are empty.
    pub micro_precision: f64,
    /// Micro-averaged recall: Σtp / (Σtp + Σfn); equals `accuracy` for single-label data.
    pub micro_recall: f64,
    /// Micro-averaged F1: 2Σtp / (2Σtp + Σfp + Σfn).
    pub micro_f1: f64,
    /// Unweighted mean of the per-label precisions (every label of `labels` counts, unknown ones too).
    pub macro_precision: f64,
    /// Unweighted mean of the per-label recalls.
    pub macro_recall: f64,
    /// Unweighted mean of the per-label F1 (not the F1 of the macro precision and recall, as sklearn).
    pub macro_f1: f64,
    /// Mean of the per-label precisions weighted by support.
    pub weighted_precision: f64,
    /// Mean of the per-label recalls weighted by support.
    pub weighted_recall: f64,
    /// Mean of the per-label F1 weighted by support.
    pub weighted_f1: f64,
    /// Multi-label only: mean over documents of |gold ∩ predicted| / |predicted| (0 when nothing
    /// was predicted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_precision: Option<f64>,
    /// Multi-label only: mean over documents of |gold ∩ predicted| / |gold| (0 when no gold label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_recall: Option<f64>,
    /// Multi-label only: mean over documents of 2|gold ∩ predicted| / (|gold| + |predicted|); a
    /// document with neither gold nor predicted labels counts 0, as sklearn's
    /// `f1_score(average="samples", zero_division=0)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_f1: Option<f64>,
    /// Multi-label only: share of wrong (document, label) decisions, Σ(fp + fn) / (documents × labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hamming_loss: Option<f64>,
    /// Multi-label only: share of documents whose predicted set equals the gold set (= `accuracy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset_accuracy: Option<f64>,
    /// Multi-label only: mean number of gold labels per document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_cardinality_true: Option<f64>,
    /// Multi-label only: mean number of predicted labels per document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_cardinality_pred: Option<f64>,
    /// Number of documents for which the model predicted no label.
    pub n_empty_predictions: usize,
    /// One entry per label of `labels`, same order.
    pub per_label: Vec<LabelMetrics>,
    /// Single-label only: the column names of `confusion_matrix` (`labels`, plus a last column
    /// named [`NO_PREDICTION`], or that with asterisks where a label has the name, when some
    /// prediction was empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion_columns: Option<Vec<String>>,
    /// See [`ConfusionMatrix`] for the two shapes.
    pub confusion_matrix: ConfusionMatrix,
}

/// F1 of a label with `tp` true positives and `errors = fp + fn`: `2·tp / (2·tp + fp + fn)`, 0 when
/// that denominator is 0 (scikit-learn's `zero_division=0`). The one F1 of framelens: reports,
/// threshold tuning and cross-validation all take it from here.
pub fn f1(tp: usize, errors: usize) -> f64 {
    ratio(2 * tp, 2 * tp + errors)
}

pub(super) fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn label_metrics(
    label: &str,
    tp: usize,
    fp: usize,
    fn_: usize,
    n: usize,
    unknown: bool,
) -> LabelMetrics {
    LabelMetrics {
        label: label.to_string(),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: f1(tp, fp + fn_),
        support: tp + fn_,
        tp,
        fp,
        fn_,
        tn: n - tp - fp - fn_,
        unknown,
    }
}

/// Evaluates predicted labels against gold labels.
///
/// * `model_labels`: every label the model can predict, in the model's order (must be unique).
/// * `truth[i]`, `predicted[i]`: gold and predicted labels of document `i`; both slices must have
///   the same, non-zero length.
/// * `multi_label`: `false` evaluates one label per document: the first gold label is used (a
///   document without gold label is an error) and a prediction holds at most one label (empty =
///   the model abstained, counted in the [`NO_PREDICTION`] column). `true` compares label sets
///   (duplicates inside one document are ignored; empty gold or predicted sets are allowed).
///
/// Gold labels missing from `model_labels` are added to the report (see [`Report`]); a *predicted*
/// label missing from `model_labels` means the caller passed the wrong label list and is an
/// [`Error::UnknownPrediction`].
///
/// # Errors
/// [`Error::TargetMismatch`] when the lengths differ, [`Error::EmptyCorpus`] when there are no
/// documents, [`Error::DuplicateLabel`], [`Error::UnknownPrediction`], [`Error::MissingGoldLabel`]
/// and [`Error::SeveralPredictions`] for a single-label document without gold label or with
/// several predictions, [`Error::NothingToEvaluate`] when there is no label at all.
pub fn evaluate(
    model_labels: &[String],
    truth: &[Vec<String>],
    predicted: &[Vec<String>],
    multi_label: bool,
) -> Result<Report> {
    if truth.len() != predicted.len() {
        return Err(Error::TargetMismatch {
            what: "predictions",
            found: predicted.len(),
            expected: format!("one per gold document ({})", truth.len()),
        });
    }
    let n = truth.len();
    if n == 0 {
        return Err(Error::EmptyCorpus { what: "evaluation" });
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, label) in model_labels.iter().enumerate() {
        if index.insert(label.as_str(), i).is_some() {
            return Err(Error::DuplicateLabel {
                label: label.clone(),
            });
        }
    }
    for (i, doc) in predicted.iter().enumerate() {
        if !multi_label && doc.len() > 1 {
            return Err(Error::SeveralPredictions {
                doc: i,
                n: doc.len(),
                labels: doc.clone(),
            });
        }
        if let Some(label) = doc.iter().find(|l| !index.contains_key(l.as_str())) {
            return Err(Error::UnknownPrediction {
                doc: i,
                label: label.clone(),
                model_labels: model_labels.to_vec(),
            });
        }
    }
    // The gold labels that are evaluated: all of them (multi-label) or the first (single-label).
    let evaluated: Vec<&[String]> = truth
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            if multi_label {
                Ok(doc.as_slice())
            } else if doc.is_empty() {
                Err(Error::MissingGoldLabel { doc: i })
            } else {
                Ok(&doc[..1])
            }
        })
        .collect::<Result<_>>()?;

    let mut unknown_labels: BTreeMap<String, usize> = BTreeMap::new();
    for doc in &evaluated {
        let mut seen: Vec<&str> = doc
            .iter()
            .map(String::as_str)
            .filter(|l| !index.contains_key(l))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        for label in seen {
            *unknown_labels.entry(label.to_string()).or_default() += 1;
        }
    }
    let mut labels: Vec<String> = model_labels.to_vec();
    labels.extend(unknown_labels.keys().cloned());
    if labels.is_empty() {
        return Err(Error::NothingToEvaluate);
    }
    let n_known = model_labels.len();
    for (i, label) in labels.iter().enumerate().skip(n_known) {
        index.insert(label.as_str(), i);
    }
    let to_ids = |doc: &[String]| -> Vec<usize> {
        let mut ids: Vec<usize> = doc.iter().map(|l| index[l.as_str()]).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let gold: Vec<Vec<usize>> = evaluated.iter().map(|d| to_ids(d)).collect();
    let pred: Vec<Vec<usize>> = predicted.iter().map(|d| to_ids(d)).collect();
    let n_empty_predictions = pred.iter().filter(|p| p.is_empty()).count();
    let n_labels = labels.len();

    let mut tp = vec![0usize; n_labels];
    let mut fp = vec![0usize; n_labels];
    let mut fn_ = vec![0usize; n_labels];
    for (g, p) in gold.iter().zip(&pred) {
        for &l in g {
            if p.binary_search(&l).is_ok() {
                tp[l] += 1;
            } else {
                fn_[l] += 1;
            }
        }
        for &l in p {
            if g.binary_search(&l).is_err() {
                fp[l] += 1;
            }
        }
    }
    let per_label: Vec<LabelMetrics> = (0..n_labels)
        .map(|l| label_metrics(&labels[l], tp[l], fp[l], fn_[l], n, l >= n_known))
        .collect();
    let (sum_tp, sum_fp, sum_fn): (usize, usize, usize) =
        (tp.iter().sum(), fp.iter().sum(), fn_.iter().sum());
    let total_support: usize = per_label.iter().map(|m| m.support).sum();
    let macro_of =
        |f: fn(&LabelMetrics) -> f64| per_label.iter().map(f).sum::<f64>() / n_labels as f64;
    let weighted_of = |f: fn(&LabelMetrics) -> f64| {
        if total_support == 0 {
            0.0
        } else {
            per_label
                .iter()
                .map(|m| f(m) * m.support as f64)
                .sum::<f64>()
                / total_support as f64
        }
    };
    let exact = gold.iter().zip(&pred).filter(|(g, p)| g == p).count();
    let accuracy = exact as f64 / n as f64;

    let mut report = Report {
        multi_label,
        n_documents: n,
        labels,
        unknown_labels,
        accuracy,
        micro_precision: ratio(sum_tp, sum_tp + sum_fp),
        micro_recall: ratio(sum_tp, sum_tp + sum_fn),
        micro_f1: f1(sum_tp, sum_fp + sum_fn),
        macro_precision: macro_of(|m| m.precision),
        macro_recall: macro_of(|m| m.recall),
        macro_f1: macro_of(|m| m.f1),
        weighted_precision: weighted_of(|m| m.precision),
        weighted_recall: weighted_of(|m| m.recall),
        weighted_f1: weighted_of(|m| m.f1),
        samples_precision: None,
        samples_recall: None,
        samples_f1: None,
        hamming_loss: None,
        subset_accuracy: None,
        label_cardinality_true: None,
        label_cardinality_pred: None,
        n_empty_predictions,
        per_label: Vec::new(),
        confusion_columns: None,
        confusion_matrix: ConfusionMatrix::SingleLabel(Vec::new()),
    };

    if multi_label {
        let (mut sp, mut sr, mut sf) = (0.0, 0.0, 0.0);
        for (g, p) in gold.iter().zip(&pred) {
            let common = g.iter().filter(|l| p.binary_search(l).is_ok()).count();
            sp += ratio(common, p.len());
            sr += ratio(common, g.len());
            sf += f1(common, g.len() + p.len() - 2 * common);
        }
        let nf = n as f64;
        report.samples_precision = Some(sp / nf);
        report.samples_recall = Some(sr / nf);
        report.samples_f1 = Some(sf / nf);
        report.hamming_loss = Some((sum_fp + sum_fn) as f64 / (nf * n_labels as f64));
        report.subset_accuracy = Some(accuracy);
        report.label_cardinality_true = Some(gold.iter().map(Vec::len).sum::<usize>() as f64 / nf);
        report.label_cardinality_pred = Some(pred.iter().map(Vec::len).sum::<usize>() as f64 / nf);
        report.confusion_matrix = ConfusionMatrix::MultiLabel(
            per_label
                .iter()
                .map(|m| [[m.tn, m.fp], [m.fn_, m.tp]])
                .collect(),
        );
    } else {
        let none_column = (n_empty_predictions > 0).then_some(n_labels);
        let n_cols = n_labels + usize::from(none_column.is_some());
        let mut matrix = vec![vec![0usize; n_cols]; n_labels];
        for (g, p) in gold.iter().zip(&pred) {
            // `none_column` is Some whenever a prediction is empty, so the fallback is never used.
            let col = p.first().copied().or(none_column).unwrap_or(0);
            matrix[g[0]][col] += 1;
        }
        let mut columns = report.labels.clone();
        if none_column.is_some() {
            columns.push(no_prediction_column(&report.labels));
        }
        report.confusion_columns = Some(columns);
        report.confusion_matrix = ConfusionMatrix::SingleLabel(matrix);
    }
    report.per_label = per_label;
    Ok(report)
}

impl Report {
    /// The metrics of one label, if it is in the report.
    pub fn label(&self, label: &str) -> Option<&LabelMetrics> {
        self.per_label.iter().find(|m| m.label == label)
    }

    /// The scalar metrics a cross-validation summary aggregates, in display order: `accuracy`,
    /// `micro_f1`, `macro_f1`, `weighted_f1`, then for multi-label reports `samples_f1`,
    /// `hamming_loss` and `subset_accuracy`.
    pub fn scalar_metrics(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![
            ("accuracy", self.accuracy),
            ("micro_f1", self.micro_f1),
            ("macro_f1", self.macro_f1),
            ("weighted_f1", self.weighted_f1),
        ];
        for (name, value) in [
            ("samples_f1", self.samples_f1),
            ("hamming_loss", self.hamming_loss),
            ("subset_accuracy", self.subset_accuracy),
        ] {
            if let Some(v) = value {
                out.push((name, v));
            }
        }
        out
    }

    /// The summary figures shown at the top of the HTML page: (name, value).
    pub(super) fn summary_rows(&self) -> Vec<(&'static str, f64)> {
        let mut rows = vec![("accuracy", self.accuracy)];
        if self.multi_label {
            rows[0].0 = "subset accuracy";
        }
        rows.extend([
            ("micro F1", self.micro_f1),
            ("macro F1", self.macro_f1),
            ("weighted F1", self.weighted_f1),
        ]);
        if let Some(v) = self.samples_f1 {
            rows.push(("samples F1", v));
        }
        if let Some(v) = self.hamming_loss {
            rows.push(("hamming loss", v));
        }
        if let Some(v) = self.label_cardinality_true {
            rows.push(("labels per doc (gold)", v));
        }
        if let Some(v) = self.label_cardinality_pred {
            rows.push(("labels per doc (predicted)", v));
        }
        rows
    }

    /// The average rows of the per-label table: (name, precision, recall, f1).
    pub(super) fn average_rows(&self) -> Vec<(&'static str, f64, f64, f64)> {
        let mut rows = vec![
            (
                "micro avg",
                self.micro_precision,
                self.micro_recall,
                self.micro_f1,
            ),
            (
                "macro avg",
                self.macro_precision,
                self.macro_recall,
                self.macro_f1,
            ),
            (
                "weighted avg",
                self.weighted_precision,
                self.weighted_recall,
                self.weighted_f1,
            ),
        ];
        if let (Some(p), Some(r), Some(f)) =
            (self.samples_precision, self.samples_recall, self.samples_f1)
        {
            rows.push(("samples avg", p, r, f));
        }
        rows
    }

    pub(super) fn total_support(&self) -> usize {
        self.per_label.iter().map(|m| m.support).sum()
    }
}
