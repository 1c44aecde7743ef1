//! Evaluation of predicted labels against gold labels. Owns the metrics (one F1), the test
//! [`Report`] (serde data for JSON; rendered as text tables and one HTML page in `render`), the
//! assignment of documents to cross-validation folds and the summary of per-fold reports.
//! Does not own training: it works on label *strings*, so it can score predictions made by any
//! tool. The figures follow scikit-learn's `classification_report`, `hamming_loss`,
//! `accuracy_score` and `(multilabel_)confusion_matrix`; unit tests compare them with sklearn's.

mod folds;
mod metrics;
mod render;

pub use folds::{stratified_folds, summarize_folds, CvSummary, MetricSummary};
pub use metrics::{evaluate, f1, ConfusionMatrix, LabelMetrics, Report, NO_PREDICTION};
pub use render::html_escape;
pub(crate) use render::MATRIX_LABELS;

#[cfg(test)]
mod tests;
