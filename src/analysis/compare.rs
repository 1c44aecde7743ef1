//! Distinguishing terms between groups of documents: the term counts of each group, gathered in
//! one streaming pass, and their comparison by the keyness statistics.
//!
//! Memory grows with the vocabulary (and the groups' distinct terms), never with the number of
//! documents: documents are counted batch by batch (`counter`) and dropped.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

pub use super::counter::TermCounter;
use super::counter::{GroupTotals, TermId};
use super::keyness::{Keyness, TermCounts};
use crate::error::{Error, Result};

/// Which statistic ranks the terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The informative-Dirichlet log-odds z-score (Monroe et al. 2008).
    #[default]
    LogOdds,
    /// Pearson's χ², as quanteda's `textstat_keyness`.
    Chi2,
    /// The log-likelihood ratio G², as quanteda's `textstat_keyness`.
    Lr,
    /// Pointwise mutual information, as quanteda's `textstat_keyness`.
    Pmi,
}

impl Statistic {
    const ALL: [(Statistic, &'static str); 4] = [
        (Statistic::LogOdds, "logodds"),
        (Statistic::Chi2, "chi2"),
        (Statistic::Lr, "lr"),
        (Statistic::Pmi, "pmi"),
    ];

    /// The statistic's value among a term's statistics.
    pub fn of(self, k: &Keyness) -> f64 {
        match self {
            Statistic::LogOdds => k.z,
            Statistic::Chi2 => k.chi2,
            Statistic::Lr => k.g2,
            Statistic::Pmi => k.pmi,
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Statistic::ALL.iter().find(|(s, _)| s == self).map(|p| p.1);
        f.write_str(name.unwrap_or("?"))
    }
}

impl FromStr for Statistic {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        Statistic::ALL
            .iter()
            .find(|(_, name)| *name == wanted)
            .map(|p| p.0)
            .ok_or_else(|| Error::UnknownChoice {
                name: "statistic",
                value: s.to_string(),
                expected: "logodds, chi2, lr or pmi".to_string(),
            })
    }
}

/// Which groups are compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Groups {
    /// `target` against `reference`.
    Pair { target: String, reference: String },
    /// `target` against every document outside it.
    AgainstRest { target: String },
    /// Every value of the field against the documents outside it.
    EachAgainstRest,
}

/// Settings of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareParams {
    /// The groups compared.
    pub groups: Groups,
    /// A term is compared only when it occurs at least this often in the two groups together.
    /// Default 5.
    pub min_count: u64,
    /// `α_0`, the prior's total: the prior of a term is `α_0 × (its corpus count / all corpus
    /// counts)`. Default 10,000: a prior worth about one small group's words, which ranks
    /// content words above function words on small groups (README, "framelens compare").
    pub prior_scale: f64,
    /// The statistic that ranks the terms. Default: the log-odds z-score.
    pub statistic: Statistic,
}

impl Default for CompareParams {
    fn default() -> Self {
        CompareParams {
            groups: Groups::EachAgainstRest,
            min_count: 5,
            prior_scale: 10_000.0,
            statistic: Statistic::LogOdds,
        }
    }
}

impl CompareParams {
    /// Check the settings.
    pub fn validate(&self) -> Result<()> {
        if !(self.prior_scale.is_finite() && self.prior_scale > 0.0) {
            return Err(Error::OutOfRange {
                name: "prior_scale",
                value: self.prior_scale.to_string(),
                range: "a positive, finite number",
            });
        }
        if self.min_count == 0 {
            return Err(Error::OutOfRange {
                name: "min_count",
                value: "0".to_string(),
                range: "at least 1",
            });
        }
        if let Groups::Pair { target, reference } = &self.groups {
            if target == reference {
                return Err(Error::SameGroups {
                    value: target.clone(),
                });
            }
        }
        Ok(())
    }
}

/// One term of a comparison: its counts, prior and statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermScore {
    /// The term (an n-gram's words joined by spaces).
    pub term: String,
    /// Counts and prior.
    #[serde(flatten)]
    pub counts: TermCounts,
    /// Every statistic.
    #[serde(flatten)]
    pub keyness: Keyness,
}

