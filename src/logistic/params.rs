//! Unfitted logistic-regression settings and the fit: class weights, the choice of solver, and
//! the multinomial and one-vs-rest problems handed to it.
//!
//! The default solver is L-BFGS over the sparse loss and gradient (the training matrix is never
//! made dense), its line search run on the margins `X d` of the search direction, so an iteration
//! reads the data exactly twice. Each pass is parallel and deterministic: sums are taken over
//! fixed blocks in a fixed order, so the fitted weights are the same bits with any number of
//! threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::fitted::{sigmoid, softmax, LogisticModel, ModelKind};
use super::lanes::{groups_at_once, lanes_for, lbfgs_lanes, LaneSpec};
use super::lbfgs::{lbfgs, Precond, M};
use super::linfa_adapter;
use super::objective::{margin_copies, Label, Objective, Problem, TERM_BLOCKS};
use super::term_matrix::{with_lists, DocIndex, TermLists, TermMatrix};
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
    /// Bytes a fit may hold (the binary passes the memory available to it); a multinomial fit
    /// that needs more is refused before it starts instead of being killed midway. Not part of
    /// the model: never saved.
    #[serde(skip)]
    pub memory_limit: Option<u64>,
    /// Where the solver posts how far it got (for a progress display). Not a setting: never
    /// saved, and equal to every other.
    #[serde(skip)]
    pub progress: Progress,
}

/// The latest status line of a long fit ("multinomial: iteration 12, objective 0.933"), shared
/// by its clones: the solver sets it, a display reads it. The default posts nowhere.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<std::sync::Mutex<String>>>);

impl Progress {
    /// A handle that keeps what is posted.
    pub fn new() -> Progress {
        Progress(Some(Default::default()))
    }

    /// Post a status line (built only when someone keeps it).
    pub fn post(&self, line: impl FnOnce() -> String) {
        if let Some(m) = &self.0 {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = line();
        }
    }

    /// The latest status line, if any was posted.
    pub fn latest(&self) -> Option<String> {
        let m = self.0.as_ref()?;
        let s = m.lock().unwrap_or_else(|e| e.into_inner());
        (!s.is_empty()).then(|| s.clone())
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress")
    }
}

