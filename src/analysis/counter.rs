//! Term counts of a corpus and of its groups, filled batch by batch in parallel.
//!
//! Terms are split by hash into [`SHARDS`] tables, so that after the documents of a batch are
//! analysed (in parallel, each document's terms copied into its own buffer with their hashes),
//! every shard is updated by one task with no lock and no merge step. Memory holds the
//! vocabulary, the per-group counts and one batch of terms, never the documents.

use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::collections::BTreeMap;
use std::hash::BuildHasher;

use super::compare::Groups;
use crate::text::Analyzer;

/// Number of term tables (a power of two: the shard is the hash's top bits).
const SHARDS: usize = 64;
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// A term's id across shards: its index in its shard times [`SHARDS`], plus the shard.
pub(super) type TermId = u32;

/// One shard: its terms, their corpus counts, and the counts of each kept group.
#[derive(Debug, Default)]
struct Shard {
    index: HashTable<(u64, u32)>,
    terms: Vec<Box<str>>,
    corpus: Vec<u64>,
    /// (group slot, index in this shard) → count.
    groups: FxHashMap<(u32, u32), u64>,
}

impl Shard {
    /// The index of `term` (hash `hash`) in this shard, added if new.
    fn index_of(&mut self, hash: u64, term: &str) -> u32 {
        let terms = &self.terms;
        if let Some(&(_, i)) = self
            .index
            .find(hash, |&(h, i)| h == hash && &*terms[i as usize] == term)
        {
            return i;
        }
        let i = self.terms.len() as u32;
        self.terms.push(term.into());
        self.corpus.push(0);
        self.index.insert_unique(hash, (hash, i), |&(h, _)| h);
        i
    }
}

/// One document's terms, in shard order: the text of each in `arena`.
#[derive(Default)]
struct DocTerms {
    arena: String,
    /// (shard, hash, start, end) per occurrence, sorted by shard.
    items: Vec<(u8, u64, u32, u32)>,
}

/// One group's totals.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupTotals {
    /// Documents in the group.
    pub documents: u64,
    /// Term occurrences in the group.
    pub total: u64,
}

/// The term counts of a corpus and of the groups a comparison needs.
#[derive(Debug)]
pub struct TermCounter {
    analyzer: Analyzer,
    pub(super) groups: Groups,
    shards: Vec<Shard>,
    documents: u64,
    total: u64,
    /// Group value → slot, for the groups kept.
    slots: BTreeMap<String, u32>,
    pub(super) group_totals: Vec<GroupTotals>,
    /// Documents per value of the field, for every value seen (to name the values that exist
    /// when a target is missing).
    pub(super) values: BTreeMap<String, u64>,
}

impl TermCounter {
    /// An empty counter: terms come from `analyzer`; only the groups that `groups` needs are
    /// counted apart.
    pub fn new(analyzer: Analyzer, groups: Groups) -> TermCounter {
        let mut counter = TermCounter {
            analyzer,
            groups: groups.clone(),
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            documents: 0,
            total: 0,
            slots: BTreeMap::new(),
            group_totals: Vec::new(),
            values: BTreeMap::new(),
        };
        match groups {
            Groups::Pair { target, reference } => {
                counter.slot(&target);
                counter.slot(&reference);
            }
            Groups::AgainstRest { target } => {
                counter.slot(&target);
            }
            Groups::EachAgainstRest => {}
        }
        counter
    }

    /// The slot of group `value`, added if new.
    fn slot(&mut self, value: &str) -> u32 {
        if let Some(&s) = self.slots.get(value) {
            return s;
        }
        let s = self.group_totals.len() as u32;
        self.slots.insert(value.to_string(), s);
        self.group_totals.push(GroupTotals::default());
        s
    }

    /// Documents counted so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Term occurrences in the whole corpus.
    pub(super) fn corpus_total(&self) -> u64 {
        self.total
    }

    /// The slot of a kept group, if it was counted.
    pub(super) fn slot_of(&self, value: &str) -> Option<u32> {
        self.slots.get(value).copied()
    }

    /// The kept groups and their slots, by value.
    pub(super) fn slots(&self) -> impl Iterator<Item = (&String, u32)> {
        self.slots.iter().map(|(v, &s)| (v, s))
    }

