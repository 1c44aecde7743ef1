//! Unfitted logistic-regression settings and the fit: class weights, the choice of solver, and
//! the multinomial and one-vs-rest problems handed to it.
//!
//! The default solver is L-BFGS over the sparse loss and gradient (the training matrix is never
//! made dense), its line search run on the margins `X d` of the search direction, so an iteration
//! reads the data exactly twice. Each pass is parallel and deterministic: sums are taken over
//! fixed blocks in a fixed order, so the fitted weights are the same bits with any number of
//! threads.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::fitted::{LogisticModel, ModelKind};
use super::lbfgs::lbfgs;
use super::linfa_adapter;
use super::objective::{Label, Problem};
use super::term_matrix::{with_lists, TermMatrix};
use crate::error::{Error, Result};
use crate::sparse::FactoredMatrix;

/// How training examples are weighted per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every document counts once (default).
    #[default]
    None,
    /// Weights inversely proportional to class frequency, `n / (n_classes · n_c)` as
    /// scikit-learn's `"balanced"`; in one-vs-rest, per label (positives against negatives).
    Balanced,
}

impl FromStr for ClassWeight {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(ClassWeight::None),
            "balanced" => Ok(ClassWeight::Balanced),
            _ => Err(Error::UnknownChoice {
                name: "class_weight",
                value: s.to_string(),
                expected: "`none` or `balanced`".into(),
            }),
        }
    }
}

/// Which optimiser fits the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// framelens' sparse, parallel L-BFGS (default).
    #[default]
    Lbfgs,
    /// linfa-logistic on a dense copy of the matrix: the reference implementation, for small
    /// problems only (refused above 50 million matrix cells).
    Linfa,
}

impl FromStr for Solver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "lbfgs" => Ok(Solver::Lbfgs),
            "linfa" => Ok(Solver::Linfa),
            _ => Err(Error::UnknownChoice {
                name: "solver",
                value: s.to_string(),
                expected: "`lbfgs` or `linfa`".into(),
            }),
        }
    }
}

/// Unfitted logistic-regression settings.
///
/// Defaults: `c = 10`, balanced class weights, `max_iter = 1000`, `tol = 1e-3`, L-BFGS. `c = 10`
/// suits l2-normalised TF-IDF rows (scikit-learn's default of 1 under-fits them). Balanced weights
/// (scikit-learn's default is none) scored as well or better on every reference corpus (README,
/// "Choosing settings").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// Inverse L2 regularisation strength (scikit-learn's `C`; linfa's `alpha = 1 / c`).
    pub c: f64,
    /// Class weighting. Default: balanced.
    pub class_weight: ClassWeight,
    /// Iteration limit of the solver; reaching it is reported as non-convergence.
    pub max_iter: usize,
    /// L-BFGS stops when the objective fell by less than this fraction over the last 10
    /// iterations. (For `Solver::Linfa`: its gradient tolerance.)
    pub tol: f64,
    /// The optimiser.
    pub solver: Solver,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            c: 10.0,
            class_weight: ClassWeight::Balanced,
            max_iter: 1000,
            tol: 1e-3,
            solver: Solver::Lbfgs,
        }
    }
}

/// How one optimisation ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverReport {
    /// What was fitted ("multinomial", "binary", or the label of a one-vs-rest problem).
    pub problem: String,
    /// Iterations run.
    pub iterations: usize,
    /// Evaluations of the objective: the first, then each step the line search tried (those
    /// read only the margins; every iteration reads the data twice, whatever its steps).
    pub evaluations: usize,
    /// Whether the gradient or objective criterion was met before `max_iter`.
    pub converged: bool,
    /// Final value of the scaled objective; `None` when the solver does not say (linfa).
    pub objective: Option<f64>,
    /// Final largest absolute gradient entry; `None` when the solver does not say (linfa).
    pub gradient_max: Option<f64>,
}

impl fmt::Display for SolverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(objective), Some(gradient_max)) = (self.objective, self.gradient_max) else {
            return write!(
                f,
                "{}: stopped by the solver's own rule (it reports no iterations, objective or gradient)",
                self.problem
            );
        };
        write!(
            f,
            "{}: {} iterations, {} evaluations, {} (objective {:.6}, max |gradient| {:.2e})",
            self.problem,
            self.iterations,
            self.evaluations,
            if self.converged {
                "converged"
            } else {
                "NOT converged (raise --max-iter)"
            },
            objective,
            gradient_max
        )
    }
}

