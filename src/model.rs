//! The saved model file: one self-contained file that is all scoring needs.
//!
//! Layout (all integers and floats little-endian):
//!
//! ```text
//! "FRAMELENS-MODEL\n"            16 bytes, the format name
//! version                        u32 (this build writes 3 and reads 1, 2 and 3)
//! header length                  u64, then that many bytes of UTF-8 JSON: kind, labels, thresholds,
//!                                the training parameters (analyzer with its stop words, TF-IDF,
//!                                solver), the training summary (with the prevalence rates when
//!                                present: an optional field, so version 2 is unchanged), n_features
//! vocabulary                     n_features × (u32 byte length + UTF-8 term), in id order
//! idf                            n_features × f64
//! weights                        n_features × n_labels × f64, feature-major
//! bias                           n_labels × f64
//! checksum                       u64 of every byte before it: XXH3-64 (seed 0) in versions 2
//!                                and 3, FNV-1a in version 1
//! ```
//!
//! Version 2 differs from version 1 only in its checksum: FNV-1a takes a byte at a time, one
//! dependent multiplication after another, on every save and load; XXH3 reads eight lanes at once
//! (times in BENCHMARKS.md, "Where the time goes"). Version 3 has version 2's layout; its header
//! may hold what version 2 readers do not know: thresholds chosen by evidence (`threshold_mode`
//! `evidence`, and each label's evidence in the training summary). The new number makes an older
//! framelens say "upgrade" instead of failing on an unknown field value.
//!
//! Loading checks the name, then the version, then the checksum (a truncated or damaged file is
//! reported as such), then every length and invariant through the same constructors training
//! uses. Writing goes to a temporary file in the target's folder, is flushed to disk, then renamed
//! over the target, so a crash never leaves half a model.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

use crate::classifier::{Classifier, ClassifierParams, TrainingSummary};
use crate::error::{Error, Result};
use crate::features::TfidfVectorizer;
use crate::logistic::{LogisticModel, ModelKind};

/// The format name every model file starts with.
pub const MAGIC: &[u8; 16] = b"FRAMELENS-MODEL\n";
/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 3;
/// The oldest format version this build reads.
pub const OLDEST_READABLE: u32 = 1;

/// The JSON header: everything but the large arrays.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelHeader {
    /// "multinomial" or "one_vs_rest".
    pub kind: ModelKind,
    /// Label names in model order.
    pub labels: Vec<String>,
    /// Per-label thresholds (one-vs-rest).
    pub thresholds: Option<Vec<f64>>,
    /// Vocabulary size.
    pub n_features: usize,
    /// Training parameters, including the full analyzer configuration.
    pub params: ClassifierParams,
    /// What training saw.
    pub training: TrainingSummary,
}

const FNV_OFFSET: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

/// The checksum of a file of format `version` over `bytes` (every byte before it).
fn checksum(version: u32, bytes: &[u8]) -> u64 {
    if version == 1 {
        fnv1a(bytes)
    } else {
        xxhash_rust::xxh3::xxh3_64(bytes)
    }
}

/// `bytes` with its last 8 bytes replaced by the right checksum for the version it names (for
/// fuzzing: a mutated model then reaches the checks past the checksum). Unchanged when shorter
/// than a header.
#[doc(hidden)]
pub fn with_valid_checksum(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.len() >= MAGIC.len() + 4 + 8 {
        let version = u32::from_le_bytes(
            out[MAGIC.len()..MAGIC.len() + 4]
                .try_into()
                .expect("four bytes"),
        );
        let n = out.len() - 8;
        let sum = checksum(version, &out[..n]);
        out[n..].copy_from_slice(&sum.to_le_bytes());
    }
    out
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(FNV_OFFSET, |h, &b| (h ^ b as u64).wrapping_mul(FNV_PRIME))
}