impl PartialEq for Progress {
    fn eq(&self, _: &Progress) -> bool {
        true
    }
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            c: 10.0,
            class_weight: ClassWeight::Balanced,
            max_iter: 1000,
            tol: 1e-3,
            solver: Solver::Lbfgs,
            memory_limit: None,
            progress: Progress::default(),
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
        let (model, reports, _) = self.fit_multiclass_held_out(x, y, n_labels, None)?;
        Ok((model, reports))
    }

    /// [`LogisticParams::fit_multiclass`], and with `held_out` the out-of-fold probabilities of
    /// every row (n × n_labels, row-major): see [`HeldOut`].
    pub fn fit_multiclass_held_out(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[usize],
        n_labels: usize,
        held_out: Option<&HeldOut>,
    ) -> Result<(LogisticModel, Vec<SolverReport>, Option<Vec<f64>>)> {
        self.validate()?;
        if let Some(h) = held_out {
            h.check(y.len())?;
        }
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
        let fold_weights = |f: usize, folds: &[usize]| self.fold_weights(y, n_labels, folds, f);

        let n_cols = x.n_cols();
        let layout = Layout::new(x, self.solver)?;
        if n_labels == 2 {
            let yb: Vec<bool> = y.iter().map(|&c| c == 1).collect();
            let held = held_out.map(|h| (h, &fold_weights as &FoldWeights));
            let (w, b, report, oof) = self.fit_binary(&layout, &yb, &sw, "binary", held)?;
            // P(label 1) = sigmoid(margin).
            let oof = oof.map(|m| {
                m.iter()
                    .flat_map(|&z| {
                        let p = sigmoid(z);
                        [1.0 - p, p]
                    })
                    .collect()
            });
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
            return Ok((model, vec![report], oof));
        }

        let (weights, bias, report, oof) = match &layout {
            Layout::Terms(xt) => {
                let needed = multinomial_bytes(n, xt.n_terms(), n_labels, held_out.is_some());
                if let Some(limit) = self.memory_limit.filter(|&l| needed > l) {
                    return Err(Error::TooLarge {
                        what: format!(
                            "a multinomial fit of {n} documents × {n_labels} labels over {} terms",
                            xt.n_terms()
                        ),
                        needed,
                        available: limit,
                    });
                }
                let held = held_out.map(|h| (h, &fold_weights as &FoldWeights));
                let (mut theta, report, oof) =
                    solve(xt, y, &sw, n_labels, self, "multinomial", held);
                let bias = theta.split_off(n_cols * n_labels);
                // In place: the out-of-fold margins become probabilities.
                let oof = oof.map(|mut m| {
                    m.chunks_mut(n_labels)
                        .for_each(|row| row.copy_from_slice(&softmax(row)));
                    m
                });
                (theta, bias, report, oof)
            }
            Layout::Rows(x) => {
                refuse_held_out(held_out)?;
                let (w, b, r) = linfa_adapter::fit_multinomial(x, y, &sw, n_labels, self)?;
                (w, b, r, None)
            }
        };
        let model = LogisticModel {
            kind: ModelKind::Multinomial,
            n_features: n_cols,
            n_labels,
            weights,
            bias,
        };
        Ok((model, vec![report], oof))
    }

    /// Fit one-vs-rest binary models, one per label: `y[i]` lists the label indices of row i.
    /// The matrix is consumed, as in [`LogisticParams::fit_multiclass`].
    pub fn fit_one_vs_rest(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[Vec<usize>],
        labels: &[String],
    ) -> Result<(LogisticModel, Vec<SolverReport>)> {
        let (model, reports, _) = self.fit_one_vs_rest_held_out(x, y, labels, None)?;
        Ok((model, reports))
    }

    /// [`LogisticParams::fit_one_vs_rest`], and with `held_out` the out-of-fold probability of
    /// every row and label (n × labels, row-major): see [`HeldOut`].
    pub fn fit_one_vs_rest_held_out(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[Vec<usize>],
        labels: &[String],
        held_out: Option<&HeldOut>,
    ) -> Result<(LogisticModel, Vec<SolverReport>, Option<Vec<f64>>)> {
        self.fit_one_vs_rest_from(x, y, labels, held_out, None)
    }

    /// [`LogisticParams::fit_one_vs_rest`] with L-BFGS started from `start`'s weights and biases
    /// instead of zero: a one-vs-rest model of the same features and labels (for instance the
    /// model of more documents, its terms mapped onto these columns). The optimum is the same
    /// (the objective is strictly convex); the start only changes how far the solver has to go.
    /// The linfa solver starts from zero.
    pub fn fit_one_vs_rest_warm(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[Vec<usize>],
        labels: &[String],
        start: &LogisticModel,
    ) -> Result<(LogisticModel, Vec<SolverReport>)> {
        let (model, reports, _) = self.fit_one_vs_rest_from(x, y, labels, None, Some(start))?;
        Ok((model, reports))
    }

    fn fit_one_vs_rest_from(
        &self,
        x: impl Into<FactoredMatrix>,
        y: &[Vec<usize>],
        labels: &[String],
        held_out: Option<&HeldOut>,
        start: Option<&LogisticModel>,
    ) -> Result<(LogisticModel, Vec<SolverReport>, Option<Vec<f64>>)> {
        self.validate()?;
        if let Some(h) = held_out {
            h.check(y.len())?;
        }
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
        if let Some(m) = start {
            if m.kind != ModelKind::OneVsRest || m.n_features != n_cols || m.n_labels != k {
                return Err(Error::TargetMismatch {
                    what: "start model",
                    found: m.n_features,
                    expected: format!("a one-vs-rest model of {n_cols} features and {k} labels"),
                });
            }
        }
        let layout = Layout::new(x, self.solver)?;
        if let Layout::Rows(_) = layout {
            refuse_held_out(held_out)?;
        }
        let mut weights = vec![0.0; n_cols * k];
        let mut bias = vec![0.0; k];
        let mut reports = Vec::with_capacity(k);
        let mut oof = held_out.map(|_| vec![0.0; n * k]);
        // Labels are fitted in groups: with L-BFGS, side by side (one data pass per iteration for
        // the whole group: see `lanes`), the groups as even as the lane limit allows, and several
        // groups at once (up to the threads) while their solver states fit the lanes' memory
        // together (small problems, whose passes are too short to share out); with linfa, as many
        // labels at a time as there are threads. Every fit is deterministic and independent of
        // its group's other labels, so the model does not depend on the thread count; at most
        // one batch of groups' fits is held before they are copied into the model.
        let threads = rayon::current_num_threads().max(1);
        let (per_group, at_once) = match &layout {
            Layout::Terms(xt) => {
                let per_group = lanes_for(n, xt.n_terms());
                (
                    per_group,
                    groups_at_once(n, xt.n_terms(), per_group, threads),
                )
            }
            Layout::Rows(_) => (threads, 1),
        };
        let n_groups = k.div_ceil(per_group);
        let range = |g: usize| g * k / n_groups..(g + 1) * k / n_groups;
        for batch in (0..n_groups).collect::<Vec<_>>().chunks(at_once) {
            let batch_fits: Vec<Vec<Result<BinaryFit>>> = batch
                .par_iter()
                .map(|&g| {
                    let group = &columns[range(g)];
                    match &layout {
                        Layout::Terms(xt) => {
                            self.fit_lanes(xt, group, range(g).start, held_out, start)
                        }
                        Layout::Rows(_) => group
                            .par_iter()
                            .map(|(yb, sw, name)| self.fit_binary(&layout, yb, sw, name, None))
                            .collect(),
                    }
                })
                .collect();
            let first = range(batch[0]).start;
            let fits = batch_fits.into_iter().flatten();
            for (i, fit) in fits.enumerate() {
                let label = first + i;
                let yb = &columns[label].0;
                let (w, b, r, margins) = fit?;
                for (j, wj) in w.into_iter().enumerate() {
                    weights[j * k + label] = wj;
                }
                bias[label] = b;
                reports.push(r);
                if let (Some(out), Some(h), Some(m)) = (oof.as_mut(), held_out, margins) {
                    let sides = h.one_sided(yb);
                    for (i, z) in m.into_iter().enumerate() {
                        // A fold whose other folds hold no positive (or no negative) example of
                        // the label cannot learn it: probability 0 (or 1) for its rows.
                        out[i * k + label] = match sides[h.folds[i]] {
                            Some(side) => side as u8 as f64,
                            None => sigmoid(z),
                        };
                    }
                }
            }
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
            oof,
        ))
    }

    /// The sample weights of fold f's refit, for rows of classes `y` (0..classes; a binary label
    /// is classes 0 and 1): 0 on fold f's own rows; on the others, the class weights recomputed
    /// over them alone: 1, or balanced, `n_f / (classes · n_f,c)` for a row of class c (n_f rows
    /// outside fold f, n_f,c of them of class c).
    fn fold_weights<T: Copy>(&self, y: &[T], classes: usize, folds: &[usize], f: usize) -> Vec<f64>
    where
        usize: From<T>,
    {
        let mut counts = vec![0usize; classes];
        for (&c, &g) in y.iter().zip(folds) {
            if g != f {
                counts[usize::from(c)] += 1;
            }
        }
        let n_f: usize = counts.iter().sum();
        y.iter()
            .zip(folds)
            .map(|(&c, &g)| match (g == f, self.class_weight) {
                (true, _) => 0.0,
                (false, ClassWeight::None) => 1.0,
                (false, ClassWeight::Balanced) => {
                    n_f as f64 / (classes as f64 * counts[usize::from(c)] as f64)
                }
            })
            .collect()
    }

    /// One group of one-vs-rest labels (at most [`LANES`](super::lanes::LANES); `first` is the
    /// first one's index) fitted side by side with L-BFGS, from zero or from `start`; with
    /// `held_out`, each fold then refits the group from those fits, side by side too.
    fn fit_lanes(
        &self,
        xt: &TermMatrix,
        group: &[(Vec<bool>, Vec<f64>, String)],
        first: usize,
        held_out: Option<&HeldOut>,
        start: Option<&LogisticModel>,
    ) -> Vec<Result<BinaryFit>> {
        with_lists!(xt, x => {
            let specs: Vec<LaneSpec> = group
                .iter()
                .enumerate()
                .map(|(i, (y, sw, name))| LaneSpec {
                    y,
                    sw,
                    name,
                    start: start.map(|m| {
                        // Stored position p holds term order[p]; the bias goes last.
                        let (k, label) = (m.n_labels, first + i);
                        let mut theta: Vec<f64> =
                            x.order().iter().map(|&j| m.weights[j as usize * k + label]).collect();
                        theta.push(m.bias[label]);
                        theta
                    }),
                })
                .collect();
            let fitted = lbfgs_lanes(x, &specs, self, None);
            let mut oof = held_out.map(|h| self.refit_lanes(x, group, &fitted, h));
            fitted
                .into_iter()
                .enumerate()
                .map(|(i, (theta, report))| {
                    let margins = oof.as_mut().map(|o| std::mem::take(&mut o[i]));
                    let mut theta = in_term_order(x.order(), &theta, 1);
                    let b = theta.pop().expect("bias is the last parameter");
                    Ok((theta, b, report, margins))
                })
                .collect()
        })
    }

    /// [`refit_folds`] for a group of one-vs-rest labels side by side: fold by fold, every
    /// label refit from its full fit (`fitted`, by stored position) with the fold's weights and
    /// frozen terms; each label's out-of-fold margins, in the group's order. Each label's refit
    /// is its [`refit_folds`] refit, bit for bit.
    fn refit_lanes<I: DocIndex>(
        &self,
        x: &TermLists<I>,
        group: &[(Vec<bool>, Vec<f64>, String)],
        fitted: &[(Vec<f64>, SolverReport)],
        held_out: &HeldOut,
    ) -> Vec<Vec<f64>> {
        let folds = held_out.folds;
        let n = folds.len();
        let mut out = vec![vec![0.0; n]; group.len()];
        let refit = LogisticParams {
            max_iter: self.max_iter.min(REFIT_ITERATIONS),
            ..self.clone()
        };
        for f in 0..held_out.k {
            let frozen = frozen_terms(x, held_out, f);
            let weights: Vec<Vec<f64>> = group
                .iter()
                .map(|(y, _, _)| self.fold_weights(y, 2, folds, f))
                .collect();
            let names: Vec<String> = group
                .iter()
                .map(|(_, _, name)| format!("{name} without fold {}/{}", f + 1, held_out.k))
                .collect();
            let specs: Vec<LaneSpec> = group
                .iter()
                .zip(&weights)
                .zip(&names)
                .zip(fitted)
                .map(|((((y, _, _), sw), name), (theta, _))| {
                    let mut start = theta.clone();
                    for (p, _) in frozen.iter().enumerate().filter(|(_, &fr)| fr) {
                        start[p] = 0.0;
                    }
                    LaneSpec {
                        y,
                        sw,
                        name,
                        start: Some(start),
                    }
                })
                .collect();
            let refits = lbfgs_lanes(x, &specs, &refit, Some(&frozen));
            out.par_iter_mut()
                .zip(&refits)
                .zip(group.par_iter().zip(&weights))
                .for_each(|((out, (theta, _)), ((y, _, _), sw))| {
                    let mut z = vec![0.0; n];
                    Problem::new(x, y, sw, 1, self.c).margins(theta, &mut z);
                    for (i, _) in folds.iter().enumerate().filter(|&(_, &g)| g == f) {
                        out[i] = z[i];
                    }
                });
        }
        out
    }

    /// One binary logistic regression: returns (w, b, report) and with `held_out` every row's
    /// out-of-fold margin.
    fn fit_binary(
        &self,
        layout: &Layout,
        y: &[bool],
        sw: &[f64],
        name: &str,
        held_out: Option<(&HeldOut, &FoldWeights)>,
    ) -> Result<BinaryFit> {
        match layout {
            Layout::Terms(xt) => {
                let (mut theta, report, oof) = solve(xt, y, sw, 1, self, name, held_out);
                let b = theta.pop().expect("bias is the last parameter");
                Ok((theta, b, report, oof))
            }
            Layout::Rows(x) => {
                refuse_held_out(held_out.map(|h| h.0))?;
                let (w, b, r) = linfa_adapter::fit_binary(x, y, sw, self, name)?;
                Ok((w, b, r, None))
            }
        }
    }
}