    /// A term's text.
    pub(super) fn term(&self, id: TermId) -> &str {
        let shard = &self.shards[(id as usize) & (SHARDS - 1)];
        &shard.terms[(id >> SHARD_BITS) as usize]
    }

    /// A term's count in the whole corpus.
    pub(super) fn corpus_count(&self, id: TermId) -> u64 {
        let shard = &self.shards[(id as usize) & (SHARDS - 1)];
        shard.corpus[(id >> SHARD_BITS) as usize]
    }

    /// The counts of every term in the groups of `slots`, one map per slot.
    pub(super) fn group_counts(&self, slots: &[u32]) -> Vec<FxHashMap<TermId, u64>> {
        let mut out: Vec<FxHashMap<TermId, u64>> =
            slots.iter().map(|_| Default::default()).collect();
        // Slot → its place in `slots`, looked up once per (group, term) count.
        let mut place = vec![None; self.group_totals.len()];
        for (k, &slot) in slots.iter().enumerate() {
            place[slot as usize] = Some(k);
        }
        for (s, shard) in self.shards.iter().enumerate() {
            for (&(slot, i), &n) in &shard.groups {
                if let Some(k) = place[slot as usize] {
                    out[k].insert((i << SHARD_BITS) | s as u32, n);
                }
            }
        }
        out
    }

    /// Count a batch of documents, each a text with the values of the grouping field it carries
    /// (several for a multi-valued field such as labels; a value listed twice counts once). Every
    /// document counts in the corpus, which gives the prior.
    pub fn add_batch(&mut self, docs: &[(&str, Vec<String>)]) {
        // Each document's group slots (the groups kept), in order.
        let mut doc_slots: Vec<Vec<u32>> = Vec::with_capacity(docs.len());
        for (_, values) in docs {
            let mut values: Vec<&String> = values.iter().collect();
            values.sort();
            values.dedup();
            let mut slots = Vec::new();
            for v in values {
                *self.values.entry(v.clone()).or_insert(0) += 1;
                let slot = match self.groups {
                    Groups::EachAgainstRest => Some(self.slot(v)),
                    _ => self.slot_of(v),
                };
                if let Some(s) = slot {
                    self.group_totals[s as usize].documents += 1;
                    slots.push(s);
                }
            }
            doc_slots.push(slots);
        }
        let analyzer = &self.analyzer;
        let hasher = FxBuildHasher;
        let terms: Vec<DocTerms> = docs
            .par_iter()
            .map(|(text, _)| {
                let mut d = DocTerms::default();
                analyzer.for_each_term(text, |t| {
                    let start = d.arena.len() as u32;
                    d.arena.push_str(t);
                    let hash = hasher.hash_one(t);
                    let shard = (hash >> (64 - SHARD_BITS)) as u8;
                    d.items.push((shard, hash, start, d.arena.len() as u32));
                });
                d.items.sort_unstable_by_key(|item| item.0);
                d
            })
            .collect();
        // Where each document's items of each shard start.
        let bounds: Vec<[u32; SHARDS + 1]> = terms
            .par_iter()
            .map(|d| {
                let mut b = [0u32; SHARDS + 1];
                for item in &d.items {
                    b[item.0 as usize + 1] += 1;
                }
                for s in 0..SHARDS {
                    b[s + 1] += b[s];
                }
                b
            })
            .collect();
        self.shards
            .par_iter_mut()
            .enumerate()
            .for_each(|(s, shard)| {
                for ((d, b), slots) in terms.iter().zip(&bounds).zip(&doc_slots) {
                    for &(_, hash, start, end) in &d.items[b[s] as usize..b[s + 1] as usize] {
                        let i = shard.index_of(hash, &d.arena[start as usize..end as usize]);
                        shard.corpus[i as usize] += 1;
                        for &slot in slots {
                            *shard.groups.entry((slot, i)).or_insert(0) += 1;
                        }
                    }
                }
            });
        for (d, slots) in terms.iter().zip(&doc_slots) {
            let n = d.items.len() as u64;
            self.documents += 1;
            self.total += n;
            for &slot in slots {
                self.group_totals[slot as usize].total += n;
            }
        }
    }
}
