//! Inter-rater agreement between a first marker and a second marker (or moderator).
//!
//! Levels are ordinal: a level is its position in a criterion's level list, lowest = 0, with `k`
//! levels in total. Outcomes (pass/fail, grades) are nominal categories given the same way, as
//! indices below `k`.
//!
//! Every figure is an `Option<f64>`: `None` means "undefined for these data" and serialises as
//! JSON `null`. No function here returns NaN or an infinity, and none panics:
//!
//! - empty input gives `None`;
//! - an index `>= k` anywhere in the input is out of range and makes the whole computation `None`
//!   (for [`pair_stats`] and [`outcome_stats`], every figure; `n` still counts the pairs given);
//! - kappa is `None` when the expected agreement is 1 (both markers used one and the same single
//!   level), and Krippendorff's alpha is `None` when no disagreement is expected (fewer than two
//!   pairable values, or all pairable values identical).
//!
//! Nothing is rounded here; callers round for display.
//!
//! The work never allocates anything sized by `k`: tallies are kept per level actually used, so
//! a huge `k` costs nothing. Time is linear in the data plus quadratic in the number of distinct
//! levels used.

use std::collections::BTreeMap;

use serde::Serialize;

/// Agreement between two markers over the same items, on an ordinal level scale.
///
/// Each figure may be undefined for the data; `None` serialises as JSON `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairStats {
    /// Number of pairs given.
    pub n: usize,
    /// Share of pairs on the identical level.
    pub exact: Option<f64>,
    /// Share of pairs at most one level apart.
    pub adjacent: Option<f64>,
    /// Cohen's kappa (unweighted).
    pub kappa: Option<f64>,
    /// Cohen's kappa with quadratic weights over all `k` levels.
    pub weighted_kappa: Option<f64>,
    /// Krippendorff's alpha, ordinal metric, over the two markers.
    pub alpha: Option<f64>,
}

/// Agreement between two markers on a nominal outcome (binary or several categories).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeStats {
    /// Number of pairs given.
    pub n: usize,
    /// Share of pairs with the identical outcome.
    pub exact: Option<f64>,
    /// Cohen's kappa (unweighted).
    pub kappa: Option<f64>,
}

/// All pair figures for `(first, second)` level indices, each `< k`.
///
/// Alpha is computed over the two markers as coders (`data = [firsts, seconds]`), so every pair
/// is one unit with two values. If any index is `>= k`, every figure is `None` (with `n` still
/// the number of pairs given).
pub fn pair_stats(pairs: &[(usize, usize)], k: usize) -> PairStats {
    let n = pairs.len();
    if !pairs_in_range(pairs, k) {
        return PairStats {
            n,
            exact: None,
            adjacent: None,
            kappa: None,
            weighted_kappa: None,
            alpha: None,
        };
    }
    let firsts: Vec<Option<usize>> = pairs.iter().map(|&(a, _)| Some(a)).collect();
    let seconds: Vec<Option<usize>> = pairs.iter().map(|&(_, b)| Some(b)).collect();
    PairStats {
        n,
        exact: exact_agreement(pairs),
        adjacent: adjacent_agreement(pairs),
        kappa: cohen_kappa(pairs, k),
        weighted_kappa: weighted_kappa_quadratic(pairs, k),
        alpha: krippendorff_alpha_ordinal(&[firsts, seconds], k),
    }
}

/// Outcome figures for `(first, second)` category indices, each `< k`.
///
/// If any index is `>= k`, `exact` and `kappa` are `None` (with `n` still the number of pairs
/// given).
pub fn outcome_stats(pairs: &[(usize, usize)], k: usize) -> OutcomeStats {
    let n = pairs.len();
    if !pairs_in_range(pairs, k) {
        return OutcomeStats {
            n,
            exact: None,
            kappa: None,
        };
    }
    OutcomeStats {
        n,
        exact: exact_agreement(pairs),
        kappa: cohen_kappa(pairs, k),
    }
}

/// Share of pairs on the identical level; `None` when `pairs` is empty.
pub fn exact_agreement(pairs: &[(usize, usize)]) -> Option<f64> {
    share(pairs, |a, b| a == b)
}

/// Share of pairs at most one level apart (`|a - b| <= 1`); `None` when `pairs` is empty.
pub fn adjacent_agreement(pairs: &[(usize, usize)]) -> Option<f64> {
    share(pairs, |a, b| a.abs_diff(b) <= 1)
}

/// Cohen's kappa, `(po - pe) / (1 - pe)` with `pe` from the two markers' marginals.
///
/// Matches scikit-learn's `cohen_kappa_score(y1, y2, labels=list(range(k)))`. `None` when
/// `pairs` is empty, when an index is `>= k`, or when `pe = 1` (both markers used one and the
/// same single level).
pub fn cohen_kappa(pairs: &[(usize, usize)], k: usize) -> Option<f64> {
    weighted_kappa(pairs, k, |a, b| if a == b { 0.0 } else { 1.0 })
}