/// A binary fit: weights, bias, how the solver ended, out-of-fold margins when asked.
type BinaryFit = (Vec<f64>, f64, SolverReport, Option<Vec<f64>>);

/// The sample weights of fold f's refit, given the folds of the rows.
type FoldWeights<'a> = dyn Fn(usize, &[usize]) -> Vec<f64> + Sync + 'a;

/// Out-of-fold estimates asked of a fit: row i belongs to fold `folds[i]` (0..k). After the fit
/// on all rows, each fold f is refit on the other folds' rows (sample weight 0 on its own rows,
/// class weights recomputed over the others) and scores its own rows. The refit starts from the
/// full fit's weights and keeps at 0 the weights of terms in fewer than `min_rows` of the other
/// folds' rows: the vocabulary a model trained on those rows alone would have had (a term seen
/// once outside fold f would otherwise carry that one document's label into fold f's scores).
/// The TF-IDF matrix is the full data's, which costs one vectorisation instead of k + 1.
#[derive(Debug, Clone, Copy)]
pub struct HeldOut<'a> {
    /// The fold of each row.
    pub folds: &'a [usize],
    /// Number of folds (2..=64).
    pub k: usize,
    /// A term takes part in a fold's refit when it occurs in at least this many of its training
    /// rows (the vocabulary's minimum document frequency; at least 1).
    pub min_rows: f64,
}

