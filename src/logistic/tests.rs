//! Unit tests of the logistic stage: golden numbers, agreement with linfa, the solver layout.

use super::fitted::LogisticModel;
use super::lbfgs::*;
use super::objective::*;
use super::params::*;
use super::term_matrix::*;
use crate::sparse::{CsrMatrix, FactoredMatrix, SparseRow};

/// A small, noisy 3-class problem in 6 dense features (deterministic).
fn toy(n: usize, k: usize) -> (CsrMatrix, Vec<usize>) {
    let mut rnd = crate::test_rng::uniform(12345);
    let d = 6;
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = i % k;
        let mut row = SparseRow::default();
        for j in 0..d {
            let signal = if j % k == c { 1.0 } else { 0.0 };
            let v = signal + rnd() - 0.5;
            if v.abs() > 0.05 {
                row.indices.push(j as u32);
                row.values.push(v);
            }
        }
        rows.push(row);
        y.push(c);
    }
    (CsrMatrix::from_rows(rows, d), y)
}

fn proba_all(m: &LogisticModel, x: &CsrMatrix) -> Vec<Vec<f64>> {
    (0..x.n_rows())
        .map(|i| {
            let (ix, v) = x.row(i);
            m.predict_proba(ix, v)
        })
        .collect()
}

#[test]
fn agrees_with_linfa_multinomial() {
    // Same objective (linfa alpha = 1/C), tight tolerances: probabilities agree to 1e-4.
    let (x, y) = toy(150, 3);
    let tight = LogisticParams {
        c: 1.0,
        tol: 1e-8,
        max_iter: 5000,
        ..Default::default()
    };
    let (ours, reports) = tight.fit_multiclass(x.clone(), &y, 3).unwrap();
    assert!(reports[0].converged, "{}", reports[0]);
    let (theirs, _) = LogisticParams {
        solver: Solver::Linfa,
        ..tight
    }
    .fit_multiclass(x.clone(), &y, 3)
    .unwrap();
    let (a, b) = (proba_all(&ours, &x), proba_all(&theirs, &x));
    let worst = a
        .iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-4, "largest probability difference {worst}");
}

#[test]
fn agrees_with_linfa_binary() {
    let (x, y) = toy(120, 2);
    let tight = LogisticParams {
        c: 0.5,
        tol: 1e-8,
        max_iter: 5000,
        ..Default::default()
    };
    let (ours, _) = tight.fit_multiclass(x.clone(), &y, 2).unwrap();
    let (theirs, _) = LogisticParams {
        solver: Solver::Linfa,
        ..tight
    }
    .fit_multiclass(x.clone(), &y, 2)
    .unwrap();
    let (a, b) = (proba_all(&ours, &x), proba_all(&theirs, &x));
    for (p, q) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((p - q).abs() < 1e-4, "{p} vs {q}");
    }
}

#[test]
fn gradient_matches_finite_differences() {
    let (x, y) = toy(40, 3);
    let TermMatrix::Narrow(xt) = TermMatrix::new(FactoredMatrix::from_csr(&x)).unwrap() else {
        panic!("40 documents take 16-bit indices")
    };
    let sw: Vec<f64> = (0..40).map(|i| 1.0 + (i % 3) as f64 * 0.5).collect();
    let problem = Problem::new(&xt, &y, &sw, 3, 1.0 / 0.3);
    let dim = 7 * 3;
    let theta: Vec<f64> = (0..dim)
        .map(|i| ((i * 7 % 11) as f64 - 5.0) / 10.0)
        .collect();
    let mut g = vec![0.0; dim];
    problem.eval(&theta, &mut g);
    let mut scratch = vec![0.0; dim];
    for i in 0..dim {
        let h = 1e-6;
        let mut tp = theta.clone();
        tp[i] += h;
        let fp = problem.eval(&tp, &mut scratch);
        tp[i] -= 2.0 * h;
        let fm = problem.eval(&tp, &mut scratch);
        let fd = (fp - fm) / (2.0 * h);
        assert!((fd - g[i]).abs() < 1e-6, "coordinate {i}: {fd} vs {}", g[i]);
    }
}

