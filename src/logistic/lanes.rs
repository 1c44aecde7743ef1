//! One-vs-rest labels fitted side by side: each label runs its own L-BFGS, iteration for
//! iteration the one [`lbfgs`](super::lbfgs::lbfgs) runs for it alone (its own history,
//! step, and convergence), while the two data passes of an iteration read the matrix once for
//! every label still running.
//!
//! Invariant: a label's weights, report and every intermediate value are those of
//! `lbfgs(&Problem::new(x, y, sw, 1, c), start, ..)` (through `Frozen` when terms are frozen)
//! bit for bit, whatever the other labels beside it (their columns never mix: see
//! [`WidePasses`]), as long as the margins pass cuts the terms into as many groups for the
//! side-by-side width as for one column (up to about 60k documents at 8 labels; past that, fewer
//! copies of the margins and another summation order). A label whose solver state alone passes
//! the lanes' budget runs alone, so memory stays that of one label's fit.
//!
//! Why: one label's pass loads every entry's document index to do one multiply-add; reading it
//! once for eight labels spreads that load (and the pass's fixed costs) over eight.

use rayon::prelude::*;

use super::lbfgs::{armijo_step, norms, DirectionDots, History};
use super::objective::{Objective, Problem, WidePasses};
use super::params::{LogisticParams, SolverReport};
use super::term_matrix::{DocIndex, TermLists};

/// The most labels fitted side by side (the widest pass kernel).
pub(super) const LANES: usize = 8;

/// The labels a group fits side by side: at most [`LANES`], and fewer when their L-BFGS state
/// (parameters, gradient and direction in f64, the history in f32, two margin vectors) would
/// pass `LANE_BYTES` together; at least one. Depends on the data's shape only (and the fits do
/// not depend on it at all).
pub(super) fn lanes_for(n_docs: usize, n_terms: usize) -> usize {
    (LANE_BYTES / lane_bytes(n_docs, n_terms).max(1)).clamp(1, LANES as u64) as usize
}

/// How many groups of `per_group` side-by-side labels to fit at once (at most `threads`): as
/// many as keep their solver states within `LANE_BYTES` together. Small problems' passes are
/// too short to share out between threads, so their groups run in parallel instead; a large
/// problem's groups run one after the other, each pass parallel.
pub(super) fn groups_at_once(
    n_docs: usize,
    n_terms: usize,
    per_group: usize,
    threads: usize,
) -> usize {
    let group = lane_bytes(n_docs, n_terms) * per_group.max(1) as u64;
    (LANE_BYTES / group.max(1)).clamp(1, threads.max(1) as u64) as usize
}

/// The solver state of one side-by-side label.
fn lane_bytes(n_docs: usize, n_terms: usize) -> u64 {
    let dim = n_terms as u64 + 1;
    dim * (3 * 8 + 2 * super::lbfgs::M as u64 * 4) + 2 * n_docs as u64 * 8
}

/// Memory the side-by-side labels' solver state may take: about a last-level cache. Every
/// iteration streams each label's history; past the cache, more labels side by side save data
/// passes but wait on memory instead (BENCHMARKS.md, "Multi-label training speed").
const LANE_BYTES: u64 = 32 << 20;

/// One label of the group: its problem (k = 1, used for its line search, residuals and
/// preconditioner; the data passes are the group's) and its L-BFGS state.
struct Lane<'a, I> {
    problem: Problem<'a, bool, I>,
    name: &'a str,
    theta: Vec<f64>,
    grad: Vec<f64>,
    /// The direction; after a step, the new gradient.
    dir: Vec<f64>,
    z: Vec<f64>,
    /// The direction's margins; after a step, the residuals.
    zd: Vec<f64>,
    hist: History,
    f: f64,
    gmax: f64,
    pgnorm: f64,
    recent: Vec<f64>,
    iterations: usize,
    evaluations: usize,
    converged: bool,
    dots: DirectionDots,
    /// The history slot of this iteration's step, when it took one.
    slot: Option<usize>,
}

/// A label to fit: its targets, sample weights, name, and where its L-BFGS starts (w by stored
/// position, then b; `None`: zero).
pub(super) struct LaneSpec<'a> {
    pub(super) y: &'a [bool],
    pub(super) sw: &'a [f64],
    pub(super) name: &'a str,
    pub(super) start: Option<Vec<f64>>,
}