/// Serialise a classifier to bytes.
pub fn to_bytes(clf: &Classifier) -> Result<Vec<u8>> {
    let header = ModelHeader {
        kind: clf.model.kind,
        labels: clf.labels.clone(),
        thresholds: clf.thresholds.clone(),
        n_features: clf.vectorizer.n_features(),
        params: ClassifierParams {
            tfidf: clf.vectorizer.params().clone(),
            ..clf.params.clone()
        },
        training: clf.summary.clone(),
    };
    let json = serde_json::to_vec(&header).map_err(|source| Error::ModelHeader { source })?;
    let vocab_bytes: usize = clf
        .vectorizer
        .vocabulary()
        .iter()
        .map(|t| 4 + t.len())
        .sum();
    let mut out = Vec::with_capacity(
        16 + 12
            + json.len()
            + vocab_bytes
            + 8 * (clf.model.weights.len() + clf.model.bias.len() + clf.vectorizer.n_features())
            + 8,
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for term in clf.vectorizer.vocabulary() {
        out.extend_from_slice(&(term.len() as u32).to_le_bytes());
        out.extend_from_slice(term.as_bytes());
    }
    for x in clf
        .vectorizer
        .idf()
        .iter()
        .chain(&clf.model.weights)
        .chain(&clf.model.bias)
    {
        out.extend_from_slice(&x.to_le_bytes());
    }
    let sum = checksum(FORMAT_VERSION, &out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// Write a classifier to `path` atomically (temporary file in the same folder, then rename).
pub fn save(clf: &Classifier, path: &Path) -> Result<()> {
    let bytes = to_bytes(clf)?;
    write_atomic(path, &bytes)
}

/// Write `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] for output produced piece by piece: `write` fills a buffered writer on the
/// temporary file, which replaces `path` only when everything was written.
///
/// A symbolic link is followed: the file it names is replaced and the link stays. A path that is
/// not a regular file (a device such as `/dev/null`, a FIFO) is written in place, never replaced.
/// Temporary files of earlier runs that were killed (`.NAME.<pid>.tmp` whose process is gone) are
/// removed.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let target = follow_links(path);
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a folder"),
            ))
        }
        Ok(m) if !m.is_file() => {
            let result = (|| {
                let f = std::fs::OpenOptions::new().write(true).open(&target)?;
                let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
                write(&mut w)?;
                w.flush()
            })();
            return result.map_err(|e| Error::io(path, e));
        }
        _ => {}
    }
    let path = target.as_path();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    remove_stale_temporaries(&dir, &name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// `path` with its symbolic links followed (also to a file that does not exist yet).
fn follow_links(path: &Path) -> std::path::PathBuf {
    let mut p = path.to_path_buf();
    // A bounded number of hops: a loop of links is left to the write to report.
    for _ in 0..32 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => match std::fs::read_link(&p) {
                Ok(next) => {
                    p = match p.parent() {
                        Some(parent) if next.is_relative() => parent.join(next),
                        _ => next,
                    }
                }
                Err(_) => break,
            },
            _ => break,
        }
    }
    p
}

/// Remove `.NAME.<pid>.tmp` files in `dir` left by processes that no longer run (killed during a
/// write). Only where `/proc` tells which processes run; errors are ignored (best effort).
fn remove_stale_temporaries(dir: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Read a model file.
pub fn load(path: &Path) -> Result<Classifier> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes, &path.display().to_string())
}

/// Read only the header of a model file (cheap: used by `inspect`).
pub fn load_header(path: &Path) -> Result<(u32, ModelHeader)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    header_from_bytes(&bytes, &path.display().to_string())
}

/// The format version and header of model bytes (not checked further: [`from_bytes`] does that).
pub fn header_from_bytes(bytes: &[u8], name: &str) -> Result<(u32, ModelHeader)> {
    let mut r = Reader::new(bytes, name);
    let version = r.preamble()?;
    Ok((version, r.header()?))
}

/// A model file read once: the classifier, with the file's format version and header (what
/// `inspect` shows besides the classifier).
pub fn load_with_header(path: &Path) -> Result<(Classifier, u32, ModelHeader)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let clf = from_bytes(&bytes, &name)?;
    let (version, header) = header_from_bytes(&bytes, &name)?;
    Ok((clf, version, header))
}