#[test]
fn runs_of_short_terms_give_the_margins_and_gradient_of_the_rows() {
    // Term j of 24 is in documents j, j + 24, ... (1 to 4 of them with 80 documents, then
    // more for the first terms: 0 is also in every fifth document), mostly with value 1, so
    // the passes meet runs of 1, 2, 3 and 4 ones (their fixed-length loops) and longer or
    // mixed terms (the general ones).
    let (n, d) = (80, 24);
    let rows: Vec<SparseRow> = (0..n)
        .map(|i| {
            let mut row = SparseRow::default();
            for j in 0..d {
                let every = [24, 24, 40, 80][j % 4];
                if i % every == j % every || (j == 0 && i % 5 == 0) {
                    row.indices.push(j as u32);
                    row.values.push(if j == 7 && i > 40 { 2.5 } else { 1.0 });
                }
            }
            row
        })
        .collect();
    let x = CsrMatrix::from_rows(rows, d);
    let TermMatrix::Narrow(xt) = TermMatrix::new(FactoredMatrix::from_csr(&x)).unwrap() else {
        panic!("80 documents take 16-bit indices")
    };
    let shapes: Vec<(usize, usize)> = xt.runs(0, d).iter().map(|r| (r.ones, r.vals)).collect();
    for w in 1..=4 {
        assert!(shapes.contains(&(w, 0)), "{shapes:?}");
    }
    let sw: Vec<f64> = (0..n).map(|i| 1.0 + (i % 4) as f64 * 0.25).collect();
    for k in [1, 3, 5] {
        let y: Vec<usize> = (0..n).map(|i| i % k.max(2)).collect();
        let yb: Vec<bool> = y.iter().map(|&c| c == 1).collect();
        let dim = (d + 1) * k;
        // Weights by position; the rows see them by term id.
        let theta: Vec<f64> = (0..dim)
            .map(|i| ((i * 5 % 17) as f64 - 8.0) / 9.0)
            .collect();
        let by_id = in_term_order(xt.order(), &theta, k);
        let (grad, mut z) = (&mut vec![0.0; dim], vec![0.0; n * k]);
        if k == 1 {
            let problem = Problem::new(&xt, &yb, &sw, 1, 3.0);
            problem.margins(&theta, &mut z);
            problem.eval(&theta, grad);
        } else {
            let problem = Problem::new(&xt, &y, &sw, k, 3.0);
            problem.margins(&theta, &mut z);
            problem.eval(&theta, grad);
        }
        // Margins: X W + b, term by term from the rows.
        for i in 0..n {
            let (ix, vals) = x.row(i);
            for c in 0..k {
                let want = by_id[d * k + c]
                    + ix.iter()
                        .zip(vals)
                        .map(|(&j, v)| v * by_id[j as usize * k + c])
                        .sum::<f64>();
                let got = z[i * k + c];
                assert!((got - want).abs() < 1e-12, "k {k} doc {i}: {got} vs {want}");
            }
        }
        // Gradient: finite differences of the objective.
        let f = |t: &[f64]| {
            let mut g = vec![0.0; dim];
            if k == 1 {
                Problem::new(&xt, &yb, &sw, 1, 3.0).eval(t, &mut g)
            } else {
                Problem::new(&xt, &y, &sw, k, 3.0).eval(t, &mut g)
            }
        };
        for i in 0..dim {
            let h = 1e-6;
            let mut tp = theta.clone();
            tp[i] += h;
            let fp = f(&tp);
            tp[i] -= 2.0 * h;
            let fd = (fp - f(&tp)) / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 1e-7,
                "k {k} coordinate {i}: {fd} vs {}",
                grad[i]
            );
        }
    }
}

