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
        .from_reader(open_text(path)?);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(e, &path_str))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() {
        return Ok(Vec::new());
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