/// Fit every label of `specs` (at most [`LANES`]): its parameters (w by stored position, then
/// b) and report, in order.
///
/// `frozen` (by stored position): terms whose weights never move, their gradient reported as 0,
/// as [`Frozen`](super::params) does for one problem (with those weights at 0 in the start, they
/// stay there).
pub(super) fn lbfgs_lanes<I: DocIndex>(
    xt: &TermLists<I>,
    specs: &[LaneSpec<'_>],
    params: &LogisticParams,
    frozen: Option<&[bool]>,
) -> Vec<(Vec<f64>, SolverReport)> {
    const FTOL: f64 = 64.0 * f64::EPSILON;
    const WINDOW: usize = 10;
    assert!((1..=LANES).contains(&specs.len()), "1..=LANES labels");
    let (n, terms) = (xt.n_docs(), xt.n_terms());
    let dim = terms + 1;
    let mut passes = WidePasses::new(xt, specs.len());
    let mut lanes: Vec<Lane<I>> = specs
        .iter()
        .map(|s| {
            // One group of terms: the lane's own problem never runs the margins pass.
            let problem = Problem::grouped(xt, s.y, s.sw, 1, params.c, 1);
            let hist = History::new(problem.preconditioner());
            Lane {
                problem,
                name: s.name,
                theta: match &s.start {
                    Some(start) => {
                        assert_eq!(start.len(), dim, "a start has the problem's dimension");
                        start.clone()
                    }
                    None => vec![0.0; dim],
                },
                grad: vec![0.0; dim],
                dir: vec![0.0; dim],
                z: vec![0.0; n],
                zd: vec![0.0; n],
                hist,
                f: 0.0,
                gmax: 0.0,
                pgnorm: 0.0,
                recent: Vec::new(),
                iterations: 0,
                evaluations: 1,
                converged: false,
                dots: DirectionDots::default(),
                slot: None,
            }
        })
        .collect();
    let all: Vec<usize> = (0..lanes.len()).collect();
    let mut buf = Buffers::default();
    // The start: margins and gradient at the starting θ.
    buf.margins(&mut passes, &mut lanes, &all, |l| &l.theta, |l| &mut l.z);
    buf.gradient(&passes, &mut lanes, &all, true, frozen);
    lanes.par_iter_mut().for_each(|l| {
        (l.gmax, l.pgnorm) = norms(&l.grad, &l.hist.precond);
        l.recent.push(l.f);
    });

    loop {
        let active: Vec<usize> = (0..lanes.len())
            .filter(|&i| !lanes[i].converged && lanes[i].iterations < params.max_iter)
            .collect();
        if active.is_empty() {
            break;
        }
        lanes.par_iter_mut().enumerate().for_each(|(i, l)| {
            if active.contains(&i) {
                l.iterations += 1;
                l.dots = direction(l, terms);
            }
        });
        buf.margins(&mut passes, &mut lanes, &active, |l| &l.dir, |l| &mut l.zd);
        lanes.par_iter_mut().enumerate().for_each(|(i, l)| {
            if active.contains(&i) {
                step(l);
            }
        });
        let stepped: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&i| lanes[i].slot.is_some())
            .collect();
        if stepped.is_empty() {
            continue;
        }
        buf.gradient(&passes, &mut lanes, &stepped, false, frozen);
        lanes.par_iter_mut().enumerate().for_each(|(i, l)| {
            if !stepped.contains(&i) {
                return;
            }
            let slot = l.slot.take().expect("a step was taken");
            (l.gmax, l.pgnorm) = l.hist.update(slot, &l.grad, &l.dir);
            std::mem::swap(&mut l.grad, &mut l.dir);
            // `f` was set to the new objective by the gradient pass; `recent` holds the old.
            let (f_old, f) = (*l.recent.last().expect("the start's objective"), l.f);
            let (name, it) = (l.name, l.iterations);
            params
                .progress
                .post(|| format!("{name}: iteration {it}, objective {f:.6}"));
            l.recent.push(f);
            let r = &l.recent;
            let stalled = r.len() > WINDOW
                && r[r.len() - 1 - WINDOW] - f <= params.tol * f.abs().max(f64::MIN_POSITIVE);
            if stalled || (f_old - f) / f_old.abs().max(f.abs()).max(1.0) <= FTOL {
                l.converged = true;
            }
        });
    }
    lanes
        .into_iter()
        .map(|l| {
            let report = SolverReport {
                problem: l.name.to_string(),
                iterations: l.iterations,
                evaluations: l.evaluations,
                converged: l.converged,
                objective: Some(l.f),
                gradient_max: Some(l.gmax),
            };
            (l.theta, report)
        })
        .collect()
}

/// `−H g` for the lane, restarting from steepest descent when round-off made it no descent.
fn direction<I: DocIndex>(l: &mut Lane<I>, terms: usize) -> DirectionDots {
    let mut dots = l.hist.direction(
        &l.hist.coefficients(l.pgnorm),
        &l.grad,
        &l.theta,
        terms,
        &mut l.dir,
    );
    if dots.slope.is_nan() || dots.slope >= 0.0 {
        l.hist.order.clear();
        dots = l.hist.direction(
            &l.hist.coefficients(l.pgnorm),
            &l.grad,
            &l.theta,
            terms,
            &mut l.dir,
        );
    }
    dots
}

