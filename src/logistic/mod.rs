//! Logistic regression on sparse TF-IDF rows. Owns: [`LogisticParams`] → [`LogisticModel`]
//! (multinomial softmax, or one-vs-rest sigmoids), L2 regularisation, class weights; behind it,
//! private: the loss and its data passes, L-BFGS, the solver's term-matrix layout (built from a
//! neutral [`crate::sparse::FactoredMatrix`]) and the linfa adapter. Does not own file formats,
//! label names or decision thresholds.
//!
//! The objective is scikit-learn's, scaled by the total sample weight S so that the tolerance
//! means the same on any corpus size (`b` is not penalised; linfa's `alpha` is `1 / C`):
//! `f(W, b) = (1/S) Σ_i s_i · loss(y_i, W x_i + b) + (1 / (2 C S)) ‖W‖²`.

mod fitted;
mod lanes;
mod lbfgs;
mod linfa_adapter;
mod objective;
mod params;
mod term_matrix;

pub use fitted::{sigmoid, softmax, LogisticModel, ModelKind};
pub use params::{ClassWeight, HeldOut, LogisticParams, Progress, Solver, SolverReport};

#[cfg(test)]
mod tests;
