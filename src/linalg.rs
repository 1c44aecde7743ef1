//! Small dense linear algebra shared by stages: systems of a few dozen unknowns (prevalence
//! correction, probability calibration), where a dependency would weigh more than the code.

/// Solves `A x = b` for a square `A` (row-major, `a[r]` is row r) by Gaussian elimination with
/// partial pivoting. `None` when a pivot vanishes (A singular at machine precision) or the
/// result is not finite.
pub(crate) fn solve(mut a: Vec<Vec<f64>>, b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    for (row, &v) in a.iter_mut().zip(b) {
        row.push(v);
    }
    for col in 0..n {
        let piv = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        a.swap(col, piv);
        let p = a[col][col];
        if p.abs() < 1e-300 {
            return None;
        }
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / p;
                if f != 0.0 {
                    for (x, &y) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                        *x -= f * y;
                    }
                }
            }
        }
    }
    let x: Vec<f64> = (0..n).map(|r| a[r][n] / a[r][r]).collect();
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    #[test]
    fn solves_and_refuses_singular_systems() {
        let x = super::solve(vec![vec![0.0, 2.0], vec![3.0, 1.0]], &[4.0, 5.0]).unwrap();
        assert!(
            (x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12,
            "{x:?}"
        );
        assert!(super::solve(vec![vec![1.0, 2.0], vec![2.0, 4.0]], &[1.0, 2.0]).is_none());
    }
}