/// The lane's line search on its margins and, when a step decreases f, the step: θ, the
/// history's s and the margins move; `slot` says where the pair goes. With no such step the
/// lane is at its optimum (converged).
fn step<I: DocIndex>(l: &mut Lane<I>) {
    let reg = l.problem.reg();
    let dots = l.dots;
    let (problem, z, zd) = (&l.problem, &l.z, &l.zd);
    // As in `lbfgs`: φ(0) is f.
    let phi =
        |a: f64| problem.line(z, zd, a) + 0.5 * reg * (dots.ww + a * (2.0 * dots.wd + a * dots.dd));
    let (step, trials) = armijo_step(phi, l.f, dots.slope);
    l.evaluations += trials;
    let Some(a) = step else {
        l.converged = true;
        l.slot = None;
        return;
    };
    let slot = l.hist.take_slot(l.theta.len());
    for ((t, &d), s) in l.theta.iter_mut().zip(&l.dir).zip(&mut l.hist.s[slot]) {
        *t += a * d;
        *s = (a * d) as f32;
    }
    l.z.iter_mut().zip(&l.zd).for_each(|(z, d)| *z += a * d);
    l.slot = Some(slot);
}

/// The side-by-side matrices of the group's passes, kept between iterations.
#[derive(Default)]
struct Buffers {
    /// Weights, term-major (width per term).
    w: Vec<f64>,
    b: Vec<f64>,
    /// Margins or residuals, n × width.
    rows: Vec<f64>,
}

impl Buffers {
    /// `dst = X src + b` for the lanes `which`, in one margins pass.
    fn margins<'p, I: DocIndex>(
        &mut self,
        passes: &mut WidePasses<I>,
        lanes: &mut [Lane<'p, I>],
        which: &[usize],
        src: impl for<'x> Fn(&'x Lane<'p, I>) -> &'x Vec<f64>,
        mut dst: impl for<'x> FnMut(&'x mut Lane<'p, I>) -> &'x mut Vec<f64>,
    ) {
        let width = which.len();
        let terms = lanes[which[0]].theta.len() - 1;
        let cols: Vec<&Vec<f64>> = which.iter().map(|&i| src(&lanes[i])).collect();
        self.w.resize(terms * width, 0.0);
        self.w
            .par_chunks_mut(width * 4096)
            .enumerate()
            .for_each(|(blk, w)| {
                for (r, row) in w.chunks_mut(width).enumerate() {
                    let j = blk * 4096 + r;
                    row.iter_mut().zip(&cols).for_each(|(x, c)| *x = c[j]);
                }
            });
        self.b.clear();
        self.b.extend(cols.iter().map(|c| c[terms]));
        let n = lanes[which[0]].z.len();
        self.rows.resize(n * width, 0.0);
        passes.margins(&self.w, &self.b, width, &mut self.rows);
        for (c, &i) in which.iter().enumerate() {
            let out = dst(&mut lanes[i]);
            for (o, row) in out.iter_mut().zip(self.rows.chunks(width)) {
                *o = row[c];
            }
        }
    }

    /// Each lane's objective and gradient at its θ and margins z in one gradient pass: into
    /// `grad` at the start, else into `dir` (the new gradient; the residuals go to `zd`).
    fn gradient<I: DocIndex>(
        &mut self,
        passes: &WidePasses<I>,
        lanes: &mut [Lane<I>],
        which: &[usize],
        start: bool,
        frozen: Option<&[bool]>,
    ) {
        let width = which.len();
        let sums: Vec<(usize, (f64, Vec<f64>))> = lanes
            .par_iter_mut()
            .enumerate()
            .filter(|(i, _)| which.contains(i))
            .map(|(i, l)| (i, l.problem.residuals(&l.z, &mut l.zd)))
            .collect();
        let n = lanes[which[0]].z.len();
        let terms = lanes[which[0]].theta.len() - 1;
        self.rows.resize(n * width, 0.0);
        for (c, &i) in which.iter().enumerate() {
            for (row, r) in self.rows.chunks_mut(width).zip(&lanes[i].zd) {
                row[c] = *r;
            }
        }
        self.w.resize(terms * width, 0.0);
        passes.transpose(&self.rows, width, &mut self.w);
        let w = &self.w;
        lanes
            .par_iter_mut()
            .enumerate()
            .filter(|(i, _)| which.contains(i))
            .for_each(|(i, l)| {
                let c = which.iter().position(|&x| x == i).expect("listed");
                let (_, (loss, bias)) = sums.iter().find(|(j, _)| *j == i).expect("summed");
                let grad = if start { &mut l.grad } else { &mut l.dir };
                for (g, row) in grad[..terms].iter_mut().zip(w.chunks(width)) {
                    *g = row[c];
                }
                l.f = l.problem.finish(&l.theta, grad, *loss, bias);
                if let Some(frozen) = frozen {
                    grad.iter_mut()
                        .zip(frozen)
                        .filter(|(_, &fr)| fr)
                        .for_each(|(g, _)| *g = 0.0);
                }
            });
    }
}