#[test]
fn factored_columns_give_the_objective_gradient_and_preconditioner_of_the_rows() {
    // The vectorizer's columns keep tf, idf and row norms apart, and store the terms in
    // their own order; the problem must be the one the rows define.
    let docs = [
        "the occupation forces and the resistance movement of the people",
        "the people the people resist the occupation and its forces",
        "markets rally as the central bank holds rates steady",
        "the central bank raises rates and markets fall",
        "resistance fighters and the people stand against the occupation",
        "rates rates rates: the bank and the markets",
    ];
    let params = crate::features::TfidfParams {
        min_df: crate::features::DfLimit::Count(1),
        ..Default::default()
    };
    let (_, rows, _) = params.fit_transform(&docs).unwrap();
    let (_, factored, _) = params.fit_factored(&docs).unwrap();
    let (TermMatrix::Narrow(a), TermMatrix::Narrow(b)) = (
        TermMatrix::new(factored).unwrap(),
        TermMatrix::new(FactoredMatrix::from_csr(&rows)).unwrap(),
    ) else {
        panic!("6 documents take 16-bit indices")
    };
    assert_ne!(
        a.order(),
        b.order(),
        "the two orders differ, so the test maps them"
    );
    let (y, sw) = ([0usize, 0, 1, 1, 0, 2], [1.0, 0.5, 2.0, 1.0, 1.5, 1.0]);
    let (k, d) = (3, rows.n_cols);
    // Weights by term id, then laid out in each matrix's order.
    let by_id: Vec<f64> = (0..(d + 1) * k)
        .map(|i| ((i * 7 % 13) as f64 - 6.0) / 5.0)
        .collect();
    let laid_out = |order: &[u32]| -> Vec<f64> {
        let mut theta = by_id.clone();
        for (p, &j) in order.iter().enumerate() {
            let j = j as usize;
            theta[p * k..(p + 1) * k].copy_from_slice(&by_id[j * k..(j + 1) * k]);
        }
        theta
    };
    let back = |order: &[u32], v: &[f64]| in_term_order(order, v, k);
    let (pa, pb) = (
        Problem::new(&a, &y, &sw, k, 2.0),
        Problem::new(&b, &y, &sw, k, 2.0),
    );
    let (mut ga, mut gb) = (vec![0.0; by_id.len()], vec![0.0; by_id.len()]);
    let fa = pa.eval(&laid_out(a.order()), &mut ga);
    let fb = pb.eval(&laid_out(b.order()), &mut gb);
    assert!((fa - fb).abs() <= 1e-6 * fb.abs(), "{fa} vs {fb}");
    let (ga, gb) = (back(a.order(), &ga), back(b.order(), &gb));
    for (i, (u, v)) in ga.iter().zip(&gb).enumerate() {
        assert!((u - v).abs() <= 1e-6 * v.abs().max(1e-3), "{i}: {u} vs {v}");
    }
    let (qa, qb) = (
        back(a.order(), &pa.preconditioner().expanded()),
        back(b.order(), &pb.preconditioner().expanded()),
    );
    for (u, v) in qa.iter().zip(&qb) {
        assert!((u - v).abs() <= 1e-6 * v.abs(), "{u} vs {v}");
    }
}

/// The reference two-loop recursion for `−H g` (Nocedal & Wright, algorithm 7.4), with the
/// initial inverse Hessian `γ P`.
fn two_loop(s: &[Vec<f64>], y: &[Vec<f64>], g: &[f64], precond: &[f64]) -> Vec<f64> {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let m = s.len();
    let mut q = g.to_vec();
    let mut alpha = vec![0.0; m];
    for i in (0..m).rev() {
        alpha[i] = dot(&s[i], &q) / dot(&s[i], &y[i]);
        q.iter_mut()
            .zip(&y[i])
            .for_each(|(q, y)| *q -= alpha[i] * y);
    }
    let py: Vec<f64> = y[m - 1].iter().zip(precond).map(|(y, p)| y * p).collect();
    let gamma = dot(&s[m - 1], &y[m - 1]) / dot(&py, &y[m - 1]);
    q.iter_mut().zip(precond).for_each(|(q, p)| *q *= gamma * p);
    for i in 0..m {
        let beta = dot(&y[i], &q) / dot(&s[i], &y[i]);
        q.iter_mut()
            .zip(&s[i])
            .for_each(|(q, s)| *q += (alpha[i] - beta) * s);
    }
    q.iter().map(|q| -q).collect()
}