/// The distinguishing terms of one target group against one reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The target group's value.
    pub target: String,
    /// The reference group's value, or `None` for every document outside the target.
    pub reference: Option<String>,
    /// Documents in the target.
    pub target_documents: u64,
    /// Documents in the reference.
    pub reference_documents: u64,
    /// Term occurrences in the target (`n_t`).
    pub target_total: u64,
    /// Term occurrences in the reference (`n_r`).
    pub reference_total: u64,
    /// Documents in the corpus whose counts give the prior.
    pub corpus_documents: u64,
    /// `α_0`.
    pub prior_total: f64,
    /// The statistic the terms are ranked by.
    pub statistic: Statistic,
    /// The least count (target + reference) of a compared term. Against the rest, a compared
    /// term also occurs in the target at least once.
    pub min_count: u64,
    /// Terms left out because a statistic was not finite (a group of one distinct term).
    pub non_finite: u64,
    /// The compared terms, ranked by the statistic, most target-leaning first.
    pub terms: Vec<TermScore>,
}

impl Comparison {
    /// The reference group's name for people: its value, or "the rest".
    pub fn reference_name(&self) -> String {
        match &self.reference {
            Some(r) => r.clone(),
            None => format!("not {}", self.target),
        }
    }

    /// The `k` terms leaning most to the target (statistic > 0), strongest first.
    pub fn top_target(&self, k: usize) -> impl Iterator<Item = &TermScore> {
        let stat = self.statistic;
        self.terms
            .iter()
            .take_while(move |t| stat.of(&t.keyness) > 0.0)
            .take(k)
    }

    /// The `k` terms leaning most to the reference (statistic < 0), strongest first.
    pub fn top_reference(&self, k: usize) -> impl Iterator<Item = &TermScore> {
        let stat = self.statistic;
        self.terms
            .iter()
            .rev()
            .take_while(move |t| stat.of(&t.keyness) < 0.0)
            .take(k)
    }
}

/// One side of a comparison: a group's name, totals and per-term counts (`None`: the rest of
/// the corpus outside the target).
struct Side<'a> {
    name: String,
    documents: u64,
    total: u64,
    counts: Option<&'a FxHashMap<TermId, u64>>,
}

