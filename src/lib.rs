//! framelens: text classification and framing analysis of news.
pub mod classifier;
pub mod classify;
pub mod columns;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod explain;
pub mod features;
pub mod model;
pub mod text;

pub use classifier::{Classifier, ClassifierParams, Prediction};
pub use dataset::Document;
pub use error::{Error, Result};