#[test]
fn compact_direction_equals_the_two_loop_recursion() {
    let dim = 40;
    let mut uniform = crate::test_rng::uniform(7);
    let mut rnd = || uniform() - 0.5;
    // y = A s for a symmetric positive definite A, so every pair has sᵀy > 0; the values
    // are rounded to f32 first, as the history stores them.
    let diag: Vec<f64> = (0..dim).map(|i| 1.0 + i as f64 * 0.3).collect();
    let round = |v: Vec<f64>| v.into_iter().map(|x| x as f32 as f64).collect::<Vec<f64>>();
    let precond: Vec<f64> = (0..dim).map(|i| 0.5 + (i % 7) as f64).collect();
    let mut hist = History::new(Precond::full(precond.clone()));
    let (mut ss, mut ys) = (Vec::new(), Vec::new());
    let grad: Vec<f64> = (0..dim).map(|_| rnd()).collect();
    for pair in 0..7 {
        let s = round((0..dim).map(|_| rnd()).collect());
        let y = round(s.iter().zip(&diag).map(|(s, d)| s * d + 0.01 * s).collect());
        let slot = hist.take_slot(dim);
        hist.s[slot] = s.iter().map(|&x| x as f32).collect();
        // update() forms y = g' − g: pass g = 0 and g' = y, then fix the gradient products.
        hist.update(slot, &vec![0.0; dim], &y);
        ss.push(s);
        ys.push(y);
        if ss.len() > M {
            ss.remove(0);
            ys.remove(0);
        }
        assert_eq!(hist.order.len(), ss.len(), "pair {pair}");
    }
    for &a in &hist.order {
        let dot = |v: &[f32], p: &dyn Fn(usize) -> f64| {
            (0..dim).map(|i| v[i] as f64 * p(i) * grad[i]).sum::<f64>()
        };
        hist.sg[a] = dot(&hist.s[a], &|_| 1.0);
        hist.yg[a] = dot(&hist.y[a], &|i| precond[i]);
    }
    let mut dir = vec![0.0; dim];
    let theta = vec![0.0; dim];
    hist.direction(&hist.coefficients(1.0), &grad, &theta, dim, &mut dir);
    let expected = two_loop(&ss, &ys, &grad, &precond);
    for (a, b) in dir.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn binary_model_is_symmetric_softmax_of_sigmoid() {
    let (x, y) = toy(60, 2);
    let (m, _) = LogisticParams::default()
        .fit_multiclass(x.clone(), &y, 2)
        .unwrap();
    for j in 0..m.n_features {
        assert_eq!(m.weight(j, 0), -m.weight(j, 1));
    }
    assert_eq!(m.bias[0], -m.bias[1]);
}

#[test]
fn same_bits_with_one_or_two_threads() {
    let (x, y) = toy(3000, 3);
    let fit = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                LogisticParams::default()
                    .fit_multiclass(x.clone(), &y, 3)
                    .unwrap()
            })
    };
    let (a, _) = fit(1);
    let (b, _) = fit(2);
    assert_eq!(a, b);
}

#[test]
fn the_solver_stops_when_the_objective_stalls() {
    // Convergence is "less than tol relative decrease over the last 10 iterations": a huge
    // tol stops after exactly 10, and the default ends within 0.1% of a tight optimum.
    let (x, y) = toy(150, 3);
    let fit = |tol| {
        LogisticParams {
            tol,
            max_iter: 5000,
            ..Default::default()
        }
        .fit_multiclass(x.clone(), &y, 3)
        .unwrap()
        .1
    };
    let (loose, default, tight) = (fit(1e6), fit(1e-3), fit(1e-12));
    assert_eq!(loose[0].iterations, 10, "{}", loose[0]);
    assert!(default[0].converged && tight[0].converged);
    assert!(
        default[0].objective.unwrap() <= tight[0].objective.unwrap() * 1.001,
        "{} vs {}",
        default[0],
        tight[0]
    );
}