/// Cohen's kappa with quadratic weights `(i - j)^2 / (k - 1)^2` over the full `k x k` matrix.
///
/// Matches scikit-learn's
/// `cohen_kappa_score(y1, y2, labels=list(range(k)), weights="quadratic")`. The weights are
/// taken on level positions in the full list of `k` levels, so an unused level still separates
/// the levels on either side of it (levels 0 and 2 are 2 apart even when level 1 is never used).
/// The `(k - 1)^2` normalisation cancels in the ratio of observed to expected disagreement and
/// is therefore not applied.
///
/// `None` when `pairs` is empty, when an index is `>= k`, or when no disagreement is expected
/// (both markers used one and the same single level).
pub fn weighted_kappa_quadratic(pairs: &[(usize, usize)], k: usize) -> Option<f64> {
    weighted_kappa(pairs, k, |a, b| {
        let d = a.abs_diff(b) as f64;
        d * d
    })
}

/// Krippendorff's alpha with the ordinal metric, for any number of coders with missing values.
///
/// `data[coder][unit]` is `Some(level index)` or `None` for a missing value; rows may differ in
/// length (a row that ends early is missing for the remaining units). Levels are `0..k`.
///
/// As in Krippendorff, "Computing Krippendorff's alpha-reliability" (2011): the coincidence
/// matrix is built from pairable values (units with at least two values), and the ordinal metric
/// is `delta^2_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2` where `n_g` are the coincidence
/// marginals (frequencies of the pairable values).
///
/// Value domain: a level that occurs in no pairable value has `n_g = 0` and adds nothing to any
/// sum, so the result is the same whether the domain is "the values present" (Krippendorff's
/// definition and the default of the Python `krippendorff` package) or all levels `0..k`
/// (`krippendorff.alpha(..., level_of_measurement="ordinal", value_domain=list(range(k)))`).
/// This function therefore matches the package in both cases; it was checked against it with
/// unused levels.
///
/// `None` when a value is `>= k`, when there are fewer than two pairable values, or when all
/// pairable values are identical (no disagreement expected).
pub fn krippendorff_alpha_ordinal(data: &[Vec<Option<usize>>], k: usize) -> Option<f64> {
    krippendorff_alpha(data, k, Metric::Ordinal)
}

/// Krippendorff's alpha with the nominal metric (`delta = 0` if equal, else 1).
///
/// Same data layout and `None` cases as [`krippendorff_alpha_ordinal`].
pub fn krippendorff_alpha_nominal(data: &[Vec<Option<usize>>], k: usize) -> Option<f64> {
    krippendorff_alpha(data, k, Metric::Nominal)
}

/// Krippendorff's alpha with the interval metric (`delta^2 = (c - k)^2` on level indices).
///
/// Same data layout and `None` cases as [`krippendorff_alpha_ordinal`].
pub fn krippendorff_alpha_interval(data: &[Vec<Option<usize>>], k: usize) -> Option<f64> {
    krippendorff_alpha(data, k, Metric::Interval)
}

fn pairs_in_range(pairs: &[(usize, usize)], k: usize) -> bool {
    pairs.iter().all(|&(a, b)| a < k && b < k)
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn share(pairs: &[(usize, usize)], hit: impl Fn(usize, usize) -> bool) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let hits = pairs.iter().filter(|&&(a, b)| hit(a, b)).count();
    finite(hits as f64 / pairs.len() as f64)
}

