//! The whole fitted pipeline. Owns [`ClassifierParams`] → [`Classifier`] (vectorizer + logistic
//! model + labels + thresholds + training summary), which scores and explains documents; the
//! choice of one-vs-rest thresholds (`thresholds`); cross-validation of the pipeline and the one
//! out-of-fold loop it shares with threshold tuning (`folds`). Does not own printing, nor the
//! file format (`crate::model`).

mod folds;
mod params;
mod pipeline;
mod rates;
mod thresholds;

pub use folds::CrossValidation;
pub use params::{ClassifierParams, LabelMode, ThresholdMode};
pub use pipeline::{Classifier, Highlight, Overview, Prediction, StageTimes, TrainingSummary};
pub use rates::{Calibration, PrevalenceRates};
pub use thresholds::{
    best_f1_threshold, evidence_thresholds, tune_on_probabilities, LabelThreshold, ThresholdTuning,
    EVIDENCE_Z, MACRO_WEIGHT, TUNED_THRESHOLD_RANGE,
};

#[cfg(test)]
mod tests;
