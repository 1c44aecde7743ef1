//! A seeded generator for test data (Knuth's MMIX linear congruential step): the same numbers on
//! every platform, no dependency.

/// Uniform numbers in [0, 1) from `seed`, 53 bits each.
pub(crate) fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    }
}