impl LogisticParams {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(Error::OutOfRange {
                name: "C",
                value: self.c.to_string(),
                range: "a positive, finite number",
            });
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(Error::OutOfRange {
                name: "tol",
                value: self.tol.to_string(),
                range: "a positive number",
            });
        }
        if self.max_iter == 0 {
            return Err(Error::OutOfRange {
                name: "max_iter",
                value: "0".into(),
                range: "at least 1",
            });
        }
        Ok(())
    }

    /// Fit a single-label model: `y[i]` is the label index (0..n_labels) of row i.
    /// The matrix is consumed: the solver lays it out its own way, and training at scale should
    /// not hold both.
    pub fn fit_multiclass(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[usize],
        n_labels: usize,
    ) -> Result<(LogisticModel, Vec<SolverReport>)> {
        self.validate()?;
        let x = x.into();
        check_targets(&x, y.len())?;
        let mut counts = vec![0usize; n_labels];
        for &c in y {
            if c >= n_labels {
                return Err(Error::TargetMismatch {
                    what: "label index",
                    found: c,
                    expected: format!("below the number of labels ({n_labels})"),
                });
            }
            counts[c] += 1;
        }
        if n_labels < 2 || counts.iter().filter(|&&c| c > 0).count() < 2 {
            return Err(Error::TooFewLabels {
                found: counts.iter().filter(|&&c| c > 0).count(),
                labels: Vec::new(),
            });
        }
        let n = y.len();
        let class_w: Vec<f64> = match self.class_weight {
            ClassWeight::None => vec![1.0; n_labels],
            ClassWeight::Balanced => counts
                .iter()
                .map(|&c| {
                    // A label with no examples gets weight 0; it never occurs anyway.
                    if c == 0 {
                        0.0
                    } else {
                        n as f64 / (n_labels as f64 * c as f64)
                    }
                })
                .collect(),
        };
        let sw: Vec<f64> = y.iter().map(|&c| class_w[c]).collect();

        let n_cols = x.n_cols();
        let layout = Layout::new(x, self.solver)?;
        if n_labels == 2 {
            let yb: Vec<bool> = y.iter().map(|&c| c == 1).collect();
            let (w, b, report) = self.fit_binary(&layout, &yb, &sw, "binary")?;
            // Store ±w/2: softmax([-z/2, z/2]) = sigmoid(z).
            let mut weights = Vec::with_capacity(2 * w.len());
            for wj in &w {
                weights.push(-wj / 2.0);
                weights.push(wj / 2.0);
            }
            let model = LogisticModel {
                kind: ModelKind::Multinomial,
                n_features: n_cols,
                n_labels: 2,
                weights,
                bias: vec![-b / 2.0, b / 2.0],
            };
            return Ok((model, vec![report]));
        }

        let (weights, bias, report) = match &layout {
            Layout::Terms(xt) => {
                let (mut theta, report) = solve(xt, y, &sw, n_labels, self, "multinomial");
                let bias = theta.split_off(n_cols * n_labels);
                (theta, bias, report)
            }
            Layout::Rows(x) => linfa_adapter::fit_multinomial(x, y, &sw, n_labels, self)?,
        };
        let model = LogisticModel {
            kind: ModelKind::Multinomial,
            n_features: n_cols,
            n_labels,
            weights,
            bias,
        };
        Ok((model, vec![report]))
    }

    /// Fit one-vs-rest binary models, one per label: `y[i]` lists the label indices of row i.
    /// The matrix is consumed, as in [`LogisticParams::fit_multiclass`].
    pub fn fit_one_vs_rest(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[Vec<usize>],
        labels: &[String],
    ) -> Result<(LogisticModel, Vec<SolverReport>)> {
        self.validate()?;
        let x = x.into();
        check_targets(&x, y.len())?;
        let k = labels.len();
        let n = y.len();
        let mut columns = Vec::with_capacity(k);
        for (label, name) in labels.iter().enumerate() {
            let yb: Vec<bool> = y.iter().map(|ls| ls.contains(&label)).collect();
            let pos = yb.iter().filter(|&&b| b).count();
            if pos == 0 || pos == n {
                return Err(Error::OneSidedLabel {
                    label: name.clone(),
                    positives: pos,
                    n,
                });
            }
            let sw: Vec<f64> = match self.class_weight {
                ClassWeight::None => vec![1.0; n],
                ClassWeight::Balanced => {
                    let (wp, wn) = (
                        n as f64 / (2.0 * pos as f64),
                        n as f64 / (2.0 * (n - pos) as f64),
                    );
                    yb.iter().map(|&b| if b { wp } else { wn }).collect()
                }
            };
            columns.push((yb, sw, name.clone()));
        }
        let n_cols = x.n_cols();
        let layout = Layout::new(x, self.solver)?;
        let fitted: Vec<(Vec<f64>, f64, SolverReport)> = columns
            .iter()
            .map(|(yb, sw, name)| self.fit_binary(&layout, yb, sw, name))
            .collect::<Result<_>>()?;
        let mut weights = vec![0.0; n_cols * k];
        let mut bias = vec![0.0; k];
        let mut reports = Vec::with_capacity(k);
        for (label, (w, b, r)) in fitted.into_iter().enumerate() {
            for (j, wj) in w.into_iter().enumerate() {
                weights[j * k + label] = wj;
            }
            bias[label] = b;
            reports.push(r);
        }
        Ok((
            LogisticModel {
                kind: ModelKind::OneVsRest,
                n_features: n_cols,
                n_labels: k,
                weights,
                bias,
            },
            reports,
        ))
    }

    /// One binary logistic regression: returns (w, b, report).
    fn fit_binary(
        &self,
        layout: &Layout,
        y: &[bool],
        sw: &[f64],
        name: &str,
    ) -> Result<(Vec<f64>, f64, SolverReport)> {
        match layout {
            Layout::Terms(xt) => {
                let (mut theta, report) = solve(xt, y, sw, 1, self, name);
                let b = theta.pop().expect("bias is the last parameter");
                Ok((theta, b, report))
            }
            Layout::Rows(x) => linfa_adapter::fit_binary(x, y, sw, self, name),
        }
    }
}

