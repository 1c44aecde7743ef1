//! The counting pass of `fit`: documents analysed in parallel, their n-grams interned in sharded
//! tables, pruned, and renumbered in vocabulary order. Private to `features`.
//!
//! Fitting analyses documents in parallel, in fixed blocks merged in document order, so the
//! vocabulary, the ids and every number are the same whatever the number of threads.

use hashbrown::HashTable;
use rayon::prelude::*;

use super::tfidf::{hash_term, idf_value, TfidfParams, TfidfVectorizer};
use crate::error::{Error, Result};
use crate::text::Analyzer;

/// Documents are analysed in parallel within blocks of this many, blocks merged in order.
const BLOCK: usize = 512;

/// Which terms the counting pass keeps.
#[derive(Debug, Clone, Copy)]
pub(super) enum Prune {
    /// The parameters' own `min_df`, `max_df` and `max_features` over the documents counted.
    AsParams,
    /// Every term found in at least this many documents (no upper bound, no `max_features`):
    /// the superset from which the vocabulary of any subset of the documents is selected.
    Floor(f64),
}

impl TfidfParams {
    /// `release` is called on each document once it is no longer needed.
    pub(super) fn fit_impl<S: AsRef<str> + Sync>(
        &self,
        docs: &mut [S],
        prune: Prune,
        release: impl Fn(&mut S),
    ) -> Result<Counted> {
        self.validate()?;
        let analyzer = Analyzer::new(self.analyzer.clone())?;
        let n = docs.len();
        if n == 0 {
            return Err(Error::EmptyCorpus {
                what: "fitting TF-IDF",
            });
        }

        // Pass 1: the distinct terms of each document and their counts, against a provisional
        // vocabulary. A term of k units (words; characters for char_wb) is a window of a
        // sequence, named at level k by the pair (its first k - 1 units' window, its last unit):
        // only single units are hashed and compared as text. Within each block of documents,
        // level after level, the keys are split by hash into SHARDS tables, each filled by one
        // task in document order, so provisional ids do not depend on the thread count.
        let levels = analyzer.config().ngram_range.1;
        let code = IdCode::new(levels);
        let max_features = match prune {
            Prune::AsParams => self.max_features,
            Prune::Floor(_) => None,
        };
        let count_totals = max_features.is_some();
        let mut units: Vec<Shard<UnitKey>> =
            (0..SHARDS).map(|_| Shard::new(count_totals)).collect();
        let mut pairs: Vec<Vec<Shard<u64>>> = (2..=levels)
            .map(|_| (0..SHARDS).map(|_| Shard::new(count_totals)).collect())
            .collect();
        let mut doc_terms: Vec<Vec<(u32, u32)>> = Vec::with_capacity(n);
        let mut rows: Vec<Vec<(u32, u32)>> = Vec::with_capacity(BLOCK);
        for block in docs.chunks_mut(BLOCK) {
            let mut grams: Vec<DocGrams> = block
                .par_iter()
                .map_init(Scratch::default, |scratch, d| {
                    DocGrams::count(&analyzer, d.as_ref(), levels, scratch)
                })
                .collect();
            block.iter_mut().for_each(&release);
            for level in 1..=levels {
                grams.par_iter_mut().for_each(|g| g.group(level));
                // Where each document's part of each shard's list of ids starts.
                let mut starts: Vec<[usize; SHARDS]> = Vec::with_capacity(grams.len());
                let mut cursor = [0usize; SHARDS];
                for g in &grams {
                    starts.push(cursor);
                    for (s, c) in cursor.iter_mut().enumerate() {
                        *c += (g.bounds[s + 1] - g.bounds[s]) as usize;
                    }
                }
                let max = code.max_local();
                let local: Vec<Vec<u32>> = if level == 1 {
                    units
                        .par_iter_mut()
                        .enumerate()
                        .map(|(s, shard)| shard.intern_units(s, &grams, max))
                        .collect::<Result<_>>()?
                } else {
                    pairs[level - 2]
                        .par_iter_mut()
                        .enumerate()
                        .map(|(s, shard)| shard.intern_pairs(s, &grams, level, max))
                        .collect::<Result<_>>()?
                };
                grams
                    .par_iter_mut()
                    .zip(starts)
                    .for_each(|(g, cursor)| g.name(level, &local, cursor, code));
            }
            grams
                .par_iter()
                .map(DocGrams::row)
                .collect_into_vec(&mut rows);
            doc_terms.append(&mut rows);
        }
        units.par_iter_mut().for_each(Shard::finish);
        pairs.par_iter_mut().flatten().for_each(Shard::finish);
        // The df and totals of the shard of group g = (level - 1) * SHARDS + shard, as
        // provisional ids number them.
        let counts_of = |g: usize| -> (&[u32], &[u64]) {
            match g / SHARDS {
                0 => (&units[g].df, &units[g].total),
                l => {
                    let shard = &pairs[l - 1][g % SHARDS];
                    (&shard.df, &shard.total)
                }
            }
        };
        let df_of = |g: usize| counts_of(g).0;
        let n_groups = levels * SHARDS;
        // Terms interned only as the start of longer ones have df 0: they are not terms.
        let n_terms_seen: usize = (0..n_groups)
            .map(|g| df_of(g).iter().filter(|&&d| d > 0).count())
            .sum();

        // Pruning, as scikit-learn: keep min_df <= df <= max_df, then the max_features terms of
        // highest corpus count (ties by term order).
        let (min_docs, max_docs) = match prune {
            Prune::AsParams => (self.min_df.documents(n), self.max_df.documents(n)),
            Prune::Floor(floor) => (floor, f64::INFINITY),
        };
        let sep = analyzer.separator();
        // Each term with its first 8 bytes as a big-endian number (zero-padded): an order-
        // preserving key that settles most comparisons of the sort without reading the strings.
        let mut kept: Vec<(u64, String, u32)> = (0..n_groups)
            .into_par_iter()
            .flat_map_iter(|g| {
                let df = df_of(g);
                (0..df.len() as u32)
                    .filter(|&l| {
                        let d = df[l as usize] as f64;
                        d > 0.0 && d >= min_docs && d <= max_docs
                    })
                    .map(|l| {
                        let id = code.id(g, l);
                        let mut term = String::new();
                        write_term(&units, &pairs, code, sep, id, &mut term);
                        (order_prefix(&term), term, id)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let df = |id: u32| df_of(code.group(id))[code.local(id) as usize];
        let total = |id: u32| counts_of(code.group(id)).1[code.local(id) as usize];
        kept.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let mut kept: Vec<(String, u32)> = kept.into_par_iter().map(|(_, t, id)| (t, id)).collect();
        // Every term is one window of units joined by the separator, and units hold no
        // separator, so two distinct windows never give the same term.
        if let Some(w) = kept.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::AmbiguousTerm {
                term: w[0].0.clone(),
            });
        }
        if let Some(m) = max_features {
            keep_most_frequent(&mut kept, m, |t| total(t.1));
        }
        if kept.is_empty() {
            return Err(self.empty_vocabulary(n));
        }

        let mut remap: Vec<Vec<u32>> = (0..n_groups)
            .into_par_iter()
            .map(|g| vec![u32::MAX; df_of(g).len()])
            .collect();
        for (new_id, &(_, old_id)) in kept.iter().enumerate() {
            remap[code.group(old_id)][code.local(old_id) as usize] = new_id as u32;
        }
        let doc_freq: Vec<u32> = kept.par_iter().map(|&(_, old_id)| df(old_id)).collect();
        let idf: Vec<f64> = doc_freq
            .par_iter()
            .map(|&d| idf_value(d as f64, n as f64, self.smooth_idf))
            .collect();
        let vocabulary: Vec<String> = kept.into_par_iter().map(|(term, _)| term).collect();
        drop((units, pairs));

        let vectorizer = TfidfVectorizer::build(self.clone(), analyzer, vocabulary, idf);
        // Each row is renumbered in place (pruned terms dropped), in parallel. Its order stays
        // that of the document's n-grams (which does not depend on the thread count): the
        // columns do not need it sorted, the rows sort it.
        let remapped = |id: u32| remap[code.group(id)][code.local(id) as usize];
        doc_terms.par_iter_mut().for_each(|terms| {
            terms.retain_mut(|(id, _)| {
                *id = remapped(*id);
                *id != u32::MAX
            });
        });
        Ok(Counted {
            vectorizer,
            rows: doc_terms,
            doc_freq,
            n_terms_seen,
        })
    }
}

impl TfidfParams {
    /// The error for pruning that left no term of `n` documents.
    pub(super) fn empty_vocabulary(&self, n: usize) -> Error {
        Error::EmptyVocabulary {
            min_df: self.min_df.to_string(),
            max_df: self.max_df.to_string(),
            max_features: self
                .max_features
                .map_or("none".to_string(), |m| m.to_string()),
            n_documents: n,
        }
    }
}

/// `max_features` pruning as scikit-learn's: of `kept` (in term order), the `m` with the highest
/// corpus count `total`, ties in term order (a stable sort), still in term order.
pub(super) fn keep_most_frequent<T>(kept: &mut Vec<T>, m: usize, total: impl Fn(&T) -> u64) {
    if kept.len() <= m {
        return;
    }
    let mut order: Vec<usize> = (0..kept.len()).collect();
    order.sort_by(|&a, &b| total(&kept[b]).cmp(&total(&kept[a])));
    let mut keep = vec![false; kept.len()];
    order[..m].iter().for_each(|&i| keep[i] = true);
    let mut i = 0;
    kept.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// A fitted vectorizer with the training documents' term counts (each row in the order of the
/// document's n-grams, not sorted): the training matrix before it is laid out as rows or in
/// factored form.
pub(super) struct Counted {
    pub(super) vectorizer: TfidfVectorizer,
    pub(super) rows: Vec<Vec<(u32, u32)>>,
    /// Documents holding each term: the length of each column.
    pub(super) doc_freq: Vec<u32>,
    pub(super) n_terms_seen: usize,
}

/// The first 8 bytes of `term` (zero-padded) as a big-endian number: `a < b` as strings implies
/// `order_prefix(a) <= order_prefix(b)`.
fn order_prefix(term: &str) -> u64 {
    let bytes = term.as_bytes();
    let mut p = [0u8; 8];
    let n = bytes.len().min(8);
    p[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(p)
}

/// hash.
const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;

fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// The hash a shard's table files a key under. The top bits of a key's hash chose its shard,
/// so within a shard they are all the same; hashbrown takes its 7-bit tags from the top bits, and
/// with 3 varying bits one probe in 8 compared a wrong entry. They are shifted out, and bits
/// from the middle fill the bottom.
fn table_hash(hash: u64) -> u64 {
    (hash << SHARD_BITS) | ((hash >> 32) & ((1 << SHARD_BITS) - 1))
}

/// Provisional term ids while fitting: n-gram length (the level), shard and the id local to
/// that shard, packed in a u32 as `((level - 1) * SHARDS + shard) << local_bits | local`, with
/// as few level bits as the longest n-gram needs (28 − 1 = 27 local bits for bigrams).
#[derive(Clone, Copy)]
struct IdCode {
    local_bits: u32,
}

impl IdCode {
    fn new(levels: usize) -> IdCode {
        let level_bits = usize::BITS - (levels - 1).leading_zeros();
        IdCode {
            local_bits: 32 - SHARD_BITS - level_bits,
        }
    }

    /// Local ids stay below this.
    fn max_local(self) -> u32 {
        (1 << self.local_bits) - 1
    }

    fn id(self, group: usize, local: u32) -> u32 {
        ((group as u32) << self.local_bits) | local
    }

    fn named(self, level: usize, shard: usize, local: u32) -> u32 {
        self.id((level - 1) * SHARDS + shard, local)
    }

    fn group(self, id: u32) -> usize {
        (id >> self.local_bits) as usize
    }

    fn local(self, id: u32) -> u32 {
        id & self.max_local()
    }
}

/// Append the text of provisional term `id` to `out`.
fn write_term(
    units: &[Shard<UnitKey>],
    pairs: &[Vec<Shard<u64>>],
    code: IdCode,
    sep: &str,
    id: u32,
    out: &mut String,
) {
    let (g, local) = (code.group(id), code.local(id) as usize);
    let s = g % SHARDS;
    match g / SHARDS {
        0 => out.push_str(units[s].keys[local].text(&units[s].arena)),
        l => {
            let key = pairs[l - 1][s].keys[local];
            write_term(units, pairs, code, sep, (key >> 32) as u32, out);
            out.push_str(sep);
            write_term(units, pairs, code, sep, key as u32, out);
        }
    }
}

/// A key of an interning table and its hash.
trait Key: Copy + Default {
    fn hash(&self) -> u64;
}

/// A unit's text, as its place in an arena.
#[derive(Clone, Copy, Default)]
struct UnitKey {
    hash: u64,
    start: u32,
    len: u32,
}

impl UnitKey {
    /// The unit's text in `arena`.
    fn text(self, arena: &str) -> &str {
        &arena[self.start as usize..(self.start + self.len) as usize]
    }
}

impl Key for UnitKey {
    fn hash(&self) -> u64 {
        self.hash
    }
}

/// An n-gram of two or more units: `prefix id << 32 | last unit id`.
impl Key for u64 {
    fn hash(&self) -> u64 {
        mix(*self)
    }
}

/// A 64-bit integer hash (folded multiply): every input bit reaches the top and bottom bits.
fn mix(key: u64) -> u64 {
    let m = (key as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (m as u64) ^ ((m >> 64) as u64)
}

/// One interning table: the keys whose hash falls in this shard, in order of first appearance.
/// Units' bytes live in one arena (no allocation per term: a corpus meets millions of them), and
/// each table entry carries everything a lookup needs and updates, so a lookup touches the
/// table (and, for units, the arena) and nothing else.
#[derive(Default)]
struct Shard<K> {
    table: HashTable<Entry<K>>,
    /// The units' text (unit shards only).
    arena: String,
    /// Keys interned so far.
    n: u32,
    /// Whether to count each term's occurrences over the corpus (`max_features` ranks by it).
    /// They are kept beside the table, by id, so an entry of a bigram's table is 16 bytes.
    count_totals: bool,
    /// The total count of each term, by id, when `count_totals`.
    total: Vec<u64>,
    /// Filled by [`Shard::finish`]: key and df, by id.
    keys: Vec<K>,
    df: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Entry<K> {
    key: K,
    id: u32,
    df: u32,
}

/// The error for a corpus with more distinct n-grams than provisional ids can number (`max` of
/// one length in one shard) or more unit text than a shard's arena can address.
fn too_many(max: u32) -> Error {
    Error::TooManyTerms {
        detail: format!(
            "over {max} distinct n-grams of one length in one of {SHARDS} shards, or over 4 GB of word text in one: \
             the corpus has more distinct terms than framelens can count before pruning; lower the n-gram range (--ngram-range) or train on part of the corpus"
        ),
    }
}

impl<K: Key> Shard<K> {
    fn new(count_totals: bool) -> Self {
        Shard {
            count_totals,
            ..Shard::default()
        }
    }

    /// Count a key that one document holds `count` times as a term (0: only as the start of
    /// longer terms), found by `is` (given the arena) or else made by `new` (which may extend
    /// the arena); returns its local id.
    fn add(
        &mut self,
        hash: u64,
        count: u32,
        max: u32,
        is: impl Fn(&K, &str) -> bool,
        new: impl FnOnce(&mut String) -> Result<K>,
    ) -> Result<u32> {
        let Shard { table, arena, .. } = self;
        if let Some(e) = table.find_mut(table_hash(hash), |e| is(&e.key, arena.as_str())) {
            e.df += (count > 0) as u32;
            if self.count_totals {
                self.total[e.id as usize] += count as u64;
            }
            return Ok(e.id);
        }
        let id = self.n;
        if id >= max {
            return Err(too_many(max));
        }
        let key = new(&mut self.arena)?;
        self.n += 1;
        if self.count_totals {
            self.total.push(count as u64);
        }
        let entry = Entry {
            key,
            id,
            df: (count > 0) as u32,
        };
        self.table
            .insert_unique(table_hash(hash), entry, |e| table_hash(e.key.hash()));
        Ok(id)
    }

    /// Move the table's contents into arrays by id, and drop the table.
    fn finish(&mut self) {
        let n = self.n as usize;
        self.keys = vec![K::default(); n];
        self.df = vec![0; n];
        for e in std::mem::take(&mut self.table) {
            let i = e.id as usize;
            self.keys[i] = e.key;
            self.df[i] = e.df;
        }
    }
}

impl Shard<UnitKey> {
    /// Intern this shard's units of `docs`, in document order; returns their local ids in the
    /// order met.
    fn intern_units(&mut self, s: usize, docs: &[DocGrams], max: u32) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        for g in docs {
            for &j in g.shard_part(s) {
                let k = g.units[j as usize];
                let term = k.text(&g.arena);
                let id = self.add(
                    k.hash,
                    g.counts[0][j as usize],
                    max,
                    |e, arena| e.hash == k.hash && e.text(arena) == term,
                    |arena| {
                        let start = u32::try_from(arena.len())
                            .ok()
                            .filter(|at| at.checked_add(k.len).is_some())
                            .ok_or_else(|| too_many(max))?;
                        arena.push_str(term);
                        Ok(UnitKey { start, ..k })
                    },
                )?;
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

impl Shard<u64> {
    /// Intern this shard's n-grams of length `level` of `docs`, in document order; returns their
    /// local ids in the order met.
    fn intern_pairs(
        &mut self,
        s: usize,
        docs: &[DocGrams],
        level: usize,
        max: u32,
    ) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        for g in docs {
            for &j in g.shard_part(s) {
                let key = g.keys[j as usize];
                let count = g.counts[level - 1][j as usize];
                ids.push(self.add(mix(key), count, max, |&e, _| e == key, |_| Ok(key))?);
            }
        }
        Ok(ids)
    }
}

/// Per-thread buffers for [`DocGrams::count`], kept from one document to the next.
#[derive(Default)]
struct Scratch {
    units: HashTable<u32>,
    pairs: Vec<HashTable<u32>>,
    /// `at[k - 1][p]`: the local id of the window of k units at position p of the sequence.
    at: Vec<Vec<u32>>,
}

/// One document's distinct n-grams, by length (level), with local ids: level 1 holds the
/// distinct units, level k >= 2 the distinct windows of k units as pairs (window of the first
/// k - 1, last unit). Then, while the block is interned, their provisional ids.
struct DocGrams {
    /// The distinct units' text.
    arena: String,
    /// Level 1: each unit's place in `arena`.
    units: Vec<UnitKey>,
    /// Level k >= 2 at k - 2: `prefix local id << 32 | unit local id`, by local id.
    pairs: Vec<Vec<u64>>,
    /// Level k at k - 1: how many times each n-gram is a term of the document (0: it is only
    /// the start of longer ones), by local id.
    counts: Vec<Vec<u32>>,
    /// Level k at k - 1: provisional ids, by local id, once the level is interned.
    names: Vec<Vec<u32>>,
    /// The level being interned: its keys in provisional ids (levels >= 2), and its local ids
    /// grouped by shard, shard s's at `order[bounds[s]..bounds[s + 1]]`.
    keys: Vec<u64>,
    order: Vec<u32>,
    bounds: [u32; SHARDS + 1],
}

impl DocGrams {
    fn count(analyzer: &Analyzer, text: &str, levels: usize, scratch: &mut Scratch) -> DocGrams {
        let mut g = DocGrams {
            arena: String::with_capacity(text.len() / 2 + 16),
            units: Vec::new(),
            pairs: vec![Vec::new(); levels - 1],
            counts: vec![Vec::new(); levels],
            names: vec![Vec::new(); levels],
            keys: Vec::new(),
            order: Vec::new(),
            bounds: [0; SHARDS + 1],
        };
        let Scratch {
            units: unit_table,
            pairs: pair_tables,
            at,
        } = scratch;
        unit_table.clear();
        pair_tables.resize_with(levels - 1, HashTable::new);
        pair_tables.iter_mut().for_each(HashTable::clear);
        at.resize_with(levels, Vec::new);
        analyzer.for_each_sequence(text, |seq| {
            at[0].clear();
            for &u in seq {
                let hash = hash_term(u);
                let (arena, keys) = (&g.arena, &g.units);
                let found = unit_table.find(hash, |&id| {
                    let k = keys[id as usize];
                    k.hash == hash && k.text(arena) == u
                });
                let id = match found {
                    Some(&id) => id,
                    None => {
                        let id = g.units.len() as u32;
                        g.units.push(UnitKey {
                            hash,
                            start: g.arena.len() as u32,
                            len: u.len() as u32,
                        });
                        g.arena.push_str(u);
                        g.counts[0].push(0);
                        let keys = &g.units;
                        unit_table.insert_unique(hash, id, |&i| keys[i as usize].hash);
                        id
                    }
                };
                at[0].push(id);
            }
            for k in 2..=levels.min(seq.len()) {
                let (done, rest) = at.split_at_mut(k - 1);
                let (first, prev, cur) = (&done[0], &done[k - 2], &mut rest[0]);
                cur.clear();
                let table = &mut pair_tables[k - 2];
                let keys = &mut g.pairs[k - 2];
                let counts = &mut g.counts[k - 1];
                for p in 0..prev.len() - 1 {
                    let key = ((prev[p] as u64) << 32) | first[p + k - 1] as u64;
                    let h = mix(key);
                    let id = match table.find(h, |&id| keys[id as usize] == key) {
                        Some(&id) => id,
                        None => {
                            let id = keys.len() as u32;
                            keys.push(key);
                            counts.push(0);
                            table.insert_unique(h, id, |&i| mix(keys[i as usize]));
                            id
                        }
                    };
                    cur.push(id);
                }
            }
            let counts = &mut g.counts;
            analyzer.for_each_window(seq.len(), |k, p| counts[k - 1][at[k - 1][p] as usize] += 1);
        });
        g
    }

    /// Prepare `level` for interning: its keys in provisional ids, its ids grouped by shard.
    fn group(&mut self, level: usize) {
        let m = self.counts[level - 1].len();
        let shards: Vec<u8> = if level == 1 {
            self.units.iter().map(|k| shard_of(k.hash) as u8).collect()
        } else {
            let (names, first) = (&self.names[level - 2], &self.names[0]);
            self.keys.clear();
            self.keys.extend(self.pairs[level - 2].iter().map(|&p| {
                ((names[(p >> 32) as usize] as u64) << 32) | first[p as u32 as usize] as u64
            }));
            self.keys.iter().map(|&k| shard_of(mix(k)) as u8).collect()
        };
        let mut bounds = [0u32; SHARDS + 1];
        shards.iter().for_each(|&s| bounds[s as usize + 1] += 1);
        for s in 0..SHARDS {
            bounds[s + 1] += bounds[s];
        }
        let mut next = bounds;
        self.order.clear();
        self.order.resize(m, 0);
        for (j, &s) in shards.iter().enumerate() {
            self.order[next[s as usize] as usize] = j as u32;
            next[s as usize] += 1;
        }
        self.bounds = bounds;
    }

    /// The local ids of the level being interned that fall in shard `s`.
    fn shard_part(&self, s: usize) -> &[u32] {
        &self.order[self.bounds[s] as usize..self.bounds[s + 1] as usize]
    }

    /// Record the provisional ids of `level`: shard s's part takes `local[s][cursor[s]..]`.
    fn name(&mut self, level: usize, local: &[Vec<u32>], cursor: [usize; SHARDS], code: IdCode) {
        let names = &mut self.names[level - 1];
        names.clear();
        names.resize(self.counts[level - 1].len(), 0);
        for (s, ids) in local.iter().enumerate() {
            let part = &self.order[self.bounds[s] as usize..self.bounds[s + 1] as usize];
            for (&j, &l) in part.iter().zip(&ids[cursor[s]..]) {
                names[j as usize] = code.named(level, s, l);
            }
        }
    }

    /// The document's terms: (provisional id, count).
    fn row(&self) -> Vec<(u32, u32)> {
        let mut row = Vec::with_capacity(self.counts.iter().map(Vec::len).sum());
        for (counts, names) in self.counts.iter().zip(&self.names) {
            for (&c, &id) in counts.iter().zip(names) {
                if c > 0 {
                    row.push((id, c));
                }
            }
        }
        row
    }
}