impl TermCounter {
    /// Compare the groups the counter was made for; `field` names the grouping field in
    /// messages. Errors: no documents, a group that does not occur or is empty, no term frequent
    /// enough (pair and target comparisons; with every value against the rest, a value without
    /// such terms is left out, and it is an error only when every value is).
    pub fn compare(&self, field: &str, params: &CompareParams) -> Result<Vec<Comparison>> {
        params.validate()?;
        if self.groups != params.groups {
            return Err(Error::Incompatible {
                name: "groups",
                value: format!("{:?}", params.groups),
                reason: format!("the counter was made for {:?}", self.groups),
            });
        }
        let corpus_total = self.corpus_total();
        if self.documents() == 0 || corpus_total == 0 {
            return Err(Error::EmptyGroup {
                group: "the input".to_string(),
                reason: format!(
                    "{} document(s) with a \"{field}\" value and {corpus_total} terms: nothing to compare",
                    self.documents()
                ),
            });
        }
        let found = |v: &String| {
            self.slot_of(v)
                .filter(|&s| self.group_totals[s as usize].documents > 0)
                .ok_or_else(|| Error::UnknownGroup {
                    field: field.to_string(),
                    value: v.to_string(),
                    seen: self.most_frequent_values(10),
                })
        };
        fn side<'c>(
            totals: &GroupTotals,
            name: &str,
            counts: &'c FxHashMap<TermId, u64>,
        ) -> Side<'c> {
            Side {
                name: name.to_string(),
                documents: totals.documents,
                total: totals.total,
                counts: Some(counts),
            }
        }
        let side = |name: &String, slot: u32, counts| {
            side(&self.group_totals[slot as usize], name, counts)
        };
        let rest = |t: &Side| Side {
            name: format!("not {}", t.name),
            documents: self.documents() - t.documents,
            total: corpus_total - t.total,
            counts: None,
        };
        match &params.groups {
            Groups::Pair { target, reference } => {
                let (ts, rs) = (found(target)?, found(reference)?);
                let counts = self.group_counts(&[ts, rs]);
                let t = side(target, ts, &counts[0]);
                let r = side(reference, rs, &counts[1]);
                Ok(vec![self.compare_two(&t, &r, params)?])
            }
            Groups::AgainstRest { target } => {
                let ts = found(target)?;
                let counts = self.group_counts(&[ts]);
                let t = side(target, ts, &counts[0]);
                Ok(vec![self.compare_two(&t, &rest(&t), params)?])
            }
            Groups::EachAgainstRest => {
                let slots: Vec<(&String, u32)> = self.slots().collect();
                if slots.len() < 2 {
                    return Err(Error::EmptyGroup {
                        group: field.to_string(),
                        reason: format!(
                            "only {} value(s) ({}): comparing needs at least two",
                            slots.len(),
                            self.most_frequent_values(10)
                        ),
                    });
                }
                let ids: Vec<u32> = slots.iter().map(|p| p.1).collect();
                let counts = self.group_counts(&ids);
                let mut all = Vec::new();
                for ((name, slot), counts) in slots.into_iter().zip(&counts) {
                    let t = side(name, slot, counts);
                    match self.compare_two(&t, &rest(&t), params) {
                        Ok(c) => all.push(c),
                        // A value without frequent terms, or one that every document carries:
                        // nothing to show for it, the others still are.
                        Err(Error::NoTermsToCompare { .. } | Error::EmptyGroup { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                if all.is_empty() {
                    return Err(Error::NoTermsToCompare {
                        target: format!("any value of \"{field}\""),
                        reference: "the rest".to_string(),
                        min_count: params.min_count,
                    });
                }
                Ok(all)
            }
        }
    }

    /// One comparison: `target` against `reference` (a group, or the rest of the corpus).
    fn compare_two(
        &self,
        target: &Side,
        reference: &Side,
        params: &CompareParams,
    ) -> Result<Comparison> {
        for side in [target, reference] {
            if side.documents == 0 || side.total == 0 {
                return Err(Error::EmptyGroup {
                    group: side.name.clone(),
                    reason: format!(
                        "{} document(s), {} terms: nothing to compare",
                        side.documents, side.total
                    ),
                });
            }
        }
        let corpus_total = self.corpus_total() as f64;
        let none = FxHashMap::default();
        let target_counts = target.counts.unwrap_or(&none);
        let count =
            |side: &Side, id: TermId| side.counts.unwrap_or(&none).get(&id).copied().unwrap_or(0);
        let score = |id: TermId| {
            let a = count(target, id);
            let b = match reference.counts {
                Some(_) => count(reference, id),
                None => self.corpus_count(id) - a,
            };
            (a + b >= params.min_count).then(|| {
                let counts = TermCounts {
                    target: a as f64,
                    reference: b as f64,
                    target_total: target.total as f64,
                    reference_total: reference.total as f64,
                    prior: params.prior_scale * self.corpus_count(id) as f64 / corpus_total,
                    prior_total: params.prior_scale,
                };
                (id, counts)
            })
        };
        let t = target_counts;
        let candidates: Vec<(TermId, TermCounts)> = match reference.counts {
            Some(r) => {
                let mut ids: Vec<TermId> = t.keys().copied().collect();
                ids.extend(r.keys().filter(|id| !t.contains_key(*id)));
                ids.into_iter().filter_map(score).collect()
            }
            // Against the rest, whose vocabulary is the whole corpus: the terms the target uses.
            None => t.keys().copied().filter_map(score).collect(),
        };
        let mut non_finite = 0;
        let mut terms: Vec<TermScore> = candidates
            .into_par_iter()
            .map(|(id, counts)| TermScore {
                term: self.term(id).to_string(),
                counts,
                keyness: counts.keyness(),
            })
            .collect::<Vec<_>>()
            .into_iter()
            .filter(|t| {
                let k = &t.keyness;
                let finite = [k.delta, k.variance, k.z, k.chi2, k.g2, k.pmi]
                    .iter()
                    .all(|x| x.is_finite());
                non_finite += u64::from(!finite);
                finite
            })
            .collect();
        if terms.is_empty() {
            return Err(Error::NoTermsToCompare {
                target: format!("\"{}\"", target.name),
                reference: format!("\"{}\"", reference.name),
                min_count: params.min_count,
            });
        }
        let stat = params.statistic;
        terms.par_sort_unstable_by(|x, y| {
            stat.of(&y.keyness)
                .total_cmp(&stat.of(&x.keyness))
                .then_with(|| x.term.cmp(&y.term))
        });
        Ok(Comparison {
            target: target.name.clone(),
            reference: reference.counts.map(|_| reference.name.clone()),
            target_documents: target.documents,
            reference_documents: reference.documents,
            target_total: target.total,
            reference_total: reference.total,
            corpus_documents: self.documents(),
            prior_total: params.prior_scale,
            statistic: stat,
            min_count: params.min_count,
            non_finite,
            terms,
        })
    }

    /// Up to `k` values of the field, most documents first, as `"value" (n)`.
    fn most_frequent_values(&self, k: usize) -> String {
        let mut v: Vec<(&String, &u64)> = self.values.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let shown: Vec<String> = v
            .iter()
            .take(k)
            .map(|(value, n)| format!("\"{value}\" ({n})"))
            .collect();
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    }
}
