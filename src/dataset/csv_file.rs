//! CSV and TSV files with a header row.

use std::path::Path;

use super::*;
use crate::error::{Error, Result};

pub(super) fn read_csv(
    path: &Path,
    opts: &ReadOptions,
    report: &mut ReadReport,
) -> Result<Vec<Document>> {
    let path_str = display(path);
    let delimiter = if inner_extension(path).as_deref() == Some("tsv") {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(CrlfToLf::new(open_text(path)?));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(e, &path_str))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() {
        return Ok(Vec::new());
    }
    // A column named twice would be read from its first place without a word: refuse it.
    for (i, name) in header.iter().enumerate() {
        if header[..i].contains(name) {
            return Err(Error::BadRecord {
                path: path_str.clone(),
                line: 1,
                field: Some(name.clone()),
                reason: "the header names this column twice".to_string(),
            });
        }
    }
    let column = |name: &str| header.iter().position(|h| h == name);
    let missing_column = |name: &str, flag: &str| Error::BadRecord {
        path: path_str.clone(),
        line: 1,
        field: Some(name.to_string()),
        reason: format!(
            "no such column; the header has {} (set {flag}{})",
            header
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", "),
            if delimiter == b',' && header.len() == 1 && header[0].contains('\t') {
                ", or name the file .tsv if it is tab-separated"
            } else {
                ""
            }
        ),
    };
    let text_column =
        column(&opts.text_field).ok_or_else(|| missing_column(&opts.text_field, "--text-field"))?;
    let label_column = column(&opts.label_field);
    if label_column.is_none() && opts.labels_required {
        return Err(missing_column(&opts.label_field, "--label-field"));
    }
    let id_column = column(&opts.id_field);
    let stem = file_stem(path);

    let mut docs = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.skip_or_fail(csv_error(e, &path_str), opts.skip_invalid)?;
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |i: usize| record.get(i).unwrap_or("");
        let mut labels = Vec::new();
        let mut label_error = None;
        if let Some(i) = label_column {
            let raw = cell(i);
            if !raw.trim().is_empty() {
                for piece in raw.split(opts.label_separator) {
                    if push_label(&mut labels, piece).is_err() {
                        label_error = Some(format!(
                            "empty label in `{raw}` (labels are separated by `{}`)",
                            opts.label_separator
                        ));
                        break;
                    }
                }
            }
        }
        if label_error.is_none() && labels.is_empty() && opts.labels_required {
            label_error = Some("empty: at least one label is required".to_string());
        }
        if opts.labels_required && cell(text_column).trim().is_empty() {
            let error = Error::BadRecord {
                path: path_str.clone(),
                line,
                field: Some(opts.text_field.clone()),
                reason: "empty: a labelled document needs text".to_string(),
            };
            report.skip_or_fail(error, opts.skip_invalid)?;
            continue;
        }
        if let Some(reason) = label_error {
            let error = Error::BadRecord {
                path: path_str.clone(),
                line,
                field: Some(opts.label_field.clone()),
                reason,
            };
            report.skip_or_fail(error, opts.skip_invalid)?;
            continue;
        }
        let id = match id_column.map(cell) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => generated_id(&stem, line),
        };
        let meta = header
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != text_column && Some(*i) != label_column && Some(*i) != id_column)
            .map(|(i, name)| (name.clone(), cell(i).to_string()))
            .collect();
        docs.push(Document {
            id,
            text: cell(text_column).to_string(),
            labels,
            meta,
        });
    }
    Ok(docs)
}

pub(super) fn csv_error(error: csv::Error, path: &str) -> Error {
    let line = error.position().map_or(0, |p| p.line() as usize);
    let reason = match error.kind() {
        csv::ErrorKind::Io(_) => None,
        csv::ErrorKind::Utf8 { err, .. } => Some(format!(
            "invalid UTF-8 in field {} (the file must be UTF-8)",
            err.field() + 1
        )),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Some(format!(
            "the row has {len} fields but the header has {expected_len} (an unquoted delimiter or line break in a cell?)"
        )),
        _ => Some(error.to_string()),
    };
    match reason {
        Some(reason) => Error::BadRecord {
            path: path.to_string(),
            line,
            field: None,
            reason,
        },
        None => match error.into_kind() {
            csv::ErrorKind::Io(e) => Error::io(path, e),
            other => Error::BadRecord {
                path: path.to_string(),
                line,
                field: None,
                reason: format!("{other:?}"),
            },
        },
    }
}

/// Reads `inner` with every CR LF turned into LF. The CSV parser counts lines by LF but ends a
/// CR LF record at the CR, so in CR LF files it gave every record after the first the line of the
/// one before; with plain LF its line numbers are the file's. (A CR LF inside a quoted cell
/// becomes LF too, as text normalisation would make it anyway.)
struct CrlfToLf<R> {
    inner: R,
    /// A CR read at the end of the last chunk, not yet known to precede an LF.
    pending_cr: bool,
}

impl<R: std::io::Read> CrlfToLf<R> {
    fn new(inner: R) -> Self {
        CrlfToLf {
            inner,
            pending_cr: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for CrlfToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            // Room for a CR held back from the last chunk.
            let reserve = usize::from(self.pending_cr);
            if buf.len() <= reserve {
                // Only the held-back CR fits: it is output as is (the next byte decides nothing
                // the parser cares about at a one-byte read).
                buf[0] = b'\r';
                self.pending_cr = false;
                return Ok(1);
            }
            let n = self.inner.read(&mut buf[reserve..])?;
            if n == 0 {
                if self.pending_cr {
                    self.pending_cr = false;
                    buf[0] = b'\r';
                    return Ok(1);
                }
                return Ok(0);
            }
            if reserve == 1 {
                buf[0] = b'\r';
            }
            let len = reserve + n;
            let mut out = 0;
            let mut i = 0;
            self.pending_cr = false;
            while i < len {
                let b = buf[i];
                if b == b'\r' {
                    if i + 1 < len {
                        if buf[i + 1] == b'\n' {
                            i += 1;
                            continue;
                        }
                    } else {
                        self.pending_cr = true;
                        i += 1;
                        continue;
                    }
                }
                buf[out] = b;
                out += 1;
                i += 1;
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod crlf_tests {
    use super::CrlfToLf;
    use std::io::Read;

    /// A reader that returns at most `step` bytes per call, to cut CR LF pairs across reads.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn crlf_becomes_lf_across_every_read_boundary() {
        let input = b"a,b\r\n1,\"x\r\ny\"\r\n2,z\r\r\n\r3,w\r";
        let expected = String::from_utf8_lossy(input).replace("\r\n", "\n");
        for step in 1..=input.len() {
            for buf_len in [2, 3, 7, 64] {
                let mut reader = CrlfToLf::new(Trickle(input, step));
                let mut out = Vec::new();
                let mut buf = vec![0u8; buf_len];
                loop {
                    let n = reader.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    out.extend_from_slice(&buf[..n]);
                }
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    expected,
                    "step {step}, buffer {buf_len}"
                );
            }
        }
    }
}