#[test]
fn non_convergence_is_reported() {
    let (x, y) = toy(90, 3);
    let (_, reports) = LogisticParams {
        max_iter: 2,
        tol: 1e-12,
        ..Default::default()
    }
    .fit_multiclass(x.clone(), &y, 3)
    .unwrap();
    assert!(!reports[0].converged);
    assert!(reports[0].to_string().contains("NOT converged"));
}

#[test]
fn bad_parameters_are_rejected() {
    let (x, y) = toy(30, 3);
    for c in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let p = LogisticParams {
            c,
            ..Default::default()
        };
        assert!(p.fit_multiclass(x.clone(), &y, 3).is_err(), "C = {c}");
    }
    let one_class = vec![0; 30];
    assert!(LogisticParams::default()
        .fit_multiclass(x.clone(), &one_class, 3)
        .is_err());
}

#[test]
fn the_margins_are_the_same_in_any_number_of_groups() {
    // The margins pass cuts the term blocks into groups by memory (one n × k copy each), down
    // to one group that adds straight into Z in ranges of documents (three of them here); every
    // grouping gives the margins of the rows.
    let (n, d, k) = (2500, 120, 4);
    let rows: Vec<SparseRow> = (0..n)
        .map(|i| {
            let mut row = SparseRow::default();
            for j in 0..d {
                if (i * 7 + j * 3) % 11 < 3 {
                    row.indices.push(j as u32);
                    row.values.push(1.0 + ((i + j) % 5) as f64 * 0.5);
                }
            }
            row
        })
        .collect();
    let x = CsrMatrix::from_rows(rows, d);
    let TermMatrix::Narrow(xt) = TermMatrix::new(FactoredMatrix::from_csr(&x)).unwrap() else {
        panic!("2500 documents take 16-bit indices")
    };
    let blocks = term_blocks(&xt).len();
    assert!(blocks > 2, "{blocks} blocks");
    let y: Vec<usize> = (0..n).map(|i| i % k).collect();
    let sw = vec![1.0; n];
    let theta: Vec<f64> = (0..(d + 1) * k)
        .map(|i| ((i * 5 % 17) as f64 - 8.0) / 9.0)
        .collect();
    let margins = |groups: usize| {
        let mut z = vec![0.0; n * k];
        let problem = Problem::grouped(&xt, &y, &sw, k, 1.0, groups);
        problem.margins(&theta, &mut z);
        // Twice: the second pass must not add to the first one's Z.
        problem.margins(&theta, &mut z);
        z
    };
    let all = margins(blocks);
    for groups in [1, 2, blocks - 1] {
        let z = margins(groups);
        let worst = z
            .iter()
            .zip(&all)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-12, "{groups} groups: off by {worst}");
    }
}

#[test]
fn the_margin_copies_stay_within_their_memory() {
    // As many copies as blocks while they fit; one (no copy) when not even two do.
    assert_eq!(margin_copies(1000, 10, TERM_BLOCKS), TERM_BLOCKS);
    let copy = 100_000 * 100 * 8;
    assert_eq!(
        margin_copies(100_000, 100, TERM_BLOCKS),
        MARGIN_BYTES / copy
    );
    assert!(margin_copies(100_000, 100, TERM_BLOCKS) * copy <= MARGIN_BYTES);
    assert_eq!(margin_copies(1_000_000, 100, TERM_BLOCKS), 1);
    assert_eq!(margin_copies(0, 0, 0), 1);
}