/// Parse model bytes; `name` is used in error messages.
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Classifier> {
    let mut r = Reader::new(bytes, name);
    let version = r.preamble()?;
    if bytes.len() < 8 + r.pos {
        return Err(r.corrupt("file is truncated"));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 8);
    let stored = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
    if checksum(version, body) != stored {
        return Err(r.corrupt("checksum mismatch: the file is truncated or damaged"));
    }
    r.bytes = body;
    let header = r.header()?;
    let n = header.n_features;
    let k = header.labels.len();
    // Lengths are checked against what is left before allocating anything.
    if n.saturating_mul(4) > r.remaining() {
        return Err(r.corrupt(&format!("{n} terms cannot fit in the file")));
    }
    let mut vocabulary = Vec::with_capacity(n);
    for i in 0..n {
        let len = r.u32()? as usize;
        let raw = r.take(len)?;
        let term =
            std::str::from_utf8(raw).map_err(|_| r.corrupt(&format!("term {i} is not UTF-8")))?;
        vocabulary.push(term.to_string());
    }
    let idf = r.f64s(n)?;
    let weights = r.f64s(n.checked_mul(k).ok_or_else(|| r.corrupt("size overflow"))?)?;
    let bias = r.f64s(k)?;
    if r.remaining() != 0 {
        return Err(r.corrupt(&format!(
            "{} unexpected bytes after the model",
            r.remaining()
        )));
    }
    let wrap = |e: Error| Error::InvalidModelFile {
        path: name.to_string(),
        source: Box::new(e),
    };
    let vectorizer =
        TfidfVectorizer::from_parts(header.params.tfidf.clone(), vocabulary, idf).map_err(wrap)?;
    let clf = Classifier {
        params: header.params,
        vectorizer,
        model: LogisticModel {
            kind: header.kind,
            n_features: n,
            n_labels: k,
            weights,
            bias,
        },
        labels: header.labels,
        thresholds: header.thresholds,
        summary: header.training,
    };
    clf.validate().map_err(wrap)?;
    Ok(clf)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    name: &'a str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], name: &'a str) -> Self {
        Reader {
            bytes,
            pos: 0,
            name,
        }
    }

    fn corrupt(&self, reason: &str) -> Error {
        Error::CorruptModel {
            path: self.name.to_string(),
            reason: reason.to_string(),
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.corrupt("file is truncated"));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn f64s(&mut self, n: usize) -> Result<Vec<f64>> {
        let raw = self.take(
            n.checked_mul(8)
                .ok_or_else(|| self.corrupt("size overflow"))?,
        )?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    /// Format name and version.
    fn preamble(&mut self) -> Result<u32> {
        let head = &self.bytes[..self.bytes.len().min(MAGIC.len())];
        if head != MAGIC {
            return Err(Error::UnsupportedModelFormat {
                path: self.name.to_string(),
                found: String::from_utf8_lossy(head).trim_end().to_string(),
                expected: String::from_utf8_lossy(MAGIC).trim_end().to_string(),
            });
        }
        self.pos = MAGIC.len();
        let version = self.u32()?;
        if !(OLDEST_READABLE..=FORMAT_VERSION).contains(&version) {
            return Err(Error::UnsupportedModelVersion {
                path: self.name.to_string(),
                found: version,
                supported: format!("{OLDEST_READABLE}..={FORMAT_VERSION}"),
            });
        }
        Ok(version)
    }

    fn header(&mut self) -> Result<ModelHeader> {
        let len = self.u64()?;
        if len > self.remaining() as u64 {
            return Err(self.corrupt("file is truncated"));
        }
        let raw = self.take(len as usize)?;
        serde_json::from_slice(raw).map_err(|e| self.corrupt(&format!("bad header: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn trained() -> Classifier {
        let docs: Vec<Document> = (0..30)
            .map(|i| Document {
                id: i.to_string(),
                text: if i % 2 == 0 {
                    format!("missile strike troops border {i}")
                } else {
                    format!("talks envoy summit minister {i}")
                },
                labels: vec![if i % 2 == 0 { "security" } else { "diplomacy" }.to_string()],
                ..Default::default()
            })
            .collect();
        ClassifierParams::default().fit(&docs).unwrap().0
    }

    #[test]
    fn round_trip_is_identical() {
        let clf = trained();
        let bytes = to_bytes(&clf).unwrap();
        let back = from_bytes(&bytes, "mem").unwrap();
        assert_eq!(back.model, clf.model);
        assert_eq!(back.labels, clf.labels);
        assert_eq!(back.vectorizer.vocabulary(), clf.vectorizer.vocabulary());
        assert_eq!(to_bytes(&back).unwrap(), bytes);
    }

    #[test]
    fn wrong_truncated_newer_and_damaged_files_are_clear_errors() {
        let bytes = to_bytes(&trained()).unwrap();
        let err = from_bytes(b"{\"not\": \"a model\"}", "x").unwrap_err();
        assert!(matches!(err, Error::UnsupportedModelFormat { .. }), "{err}");
        assert!(matches!(
            from_bytes(b"", "x").unwrap_err(),
            Error::UnsupportedModelFormat { .. }
        ));
        for cut in [17, 30, bytes.len() / 2, bytes.len() - 1] {
            let err = from_bytes(&bytes[..cut], "x").unwrap_err();
            assert!(
                matches!(err, Error::CorruptModel { .. }),
                "cut {cut}: {err}"
            );
        }
        let mut newer = bytes.clone();
        newer[16..20].copy_from_slice(&99u32.to_le_bytes());
        let err = from_bytes(&newer, "x").unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedModelVersion { found: 99, .. }),
            "{err}"
        );
        // Each version has its own checksum: the same body as version 1 needs FNV-1a.
        let mut as_v1 = bytes.clone();
        as_v1[16..20].copy_from_slice(&1u32.to_le_bytes());
        let err = from_bytes(&as_v1, "x").unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let body = as_v1.len() - 8;
        let sum = fnv1a(&as_v1[..body]);
        as_v1[body..].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(from_bytes(&as_v1, "x").unwrap().model, trained().model);
        let mut flipped = bytes.clone();
        let mid = bytes.len() - 20;
        flipped[mid] ^= 0x40;
        assert!(matches!(
            from_bytes(&flipped, "x").unwrap_err(),
            Error::CorruptModel { .. }
        ));
    }

    #[test]
    fn non_finite_weights_are_refused_even_with_a_valid_checksum() {
        let mut bytes = to_bytes(&trained()).unwrap();
        let bias_at = bytes.len() - 8 - 8;
        bytes[bias_at..bias_at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
        let body = bytes.len() - 8;
        let sum = checksum(FORMAT_VERSION, &bytes[..body]);
        bytes[body..].copy_from_slice(&sum.to_le_bytes());
        let err = from_bytes(&bytes, "x").unwrap_err();
        let Error::InvalidModelFile { path, source } = &err else {
            panic!("expected InvalidModelFile, got {err:?}");
        };
        assert_eq!(path, "x");
        assert!(source.to_string().contains("finite"), "{source}");
    }

    /// Bytes of `clf` with a valid checksum, whatever its content.
    fn bytes_of(clf: &Classifier) -> Vec<u8> {
        to_bytes(clf).unwrap()
    }

    #[test]
    fn degenerate_or_overflowing_models_are_refused_even_with_a_valid_checksum() {
        // No label: scoring would index an empty list.
        let mut none = trained();
        none.labels.clear();
        none.model = LogisticModel {
            kind: ModelKind::OneVsRest,
            n_features: none.model.n_features,
            n_labels: 0,
            weights: Vec::new(),
            bias: Vec::new(),
        };
        none.thresholds = Some(Vec::new());
        let err = from_bytes(&bytes_of(&none), "x").unwrap_err();
        let Error::InvalidModelFile { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(source.to_string().contains("no label"), "{source}");
        // Finite but enormous weights or biases would give infinite logits and null
        // probabilities.
        for (weight, bias) in [(1e300, 0.0), (0.0, -1e300), (1e200, 1.0)] {
            let mut huge = trained();
            huge.model.weights[0] = weight;
            huge.model.bias[0] = bias;
            let err = from_bytes(&bytes_of(&huge), "x").unwrap_err();
            let Error::InvalidModelFile { source, .. } = &err else {
                panic!("{err:?}")
            };
            assert!(
                source.to_string().contains("would not be finite"),
                "{source}"
            );
        }
        // A large but harmless weight still loads.
        let mut big = trained();
        big.model.weights[0] = 1e6;
        assert!(from_bytes(&bytes_of(&big), "x").is_ok());
    }

    #[test]
    fn save_is_atomic_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.flm");
        save(&trained(), &path).unwrap();
        assert!(load(&path).is_ok());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let err = save(&trained(), &dir.path().join("missing/dir/m.flm")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
    }
}