/// The training matrix in the solver's own layout, chosen once from [`Solver`]: the term lists
/// L-BFGS reads (the rows are dropped once they are built), or the rows themselves, which the
/// linfa adapter makes dense.
enum Layout {
    Terms(TermMatrix),
    Rows(FactoredMatrix),
}

impl Layout {
    fn new(x: FactoredMatrix, solver: Solver) -> Result<Layout> {
        Ok(match solver {
            Solver::Lbfgs => Layout::Terms(TermMatrix::new(x)?),
            Solver::Linfa => Layout::Rows(x),
        })
    }
}

/// Fit one problem with L-BFGS from zero: k margins per document (k = 1: binary labels).
fn solve<Y: Label>(
    xt: &TermMatrix,
    y: &[Y],
    sw: &[f64],
    k: usize,
    params: &LogisticParams,
    name: &str,
) -> (Vec<f64>, SolverReport) {
    let theta = vec![0.0; (xt.n_terms() + 1) * k];
    with_lists!(xt, x => {
        let (theta, report) = lbfgs(&Problem::new(x, y, sw, k, params.c), theta, params, name);
        (in_term_order(x.order(), &theta, k), report)
    })
}

/// Parameters laid out by stored position (k per term, then anything after them, such as the
/// biases) put back in term id order: position p holds term `order[p]`.
pub(super) fn in_term_order(order: &[u32], by_position: &[f64], k: usize) -> Vec<f64> {
    let mut out = by_position.to_vec();
    for (p, &j) in order.iter().enumerate() {
        let j = j as usize;
        out[j * k..(j + 1) * k].copy_from_slice(&by_position[p * k..(p + 1) * k]);
    }
    out
}

fn check_targets(x: &FactoredMatrix, n: usize) -> Result<()> {
    if x.n_rows() != n {
        return Err(Error::TargetMismatch {
            what: "targets",
            found: n,
            expected: format!("one per row ({})", x.n_rows()),
        });
    }
    if n == 0 {
        return Err(Error::EmptyCorpus {
            what: "training logistic regression",
        });
    }
    Ok(())
}