impl HeldOut<'_> {
    fn check(&self, n: usize) -> Result<()> {
        if self.folds.len() != n {
            return Err(Error::TargetMismatch {
                what: "folds",
                found: self.folds.len(),
                expected: format!("one per row ({n})"),
            });
        }
        if !(2..=64).contains(&self.k) || self.folds.iter().any(|&f| f >= self.k) {
            return Err(Error::OutOfRange {
                name: "held-out folds",
                value: self.k.to_string(),
                range: "2 to 64 folds, every row in one of them",
            });
        }
        Ok(())
    }

    /// Per fold f: `Some(true)` when every row outside fold f is a positive of `y`,
    /// `Some(false)` when none is, else `None`. One pass over the rows (not one per fold).
    fn one_sided(&self, y: &[bool]) -> Vec<Option<bool>> {
        // Rows and positives per fold.
        let mut rows = vec![[0usize; 2]; self.k];
        for (&b, &g) in y.iter().zip(self.folds) {
            rows[g][0] += 1;
            rows[g][1] += usize::from(b);
        }
        let (n, pos) = (y.len(), rows.iter().map(|r| r[1]).sum::<usize>());
        rows.iter()
            .map(|r| match (pos - r[1], n - r[0]) {
                (0, _) => Some(false),
                (p, others) if p == others => Some(true),
                _ => None,
            })
            .collect()
    }
}

