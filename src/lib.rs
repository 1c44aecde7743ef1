//! framelens: text classification and framing analysis of news.
pub mod classify;
pub mod dataset;
pub mod error;
pub mod eval;
pub mod features;
pub mod text;

pub use dataset::Document;
pub use error::{Error, Result};