#[test]
fn a_multinomial_fit_that_cannot_fit_in_memory_is_refused_before_it_starts() {
    let (x, y) = toy(60, 3);
    // 60 × 3 margins (and up to 32 copies of them) and 7 × 3 parameters: kilobytes.
    let needed = multinomial_bytes(60, 6, 3, false);
    assert!(needed > 4_000 && needed < 100_000, "{needed}");
    assert!(multinomial_bytes(60, 6, 3, true) > needed);
    // Grows with documents × labels and with terms × labels.
    assert!(multinomial_bytes(1_000_000, 6, 300, false) >= 2 * 1_000_000 * 300 * 8);
    assert!(multinomial_bytes(60, 1_000_000, 300, false) > 3 * 1_000_000 * 300 * 8);
    let limited = |limit| LogisticParams {
        memory_limit: Some(limit),
        ..Default::default()
    };
    match limited(needed - 1).fit_multiclass(x.clone(), &y, 3) {
        Err(crate::Error::TooLarge {
            needed: n,
            available,
            ..
        }) => assert_eq!((n, available), (needed, needed - 1)),
        other => panic!("expected TooLarge, got {:?}", other.map(|_| ())),
    }
    let err = limited(1).fit_multiclass(x.clone(), &y, 3).unwrap_err();
    assert!(err.to_string().contains("60 documents × 3 labels"), "{err}");
    assert!(limited(needed).fit_multiclass(x, &y, 3).is_ok());
}

#[test]
fn the_solver_posts_its_progress_where_asked() {
    let (x, y) = toy(60, 3);
    let progress = Progress::new();
    assert_eq!(progress.latest(), None);
    LogisticParams {
        progress: progress.clone(),
        ..Default::default()
    }
    .fit_multiclass(x.clone(), &y, 3)
    .unwrap();
    let line = progress.latest().expect("a line was posted");
    assert!(line.starts_with("multinomial: iteration "), "{line}");
    // The default posts nowhere and compares equal (it is not a setting).
    assert_eq!(Progress::default().latest(), None);
    assert_eq!(Progress::default(), progress);
}

#[test]
fn labels_fitted_side_by_side_are_each_labels_own_fit_bit_for_bit() {
    // Terms of every shape (runs of 1–4 ones, longer terms, terms with other values), and labels
    // of different balance and difficulty, so they converge after different iterations: each
    // label's weights, objective and iterations must be those of its fit alone, whichever labels
    // run beside it (groups of 1 to LANES).
    let (n, d) = (300, 60);
    let rows: Vec<SparseRow> = (0..n)
        .map(|i| {
            let mut row = SparseRow::default();
            for j in 0..d {
                let every = [60, 60, 100, 150, 7, 3][j % 6];
                if i % every == j % every || (i * 7 + j * 3) % 13 == 0 {
                    row.indices.push(j as u32);
                    row.values.push(if j % 5 == 0 {
                        1.0 + (i % 4) as f64
                    } else {
                        1.0
                    });
                }
            }
            row
        })
        .collect();
    let x = CsrMatrix::from_rows(rows, d);
    let TermMatrix::Narrow(xt) = TermMatrix::new(FactoredMatrix::from_csr(&x)).unwrap() else {
        panic!("300 documents take 16-bit indices")
    };
    let labels = 11;
    let ys: Vec<Vec<bool>> = (0..labels)
        .map(|l| {
            (0..n)
                .map(|i| (i * (l + 3) + i / 7) % (l + 2) == 0)
                .collect()
        })
        .collect();
    let sws: Vec<Vec<f64>> = (0..labels)
        .map(|l| (0..n).map(|i| 1.0 + ((i + l) % 3) as f64 * 0.5).collect())
        .collect();
    let names: Vec<String> = (0..labels).map(|l| format!("label {l}")).collect();
    let params = LogisticParams {
        c: 10.0,
        tol: 1e-6,
        ..LogisticParams::default()
    };
    let alone: Vec<(Vec<f64>, SolverReport)> = (0..labels)
        .map(|l| {
            let problem = Problem::new(&xt, &ys[l], &sws[l], 1, params.c);
            super::lbfgs::lbfgs(&problem, vec![0.0; d + 1], &params, &names[l])
        })
        .collect();
    let iterations: Vec<usize> = alone.iter().map(|(_, r)| r.iterations).collect();
    assert!(
        iterations.iter().min() < iterations.iter().max(),
        "the labels should stop at different iterations: {iterations:?}"
    );
    for width in [1, 3, super::lanes::LANES] {
        for first in (0..labels).step_by(width) {
            let group: Vec<usize> = (first..(first + width).min(labels)).collect();
            let specs: Vec<super::lanes::LaneSpec> = group
                .iter()
                .map(|&l| super::lanes::LaneSpec {
                    y: &ys[l],
                    sw: &sws[l],
                    name: &names[l],
                    start: None,
                })
                .collect();
            let fits = super::lanes::lbfgs_lanes(&xt, &specs, &params, None);
            for (&l, (theta, report)) in group.iter().zip(fits) {
                assert_eq!(theta, alone[l].0, "label {l} beside {group:?}");
                assert_eq!(report, alone[l].1, "label {l} beside {group:?}");
            }
        }
    }
}