fn refuse_held_out(held_out: Option<&HeldOut>) -> Result<()> {
    match held_out {
        None => Ok(()),
        Some(_) => Err(Error::OutOfRange {
            name: "solver",
            value: "linfa".into(),
            range: "lbfgs when out-of-fold rates are estimated (or 0 rate folds)",
        }),
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

/// Fit one problem with L-BFGS from zero: k margins per document (k = 1: binary labels). With
/// `held_out`, also each row's out-of-fold margins (n × k): see [`HeldOut`].
fn solve<Y: Label>(
    xt: &TermMatrix,
    y: &[Y],
    sw: &[f64],
    k: usize,
    params: &LogisticParams,
    name: &str,
    held_out: Option<(&HeldOut, &FoldWeights)>,
) -> (Vec<f64>, SolverReport, Option<Vec<f64>>) {
    let theta = vec![0.0; (xt.n_terms() + 1) * k];
    with_lists!(xt, x => {
        let (theta, report) = lbfgs(&Problem::new(x, y, sw, k, params.c), theta, params, name);
        let oof = held_out.map(|(h, weights)| refit_folds(x, y, &theta, k, params, name, h, weights));
        (in_term_order(x.order(), &theta, k), report, oof)
    })
}

/// An objective whose frozen terms' weights never move: their gradient is reported as 0. With
/// those weights at 0 at the start, L-BFGS keeps them there (its directions are combinations of
/// the gradients and of steps that are 0 in those coordinates, scaled by a diagonal).
struct Frozen<'a, O> {
    inner: &'a O,
    /// Per stored term position.
    frozen: &'a [bool],
    k: usize,
}

impl<O: Objective> Objective for Frozen<'_, O> {
    fn margins_len(&self) -> usize {
        self.inner.margins_len()
    }
    fn n_weights(&self) -> usize {
        self.inner.n_weights()
    }
    fn reg(&self) -> f64 {
        self.inner.reg()
    }
    fn margins(&self, theta: &[f64], z: &mut [f64]) {
        self.inner.margins(theta, z)
    }
    fn line(&self, z: &[f64], zd: &[f64], a: f64) -> f64 {
        self.inner.line(z, zd, a)
    }
    fn gradient(&self, z: &[f64], theta: &[f64], grad: &mut [f64], scratch: &mut [f64]) -> f64 {
        let f = self.inner.gradient(z, theta, grad, scratch);
        let k = self.k;
        grad[..self.frozen.len() * k]
            .par_chunks_mut(k * 1024)
            .zip(self.frozen.par_chunks(1024))
            .for_each(|(g, fr)| {
                for (g, &fr) in g.chunks_mut(k).zip(fr) {
                    if fr {
                        g.fill(0.0);
                    }
                }
            });
        f
    }
    fn preconditioner(&self) -> Precond {
        self.inner.preconditioner()
    }
}

