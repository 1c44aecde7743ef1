//! linfa-logistic as an alternative solver: the reference implementation, on a dense copy of
//! the matrix, for small problems only.

use super::params::{LogisticParams, SolverReport};
use crate::error::{Error, Result};
use crate::sparse::FactoredMatrix;

/// `X[i][j] = t · S[j] / N[i]`, as [`FactoredMatrix::to_csr`] computes it.
fn dense(x: &FactoredMatrix) -> Result<ndarray::Array2<f64>> {
    const MAX_CELLS: usize = 50_000_000;
    let cells = x.n_rows().saturating_mul(x.n_cols());
    if cells > MAX_CELLS {
        return Err(Error::DenseTooLarge {
            rows: x.n_rows(),
            cols: x.n_cols(),
            cells,
            limit: MAX_CELLS,
        });
    }
    let mut m = ndarray::Array2::<f64>::zeros((x.n_rows(), x.n_cols()));
    for (i, (row, &norm)) in x.rows.iter().zip(&x.row_divisor).enumerate() {
        for &(j, t) in row {
            m[[i, j as usize]] = t as f64 * x.column_scale[j as usize] / norm;
        }
    }
    Ok(m)
}

/// linfa-logistic has no sample weights. Balanced weights on balanced classes are all 1, which is
/// nothing linfa cannot do; anything else is refused.
fn require_unit_weights(sw: &[f64]) -> Result<()> {
    if sw.iter().any(|&w| w != 1.0) {
        return Err(Error::Incompatible {
            name: "class_weight",
            value: "balanced".into(),
            reason: "the linfa solver does not support class weights".into(),
        });
    }
    Ok(())
}

pub(super) fn fit_multinomial(
    x: &FactoredMatrix,
    y: &[usize],
    sw: &[f64],
    k: usize,
    params: &LogisticParams,
) -> Result<(Vec<f64>, Vec<f64>, SolverReport)> {
    use linfa::traits::Fit;
    require_unit_weights(sw)?;
    let ds = linfa::Dataset::new(dense(x)?, ndarray::Array1::from(y.to_vec()));
    let fitted = linfa_logistic::MultiLogisticRegression::default()
        .alpha(1.0 / params.c)
        .max_iterations(params.max_iter as u64)
        .gradient_tolerance(params.tol)
        .fit(&ds)
        .map_err(|e| Error::SolverFailed { source: e.into() })?;
    // linfa orders its columns by sorted class value; ours are 0..k.
    let classes = fitted.classes().to_vec();
    let coef = fitted.params();
    let mut weights = vec![0.0; x.n_cols() * k];
    let mut bias = vec![0.0; k];
    for (col, &class) in classes.iter().enumerate() {
        for j in 0..x.n_cols() {
            weights[j * k + class] = coef[[j, col]];
        }
        bias[class] = fitted.intercept()[col];
    }
    Ok((weights, bias, linfa_report("multinomial (linfa)")))
}

pub(super) fn fit_binary(
    x: &FactoredMatrix,
    y: &[bool],
    sw: &[f64],
    params: &LogisticParams,
    name: &str,
) -> Result<(Vec<f64>, f64, SolverReport)> {
    use linfa::traits::Fit;
    require_unit_weights(sw)?;
    let targets: Vec<usize> = y.iter().map(|&b| b as usize).collect();
    let ds = linfa::Dataset::new(dense(x)?, ndarray::Array1::from(targets));
    let fitted = linfa_logistic::LogisticRegression::default()
        .alpha(1.0 / params.c)
        .max_iterations(params.max_iter as u64)
        .gradient_tolerance(params.tol)
        .fit(&ds)
        .map_err(|e| Error::SolverFailed { source: e.into() })?;
    // linfa's "positive" class is the larger label value (1 = true), so w is already for y = 1.
    let sign = if fitted.labels().pos.class == 1 {
        1.0
    } else {
        -1.0
    };
    let w = fitted.params().iter().map(|v| sign * v).collect();
    Ok((
        w,
        sign * fitted.intercept(),
        linfa_report(&format!("{name} (linfa)")),
    ))
}

fn linfa_report(name: &str) -> SolverReport {
    // linfa does not expose its iteration state through the fitted model.
    SolverReport {
        problem: name.to_string(),
        iterations: 0,
        evaluations: 0,
        converged: true,
        objective: None,
        gradient_max: None,
    }
}