#[test]
fn a_warm_start_reaches_the_same_one_vs_rest_optimum_in_fewer_iterations() {
    let (x, y) = toy(240, 3);
    let labels: Vec<String> = (0..3).map(|l| format!("l{l}")).collect();
    // Two labels per document: its class and the next one.
    let sets: Vec<Vec<usize>> = y.iter().map(|&c| vec![c, (c + 1) % 3]).collect();
    let params = LogisticParams {
        tol: 1e-10,
        ..Default::default()
    };
    let (cold, cold_reports) = params.fit_one_vs_rest(x.clone(), &sets, &labels).unwrap();
    // From the optimum of 200 of the documents, as an out-of-fold refit starts the other way.
    let (x200, _) = toy(200, 3);
    let (part, _) = params.fit_one_vs_rest(x200, &sets[..200], &labels).unwrap();
    let (warm, warm_reports) = params
        .fit_one_vs_rest_warm(x.clone(), &sets, &labels, &part)
        .unwrap();
    for (a, b) in cold.weights.iter().zip(&warm.weights) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let its = |r: &[SolverReport]| r.iter().map(|r| r.iterations).sum::<usize>();
    assert!(
        its(&warm_reports) < its(&cold_reports),
        "{} vs {}",
        its(&warm_reports),
        its(&cold_reports)
    );
    // A start of another shape is refused.
    let other = LogisticModel {
        n_labels: 2,
        weights: part.weights[..2 * part.n_features].to_vec(),
        bias: part.bias[..2].to_vec(),
        ..part.clone()
    };
    let err = params
        .fit_one_vs_rest_warm(x, &sets, &labels, &other)
        .unwrap_err()
        .to_string();
    assert!(err.contains("start model"), "{err}");
}

#[test]
fn linfa_refuses_one_vs_rest_out_of_fold_rates() {
    // The linfa solver refits no folds: asking it for out-of-fold margins is an error, for
    // one-vs-rest fits as for multinomial ones, never a fit without them.
    let (x, y) = toy(60, 3);
    let labels: Vec<String> = (0..3).map(|l| format!("l{l}")).collect();
    let sets: Vec<Vec<usize>> = y.iter().map(|&c| vec![c]).collect();
    let folds: Vec<usize> = (0..60).map(|i| i % 3).collect();
    let held = HeldOut {
        folds: &folds,
        k: 3,
        min_rows: 1.0,
    };
    let linfa = LogisticParams {
        solver: Solver::Linfa,
        class_weight: ClassWeight::None,
        ..Default::default()
    };
    let err = linfa
        .fit_one_vs_rest_held_out(x.clone(), &sets, &labels, Some(&held))
        .unwrap_err()
        .to_string();
    assert!(err.contains("out-of-fold rates"), "{err}");
    let err = linfa
        .fit_multiclass_held_out(x, &y, 3, Some(&held))
        .unwrap_err()
        .to_string();
    assert!(err.contains("out-of-fold rates"), "{err}");
}