/// Weighted kappa `1 - sum(w * observed) / sum(w * expected)`, as scikit-learn computes it,
/// with `expected[i][j] = rows_i * cols_j / n`. Disagreement weights `w` are 0 on the diagonal
/// and positive off it. Only levels actually used are tallied (an unused level has a zero row
/// and column and contributes nothing), so nothing is sized by `k`.
fn weighted_kappa(
    pairs: &[(usize, usize)],
    k: usize,
    weight: impl Fn(usize, usize) -> f64,
) -> Option<f64> {
    if pairs.is_empty() || !pairs_in_range(pairs, k) {
        return None;
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut cols: BTreeMap<usize, usize> = BTreeMap::new();
    let mut observed = 0.0;
    for &(a, b) in pairs {
        *rows.entry(a).or_insert(0) += 1;
        *cols.entry(b).or_insert(0) += 1;
        observed += weight(a, b);
    }
    // n * sum(w * expected): every term is non-negative, so it is exactly zero only when the
    // markers used one and the same single level.
    let mut expected_times_n = 0.0;
    for (&a, &r) in &rows {
        for (&b, &c) in &cols {
            expected_times_n += r as f64 * c as f64 * weight(a, b);
        }
    }
    if expected_times_n <= 0.0 {
        return None;
    }
    finite(1.0 - pairs.len() as f64 * observed / expected_times_n)
}

#[derive(Debug, Clone, Copy)]
enum Metric {
    Nominal,
    Ordinal,
    Interval,
}

/// Krippendorff's alpha `1 - D_o / D_e` with
/// `D_o = (1/n) sum_ck o_ck delta_ck` and `D_e = 1/(n (n - 1)) sum_ck n_c n_k delta_ck`.
///
/// The coincidence matrix is never materialised: `o_ck` is the sum over units of (number of
/// c-k pairs of values from different coders in the unit) / (m_u - 1), so `sum_ck o_ck delta_ck`
/// is accumulated unit by unit. The marginals `n_c` are kept per distinct value present.
fn krippendorff_alpha(data: &[Vec<Option<usize>>], k: usize, metric: Metric) -> Option<f64> {
    if data.iter().flatten().flatten().any(|&v| v >= k) {
        return None;
    }
    let unit_count = data.iter().map(Vec::len).max().unwrap_or(0);
    let units: Vec<Vec<usize>> = (0..unit_count)
        .map(|u| {
            data.iter()
                .filter_map(|row| row.get(u).copied().flatten())
                .collect::<Vec<usize>>()
        })
        .filter(|values| values.len() >= 2)
        .collect();

    // Marginals n_c of the coincidence matrix: each pairable value counts once.
    let mut freq: BTreeMap<usize, usize> = BTreeMap::new();
    for &v in units.iter().flatten() {
        *freq.entry(v).or_insert(0) += 1;
    }
    if freq.len() < 2 {
        // No pairable values, or all of them identical: no disagreement expected.
        return None;
    }
    let values: Vec<usize> = freq.keys().copied().collect();
    let counts: Vec<f64> = freq.values().map(|&c| c as f64).collect();
    let n: f64 = counts.iter().sum();
    // cumulative[i] = sum of counts of the values below position i.
    let mut cumulative = Vec::with_capacity(counts.len() + 1);
    let mut running = 0.0;
    cumulative.push(running);
    for &c in &counts {
        running += c;
        cumulative.push(running);
    }

    // delta^2 between the values at positions i and j of `values`.
    let delta = |i: usize, j: usize| -> f64 {
        if i == j {
            return 0.0;
        }
        match metric {
            Metric::Nominal => 1.0,
            Metric::Ordinal => {
                let (lo, hi) = (i.min(j), i.max(j));
                let between = cumulative[hi + 1] - cumulative[lo];
                let d = between - (counts[lo] + counts[hi]) / 2.0;
                d * d
            }
            Metric::Interval => {
                let d = values[i].abs_diff(values[j]) as f64;
                d * d
            }
        }
    };

    // sum_ck o_ck delta_ck, unit by unit.
    let mut observed = 0.0;
    for unit in &units {
        let positions: Vec<usize> = unit
            .iter()
            .filter_map(|v| values.binary_search(v).ok())
            .collect();
        let mut unit_sum = 0.0;
        for (x, &i) in positions.iter().enumerate() {
            for &j in &positions[x + 1..] {
                // Both orders (c, k) and (k, c) of the pair.
                unit_sum += 2.0 * delta(i, j);
            }
        }
        observed += unit_sum / (positions.len() as f64 - 1.0);
    }

    // sum_ck n_c n_k delta_ck.
    let mut expected = 0.0;
    for i in 0..counts.len() {
        for j in 0..counts.len() {
            expected += counts[i] * counts[j] * delta(i, j);
        }
    }
    if expected <= 0.0 {
        return None;
    }
    // D_o / D_e = (n - 1) * observed / expected.
    finite(1.0 - (n - 1.0) * observed / expected)
}

#[cfg(test)]
mod tests {
    //! Reference values were produced independently with the script below (Python 3.11,
    //! numpy 2.4.6, scikit-learn 1.9.1, krippendorff 0.9.0; `pip install scikit-learn
    //! krippendorff numpy`). Neither package rounds, so results are compared to 1e-9.
    //!
    //! ```python
    //! import warnings
    //! import numpy as np
    //! import krippendorff
    //! from sklearn.metrics import cohen_kappa_score
    //!
    //! warnings.simplefilter("ignore")
    //!
    //! PAIR_SETS = {
    //!     # name: (k, firsts, seconds)
    //!     "typical": (4, [0, 1, 1, 2, 2, 2, 3, 3, 1, 0, 2, 3, 1, 2],
    //!                    [0, 1, 2, 2, 1, 2, 3, 2, 1, 1, 2, 3, 0, 3]),
    //!     "unused_level": (5, [0, 1, 3, 4, 4, 3, 1, 0, 3, 4],
    //!                         [0, 1, 3, 3, 4, 4, 0, 1, 3, 4]),
    //!     "perfect": (4, [0, 1, 2, 3, 1, 2], [0, 1, 2, 3, 1, 2]),
    //!     "single_level": (3, [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]),
    //!     "one_marker_single_level": (4, [2, 2, 2, 2, 2, 2], [1, 2, 2, 3, 2, 1]),
    //!     "offset_by_one": (5, [0, 1, 2, 3, 1, 2, 0, 3], [1, 2, 3, 4, 2, 3, 1, 4]),
    //!     "wide": (6, [0, 5, 2, 3, 4, 1, 5, 2, 3, 0, 4, 4, 2, 1, 5, 3, 3, 2, 0, 5],
    //!                 [1, 4, 2, 3, 2, 1, 5, 3, 3, 2, 4, 5, 0, 1, 3, 3, 4, 2, 0, 5]),
    //!     "binary_outcome": (2, [1, 1, 0, 1, 0, 1, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1, 1, 1, 1, 1]),
    //!     "three_outcomes": (3, [0, 1, 2, 2, 1, 0, 2, 1, 1, 2], [0, 1, 2, 1, 1, 0, 2, 2, 1, 2]),
    //! }
    //!
    //! for name, (k, a, b) in PAIR_SETS.items():
    //!     labels = list(range(k))
    //!     kappa = cohen_kappa_score(a, b, labels=labels)
    //!     wk = cohen_kappa_score(a, b, labels=labels, weights="quadratic")
    //!     data = np.array([a, b], dtype=float)
    //!     try:
    //!         alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal",
    //!                                    value_domain=labels)
    //!     except ValueError as e:
    //!         alpha = f"ValueError({e})"
    //!     try:
    //!         alpha_default = krippendorff.alpha(reliability_data=data,
    //!                                            level_of_measurement="ordinal")
    //!     except ValueError as e:
    //!         alpha_default = f"ValueError({e})"
    //!     print(f"{name}: kappa={kappa!r} weighted_kappa={wk!r} alpha_ordinal={alpha!r} "
    //!           f"(alpha without value_domain={alpha_default!r})")
    //!
    //! nan = np.nan
    //! MULTI_SETS = {
    //!     # Krippendorff (2011) worked example, values 1..5 shifted to 0..4.
    //!     "krippendorff_2011": (5, [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    //!                               [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    //!                               [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    //!                               [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]], 1),
    //!     # krippendorff package docstring example, values 1..4 shifted to 0..3.
    //!     "package_docstring": (4, [[nan, nan, nan, nan, nan, 3, 4, 1, 2, 1, 1, 3, 3, nan, 3],
    //!                               [1, nan, 2, 1, 3, 3, 4, 3, nan, nan, nan, nan, nan, nan, nan],
    //!                               [nan, nan, 2, 1, 3, 4, 4, nan, 2, 1, 1, 3, 3, nan, 4]], 1),
    //!     # hand-made, 3 markers, level 1 of 0..5 never used, one unit with a single value
    //!     "three_markers_unused": (6, [[0, 2, 3, 5, nan, 4, 2, 0],
    //!                                  [0, 3, 3, 4, 5, nan, 2, nan],
    //!                                  [nan, 2, 4, 5, 5, 4, nan, nan]], 0),
    //! }
    //! for name, (k, rows, shift) in MULTI_SETS.items():
    //!     data = np.array(rows, dtype=float) - shift
    //!     out = []
    //!     for level in ("nominal", "ordinal", "interval"):
    //!         a1 = krippendorff.alpha(reliability_data=data, level_of_measurement=level,
    //!                                 value_domain=list(range(k)))
    //!         a2 = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    //!         out.append(f"{level}={a1!r} (without value_domain={a2!r})")
    //!     print(f"{name}: " + " ".join(out))
    //! ```
    //!
    //! Output (alpha was identical with and without `value_domain` in every defined case;
    //! "single_level" gave nan from both sklearn and krippendorff with the value domain, and
    //! `ValueError("There has to be more than one value in the domain.")` without it):
    //!
    //! ```text
    //! typical: kappa=0.4084507042253521 weighted_kappa=0.772972972972973 alpha_ordinal=0.792219387755102
    //! unused_level: kappa=0.45945945945945954 weighted_kappa=0.91701244813278 alpha_ordinal=0.8406451612903225
    //! perfect: kappa=1.0 weighted_kappa=1.0 alpha_ordinal=1.0
    //! single_level: kappa=nan weighted_kappa=nan alpha_ordinal=nan
    //! one_marker_single_level: kappa=0.0 weighted_kappa=0.0 alpha_ordinal=0.050000000000000044
    //! offset_by_one: kappa=-0.23076923076923084 weighted_kappa=0.7142857142857143 alpha_ordinal=0.7106481481481481
    //! wide: kappa=0.4561933534743202 weighted_kappa=0.7957198443579767 alpha_ordinal=0.8197312348668281
    //! binary_outcome: kappa=0.5238095238095238 weighted_kappa=0.5238095238095238 alpha_ordinal=0.5476190476190477
    //! three_outcomes: kappa=0.6875 weighted_kappa=0.8214285714285714 alpha_ordinal=0.788888888888889
    //! krippendorff_2011: nominal=0.743421052631579 ordinal=0.8153875037548814 interval=0.8491071428571428
    //! package_docstring: nominal=0.691358024691358 ordinal=0.8067214199413153 interval=0.8108448928121059
    //! three_markers_unused: nominal=0.5789473684210527 ordinal=0.9023875875574301 interval=0.9323943661971831
    //! ```

    use super::*;

    const TOL: f64 = 1e-9;

    fn zip(firsts: &[usize], seconds: &[usize]) -> Vec<(usize, usize)> {
        assert_eq!(firsts.len(), seconds.len());
        firsts
            .iter()
            .copied()
            .zip(seconds.iter().copied())
            .collect()
    }

    #[track_caller]
    fn assert_close(actual: Option<f64>, expected: f64) {
        let a = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
        assert!(
            (a - expected).abs() < TOL,
            "expected {expected}, got {a} (diff {})",
            a - expected
        );
    }

    /// Builds `data[coder][unit]` from rows where `-1` marks a missing value, shifting the
    /// remaining values down by `shift`.
    fn rows(raw: &[&[i64]], shift: i64) -> Vec<Vec<Option<usize>>> {
        raw.iter()
            .map(|row| {
                row.iter()
                    .map(|&v| (v >= 0).then(|| usize::try_from(v - shift).unwrap()))
                    .collect()
            })
            .collect()
    }

    const M: i64 = -1;

    fn krippendorff_2011() -> Vec<Vec<Option<usize>>> {
        rows(
            &[
                &[1, 2, 3, 3, 2, 1, 4, 1, 2, M, M, M],
                &[1, 2, 3, 3, 2, 2, 4, 1, 2, 5, M, 3],
                &[M, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, M],
                &[1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, M],
            ],
            1,
        )
    }

    #[test]
    fn published_example_to_three_decimals() {
        let data = krippendorff_2011();
        let round3 = |x: Option<f64>| (x.unwrap() * 1000.0).round() / 1000.0;
        assert_eq!(round3(krippendorff_alpha_nominal(&data, 5)), 0.743);
        assert_eq!(round3(krippendorff_alpha_ordinal(&data, 5)), 0.815);
        assert_eq!(round3(krippendorff_alpha_interval(&data, 5)), 0.849);
    }

    #[test]
    fn published_example_matches_package() {
        let data = krippendorff_2011();
        assert_close(krippendorff_alpha_nominal(&data, 5), 0.743421052631579);
        assert_close(krippendorff_alpha_ordinal(&data, 5), 0.8153875037548814);
        assert_close(krippendorff_alpha_interval(&data, 5), 0.8491071428571428);
    }

    #[test]
    fn published_example_with_extra_unused_levels_is_unchanged() {
        // Extra levels above the used ones have zero frequency and change nothing.
        let data = krippendorff_2011();
        assert_close(krippendorff_alpha_ordinal(&data, 9), 0.8153875037548814);
        // Shifting every value up by one leaves level 0 unused: same result.
        let shifted: Vec<Vec<Option<usize>>> = data
            .iter()
            .map(|row| row.iter().map(|v| v.map(|x| x + 1)).collect())
            .collect();
        assert_close(krippendorff_alpha_nominal(&shifted, 6), 0.743421052631579);
        assert_close(krippendorff_alpha_ordinal(&shifted, 6), 0.8153875037548814);
        assert_close(krippendorff_alpha_interval(&shifted, 6), 0.8491071428571428);
    }

    #[test]
    fn package_docstring_example() {
        let data = rows(
            &[
                &[M, M, M, M, M, 3, 4, 1, 2, 1, 1, 3, 3, M, 3],
                &[1, M, 2, 1, 3, 3, 4, 3, M, M, M, M, M, M, M],
                &[M, M, 2, 1, 3, 4, 4, M, 2, 1, 1, 3, 3, M, 4],
            ],
            1,
        );
        assert_close(krippendorff_alpha_nominal(&data, 4), 0.691358024691358);
        assert_close(krippendorff_alpha_ordinal(&data, 4), 0.8067214199413153);
        assert_close(krippendorff_alpha_interval(&data, 4), 0.8108448928121059);
    }

    #[test]
    fn three_markers_with_unused_level_and_single_value_unit() {
        let data = rows(
            &[
                &[0, 2, 3, 5, M, 4, 2, 0],
                &[0, 3, 3, 4, 5, M, 2, M],
                &[M, 2, 4, 5, 5, 4, M, M],
            ],
            0,
        );
        assert_close(krippendorff_alpha_nominal(&data, 6), 0.5789473684210527);
        assert_close(krippendorff_alpha_ordinal(&data, 6), 0.9023875875574301);
        assert_close(krippendorff_alpha_interval(&data, 6), 0.9323943661971831);
    }

    #[test]
    fn ragged_rows_are_missing_at_the_end() {
        // The same data as above with trailing missing values dropped from the rows.
        let full = rows(
            &[
                &[0, 2, 3, 5, M, 4, 2, 0],
                &[0, 3, 3, 4, 5, M, 2, M],
                &[M, 2, 4, 5, 5, 4, M, M],
            ],
            0,
        );
        let ragged = rows(
            &[
                &[0, 2, 3, 5, M, 4, 2, 0],
                &[0, 3, 3, 4, 5, M, 2],
                &[M, 2, 4, 5, 5, 4],
            ],
            0,
        );
        assert_eq!(
            krippendorff_alpha_ordinal(&full, 6),
            krippendorff_alpha_ordinal(&ragged, 6)
        );
    }

    struct Expected {
        k: usize,
        firsts: &'static [usize],
        seconds: &'static [usize],
        kappa: f64,
        weighted_kappa: f64,
        alpha: f64,
    }

    const DEFINED_SETS: &[(&str, Expected)] = &[
        (
            "typical",
            Expected {
                k: 4,
                firsts: &[0, 1, 1, 2, 2, 2, 3, 3, 1, 0, 2, 3, 1, 2],
                seconds: &[0, 1, 2, 2, 1, 2, 3, 2, 1, 1, 2, 3, 0, 3],
                kappa: 0.4084507042253521,
                weighted_kappa: 0.772972972972973,
                alpha: 0.792219387755102,
            },
        ),
        (
            "unused_level",
            Expected {
                k: 5,
                firsts: &[0, 1, 3, 4, 4, 3, 1, 0, 3, 4],
                seconds: &[0, 1, 3, 3, 4, 4, 0, 1, 3, 4],
                kappa: 0.45945945945945954,
                weighted_kappa: 0.91701244813278,
                alpha: 0.8406451612903225,
            },
        ),
        (
            "perfect",
            Expected {
                k: 4,
                firsts: &[0, 1, 2, 3, 1, 2],
                seconds: &[0, 1, 2, 3, 1, 2],
                kappa: 1.0,
                weighted_kappa: 1.0,
                alpha: 1.0,
            },
        ),
        (
            "one_marker_single_level",
            Expected {
                k: 4,
                firsts: &[2, 2, 2, 2, 2, 2],
                seconds: &[1, 2, 2, 3, 2, 1],
                kappa: 0.0,
                weighted_kappa: 0.0,
                alpha: 0.050000000000000044,
            },
        ),
        (
            "offset_by_one",
            Expected {
                k: 5,
                firsts: &[0, 1, 2, 3, 1, 2, 0, 3],
                seconds: &[1, 2, 3, 4, 2, 3, 1, 4],
                kappa: -0.23076923076923084,
                weighted_kappa: 0.7142857142857143,
                alpha: 0.7106481481481481,
            },
        ),
        (
            "wide",
            Expected {
                k: 6,
                firsts: &[0, 5, 2, 3, 4, 1, 5, 2, 3, 0, 4, 4, 2, 1, 5, 3, 3, 2, 0, 5],
                seconds: &[1, 4, 2, 3, 2, 1, 5, 3, 3, 2, 4, 5, 0, 1, 3, 3, 4, 2, 0, 5],
                kappa: 0.4561933534743202,
                weighted_kappa: 0.7957198443579767,
                alpha: 0.8197312348668281,
            },
        ),
        (
            "binary_outcome",
            Expected {
                k: 2,
                firsts: &[1, 1, 0, 1, 0, 1, 1, 0, 1, 1],
                seconds: &[1, 0, 0, 1, 0, 1, 1, 1, 1, 1],
                kappa: 0.5238095238095238,
                weighted_kappa: 0.5238095238095238,
                alpha: 0.5476190476190477,
            },
        ),
        (
            "three_outcomes",
            Expected {
                k: 3,
                firsts: &[0, 1, 2, 2, 1, 0, 2, 1, 1, 2],
                seconds: &[0, 1, 2, 1, 1, 0, 2, 2, 1, 2],
                kappa: 0.6875,
                weighted_kappa: 0.8214285714285714,
                alpha: 0.788888888888889,
            },
        ),
    ];

    #[test]
    fn pair_stats_match_sklearn_and_krippendorff() {
        for (name, e) in DEFINED_SETS {
            let pairs = zip(e.firsts, e.seconds);
            let s = pair_stats(&pairs, e.k);
            eprintln!("{name}: {s:?}");
            assert_eq!(s.n, pairs.len(), "{name}");
            assert_close(s.kappa, e.kappa);
            assert_close(s.weighted_kappa, e.weighted_kappa);
            assert_close(s.alpha, e.alpha);
            assert_close(cohen_kappa(&pairs, e.k), e.kappa);
            assert_close(weighted_kappa_quadratic(&pairs, e.k), e.weighted_kappa);
            let data = vec![
                e.firsts.iter().map(|&v| Some(v)).collect(),
                e.seconds.iter().map(|&v| Some(v)).collect(),
            ];
            assert_close(krippendorff_alpha_ordinal(&data, e.k), e.alpha);
        }
    }

    #[test]
    fn exact_and_adjacent_shares() {
        let pairs = zip(
            &[0, 1, 1, 2, 2, 2, 3, 3, 1, 0, 2, 3, 1, 2],
            &[0, 1, 2, 2, 1, 2, 3, 2, 1, 1, 2, 3, 0, 3],
        );
        // Identical: 0-0, 1-1, 2-2, 2-2, 3-3, 1-1, 2-2, 3-3 = 8 of 14; all within one level.
        assert_close(exact_agreement(&pairs), 8.0 / 14.0);
        assert_close(adjacent_agreement(&pairs), 1.0);
        let spread = [(0, 2), (4, 1), (3, 3), (2, 1)];
        assert_close(exact_agreement(&spread), 0.25);
        assert_close(adjacent_agreement(&spread), 0.5);
        let s = pair_stats(&spread, 5);
        assert_close(s.exact, 0.25);
        assert_close(s.adjacent, 0.5);
    }

    #[test]
    fn outcome_stats_binary_and_nominal() {
        let binary = zip(
            &[1, 1, 0, 1, 0, 1, 1, 0, 1, 1],
            &[1, 0, 0, 1, 0, 1, 1, 1, 1, 1],
        );
        let s = outcome_stats(&binary, 2);
        assert_eq!(s.n, 10);
        assert_close(s.exact, 0.8);
        assert_close(s.kappa, 0.5238095238095238);

        let three = zip(
            &[0, 1, 2, 2, 1, 0, 2, 1, 1, 2],
            &[0, 1, 2, 1, 1, 0, 2, 2, 1, 2],
        );
        let s = outcome_stats(&three, 3);
        assert_eq!(s.n, 10);
        assert_close(s.exact, 0.8);
        assert_close(s.kappa, 0.6875);
    }

    #[test]
    fn empty_input_is_none() {
        assert_eq!(exact_agreement(&[]), None);
        assert_eq!(adjacent_agreement(&[]), None);
        assert_eq!(cohen_kappa(&[], 4), None);
        assert_eq!(weighted_kappa_quadratic(&[], 4), None);
        assert_eq!(
            pair_stats(&[], 4),
            PairStats {
                n: 0,
                exact: None,
                adjacent: None,
                kappa: None,
                weighted_kappa: None,
                alpha: None,
            }
        );
        assert_eq!(
            outcome_stats(&[], 2),
            OutcomeStats {
                n: 0,
                exact: None,
                kappa: None,
            }
        );
        assert_eq!(krippendorff_alpha_ordinal(&[], 4), None);
        assert_eq!(krippendorff_alpha_ordinal(&[vec![], vec![]], 4), None);
        assert_eq!(krippendorff_alpha_nominal(&[vec![None, None]], 4), None);
    }

    #[test]
    fn single_used_level_is_none_for_kappa_and_alpha() {
        // sklearn and krippendorff give nan here.
        let pairs = zip(&[1, 1, 1, 1, 1], &[1, 1, 1, 1, 1]);
        let s = pair_stats(&pairs, 3);
        assert_eq!(s.n, 5);
        assert_eq!(s.exact, Some(1.0));
        assert_eq!(s.adjacent, Some(1.0));
        assert_eq!(s.kappa, None);
        assert_eq!(s.weighted_kappa, None);
        assert_eq!(s.alpha, None);
        let o = outcome_stats(&[(0, 0), (0, 0)], 2);
        assert_eq!(o.exact, Some(1.0));
        assert_eq!(o.kappa, None);
    }

    #[test]
    fn alpha_without_expected_disagreement_is_none() {
        // Each unit has a single value: nothing is pairable.
        let unpairable = vec![vec![Some(0), None, Some(2)], vec![None, Some(1), None]];
        assert_eq!(krippendorff_alpha_ordinal(&unpairable, 3), None);
        assert_eq!(krippendorff_alpha_nominal(&unpairable, 3), None);
        assert_eq!(krippendorff_alpha_interval(&unpairable, 3), None);
        // One coder only.
        assert_eq!(
            krippendorff_alpha_ordinal(&[vec![Some(0), Some(1)]], 3),
            None
        );
        // All pairable values identical; the differing value is in a single-value unit.
        let identical = vec![
            vec![Some(2), Some(2), Some(0)],
            vec![Some(2), Some(2), None],
        ];
        assert_eq!(krippendorff_alpha_ordinal(&identical, 3), None);
        assert_eq!(krippendorff_alpha_nominal(&identical, 3), None);
        assert_eq!(krippendorff_alpha_interval(&identical, 3), None);
    }

    #[test]
    fn out_of_range_index_is_none() {
        let pairs = [(0, 1), (1, 4), (2, 2)];
        assert_eq!(cohen_kappa(&pairs, 4), None);
        assert_eq!(weighted_kappa_quadratic(&pairs, 4), None);
        assert_eq!(
            pair_stats(&pairs, 4),
            PairStats {
                n: 3,
                exact: None,
                adjacent: None,
                kappa: None,
                weighted_kappa: None,
                alpha: None,
            }
        );
        assert_eq!(
            outcome_stats(&[(0, 1), (2, 0)], 2),
            OutcomeStats {
                n: 2,
                exact: None,
                kappa: None,
            }
        );
        // Out of range even in a unit that is not pairable.
        let data = vec![
            vec![Some(0), Some(1), Some(7)],
            vec![Some(1), Some(1), None],
        ];
        assert_eq!(krippendorff_alpha_ordinal(&data, 3), None);
        assert_eq!(krippendorff_alpha_nominal(&data, 3), None);
        assert_eq!(krippendorff_alpha_interval(&data, 3), None);
        // k = 0 and k = 1 leave no valid or no informative data.
        assert_eq!(pair_stats(&[(0, 0)], 0).kappa, None);
        assert_eq!(pair_stats(&[(0, 0)], 0).exact, None);
        assert_eq!(pair_stats(&[(0, 0)], 1).kappa, None);
        assert_eq!(pair_stats(&[(0, 0)], 1).exact, Some(1.0));
    }

    #[test]
    fn huge_k_allocates_nothing_and_changes_nothing() {
        let e = &DEFINED_SETS[1].1;
        let pairs = zip(e.firsts, e.seconds);
        let s = pair_stats(&pairs, usize::MAX);
        assert_close(s.kappa, e.kappa);
        assert_close(s.weighted_kappa, e.weighted_kappa);
        assert_close(s.alpha, e.alpha);
        let far = [
            (0, usize::MAX - 1),
            (usize::MAX - 1, usize::MAX - 1),
            (0, 0),
        ];
        let s = pair_stats(&far, usize::MAX);
        assert!(s.kappa.is_some_and(f64::is_finite));
        assert!(s.weighted_kappa.is_some_and(f64::is_finite));
        assert!(s.alpha.is_some_and(f64::is_finite));
    }

    // ---- property-style checks against straightforward k x k implementations ----

    /// Small deterministic generator (64-bit LCG); no external crates.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, bound: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % bound as u64) as usize
        }
    }

    /// scikit-learn's algorithm, literally: confusion matrix over all k labels.
    fn naive_kappa(pairs: &[(usize, usize)], k: usize, quadratic: bool) -> f64 {
        let mut confusion = vec![vec![0.0; k]; k];
        for &(a, b) in pairs {
            confusion[a][b] += 1.0;
        }
        let sum0: Vec<f64> = (0..k)
            .map(|j| (0..k).map(|i| confusion[i][j]).sum())
            .collect();
        let sum1: Vec<f64> = (0..k).map(|i| confusion[i].iter().sum()).collect();
        let total: f64 = sum0.iter().sum();
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..k {
            for j in 0..k {
                let w = if quadratic {
                    ((i as f64 - j as f64) / (k as f64 - 1.0)).powi(2)
                } else if i == j {
                    0.0
                } else {
                    1.0
                };
                num += w * confusion[i][j];
                den += w * sum1[i] * sum0[j] / total;
            }
        }
        1.0 - num / den
    }

    /// Krippendorff (2011) literally: full k x k coincidence matrix, metric over all k levels.
    fn naive_alpha(data: &[Vec<Option<usize>>], k: usize, metric: Metric) -> f64 {
        let units = data.iter().map(Vec::len).max().unwrap_or(0);
        let mut o = vec![vec![0.0; k]; k];
        for u in 0..units {
            let vals: Vec<usize> = data
                .iter()
                .filter_map(|r| r.get(u).copied().flatten())
                .collect();
            let m = vals.len();
            if m < 2 {
                continue;
            }
            for (x, &c) in vals.iter().enumerate() {
                for (y, &d) in vals.iter().enumerate() {
                    if x != y {
                        o[c][d] += 1.0 / (m as f64 - 1.0);
                    }
                }
            }
        }
        let nc: Vec<f64> = (0..k).map(|c| o[c].iter().sum()).collect();
        let n: f64 = nc.iter().sum();
        let delta = |c: usize, d: usize| -> f64 {
            match metric {
                Metric::Nominal => f64::from(u8::from(c != d)),
                Metric::Interval => (c as f64 - d as f64).powi(2),
                Metric::Ordinal => {
                    let (lo, hi) = (c.min(d), c.max(d));
                    let s: f64 = nc[lo..=hi].iter().sum();
                    (s - (nc[c] + nc[d]) / 2.0).powi(2)
                }
            }
        };
        let (mut dobs, mut dexp) = (0.0, 0.0);
        for c in 0..k {
            for d in 0..k {
                dobs += o[c][d] * delta(c, d);
                dexp += nc[c] * nc[d] * delta(c, d);
            }
        }
        1.0 - (n - 1.0) * dobs / dexp
    }

    fn check_optional(name: &str, fast: Option<f64>, naive: f64) {
        match fast {
            Some(x) => {
                assert!(x.is_finite(), "{name}: not finite");
                assert!((x - naive).abs() < 1e-9, "{name}: fast {x} naive {naive}");
            }
            // The naive version divides 0 by 0 exactly when the fast one says undefined.
            None => assert!(!naive.is_finite(), "{name}: None but naive gave {naive}"),
        }
    }

    #[test]
    fn random_pairs_match_naive_implementations() {
        let mut rng = Lcg(0x5eed);
        for round in 0..500 {
            let k = 2 + rng.below(6);
            let n = rng.below(25);
            // Sometimes restrict to a narrow band of levels to hit degenerate cases.
            let band = 1 + rng.below(k);
            let pairs: Vec<(usize, usize)> =
                (0..n).map(|_| (rng.below(band), rng.below(band))).collect();
            let name = format!("round {round}: k={k} pairs={pairs:?}");
            let s = pair_stats(&pairs, k);
            assert_eq!(s.n, n);
            if n == 0 {
                assert_eq!(s.kappa, None);
                continue;
            }
            check_optional(&name, s.kappa, naive_kappa(&pairs, k, false));
            check_optional(&name, s.weighted_kappa, naive_kappa(&pairs, k, true));
            let data = vec![
                pairs.iter().map(|&(a, _)| Some(a)).collect(),
                pairs.iter().map(|&(_, b)| Some(b)).collect(),
            ];
            check_optional(&name, s.alpha, naive_alpha(&data, k, Metric::Ordinal));

            // Swapping the markers changes nothing.
            let swapped: Vec<(usize, usize)> = pairs.iter().map(|&(a, b)| (b, a)).collect();
            let t = pair_stats(&swapped, k);
            for (x, y) in [
                (s.kappa, t.kappa),
                (s.weighted_kappa, t.weighted_kappa),
                (s.alpha, t.alpha),
            ] {
                match (x, y) {
                    (Some(x), Some(y)) => assert!((x - y).abs() < 1e-12, "{name}"),
                    (x, y) => assert_eq!(x, y, "{name}"),
                }
            }
            for v in [s.exact, s.adjacent, s.kappa, s.weighted_kappa, s.alpha]
                .into_iter()
                .flatten()
            {
                assert!(v.is_finite() && v <= 1.0 + 1e-12, "{name}: {v}");
            }
        }
    }

    #[test]
    fn random_multi_coder_alpha_matches_naive_implementation() {
        let mut rng = Lcg(42);
        for round in 0..500 {
            let k = 2 + rng.below(6);
            let coders = 1 + rng.below(5);
            let units = rng.below(15);
            let band = 1 + rng.below(k);
            let data: Vec<Vec<Option<usize>>> = (0..coders)
                .map(|_| {
                    (0..units)
                        .map(|_| (rng.below(3) > 0).then(|| rng.below(band)))
                        .collect()
                })
                .collect();
            let name = format!("round {round}: k={k} data={data:?}");
            check_optional(
                &name,
                krippendorff_alpha_nominal(&data, k),
                naive_alpha(&data, k, Metric::Nominal),
            );
            check_optional(
                &name,
                krippendorff_alpha_ordinal(&data, k),
                naive_alpha(&data, k, Metric::Ordinal),
            );
            check_optional(
                &name,
                krippendorff_alpha_interval(&data, k),
                naive_alpha(&data, k, Metric::Interval),
            );
        }
    }
}