/// The peak bytes of [`solve`] for k > 1, past the training matrix (8 bytes per f64):
/// - the margins and their direction, 2 n × k (the residuals reuse the direction's), and the
///   margins pass's copies (at most `MARGIN_BYTES`);
/// - L-BFGS' parameters, gradient and direction, 3 × dim in f64 (the new gradient reuses the
///   direction's; the preconditioner has one value per term), and its M step and
///   gradient-change pairs, 2M × dim in f32; dim = (terms + 1) k;
/// - with held-out folds, the full fit kept beside a fold's refit (dim) and the out-of-fold
///   margins (n × k), or the error rates' phase after the fit when that holds more.
pub(super) fn multinomial_bytes(n: usize, terms: usize, k: usize, held_out: bool) -> u64 {
    let (n, terms, k) = (n as u64, terms as u64, k as u64);
    let nk = n * k;
    let dim = (terms + 1) * k;
    let copies = match margin_copies(n as usize, k as usize, TERM_BLOCKS) as u64 {
        1 => 0,
        g => g * nk * 8,
    };
    let mut bytes = 2 * nk * 8 + copies + 3 * dim * 8 + (terms + 1) * 8 + 2 * M as u64 * dim * 4;
    if held_out {
        bytes += dim * 8 + nk * 8;
        // After the fit, the rates: the out-of-fold probabilities, their calibrated copy, and the
        // calibration's log-probabilities and probabilities (4 n × k), beside the model (dim) and
        // the two k × k rate matrices.
        bytes = bytes.max(4 * nk * 8 + dim * 8 + 2 * k * k * 8);
    }
    bytes
}

/// Iteration cap of a fold's refit. Started from the full fit, a refit moves little: its held-out
/// predictions after this many iterations are those of the converged refit up to a few in a
/// thousand documents (BENCHMARKS.md, "Prevalence"), at a third of the cost.
const REFIT_ITERATIONS: usize = 10;

/// The out-of-fold margins of [`HeldOut`]: `theta` is the full fit, by stored position.
#[allow(clippy::too_many_arguments)]
fn refit_folds<Y: Label, I: DocIndex>(
    x: &TermLists<I>,
    y: &[Y],
    theta: &[f64],
    k: usize,
    params: &LogisticParams,
    name: &str,
    held_out: &HeldOut,
    weights: &FoldWeights,
) -> Vec<f64> {
    let folds = held_out.folds;
    let mut out = vec![0.0; folds.len() * k];
    let refit = LogisticParams {
        max_iter: params.max_iter.min(REFIT_ITERATIONS),
        ..params.clone()
    };
    for f in 0..held_out.k {
        let sw = weights(f, folds);
        let frozen = frozen_terms(x, held_out, f);
        let mut start = theta.to_vec();
        for (p, _) in frozen.iter().enumerate().filter(|(_, &fr)| fr) {
            start[p * k..(p + 1) * k].fill(0.0);
        }
        let problem = Problem::new(x, y, &sw, k, params.c);
        let masked = Frozen {
            inner: &problem,
            frozen: &frozen,
            k,
        };
        let label = format!("{name} without fold {}/{}", f + 1, held_out.k);
        let (fitted, _) = lbfgs(&masked, start, &refit, &label);
        // Allocated once the refit's own buffers are freed: n × k fewer at the peak.
        let mut z = vec![0.0; folds.len() * k];
        problem.margins(&fitted, &mut z);
        for (i, _) in folds.iter().enumerate().filter(|&(_, &g)| g == f) {
            out[i * k..(i + 1) * k].copy_from_slice(&z[i * k..(i + 1) * k]);
        }
    }
    out
}

/// The terms fold f's refit keeps at 0 (by stored position): those in fewer than
/// `min_rows` of the other folds' rows.
fn frozen_terms<I: DocIndex>(x: &TermLists<I>, held_out: &HeldOut, f: usize) -> Vec<bool> {
    let folds = held_out.folds;
    (0..x.n_terms())
        .into_par_iter()
        .map(|p| {
            let (ones, docs, _) = x.term(p);
            let rows = ones
                .iter()
                .chain(docs)
                .filter(|d| folds[d.index()] != f)
                .count();
            (rows as f64) < held_out.min_rows.max(1.0)
        })
        .collect()
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
