//! The HTTP endpoints: requests in, the library's predictions out, every refusal a JSON error
//! with its status.

use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

use super::super::output::prediction_json;
use super::{AppState, Loaded};
use framelens::Prediction;

/// Documents a response reports to the request log (a response extension).
#[derive(Clone, Copy)]
pub(super) struct Documents(pub(super) u64);

/// A refused request: its status, a machine-readable kind and a message.
pub(super) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {"status": self.status.as_u16(), "kind": self.kind, "message": self.message}
        });
        let mut r = (self.status, axum::Json(body)).into_response();
        r.extensions_mut().insert(ErrorKind(self.kind));
        r
    }
}

/// The kind of a refused request (a response extension, counted in the metrics).
#[derive(Clone, Copy)]
pub(super) struct ErrorKind(pub(super) &'static str);

/// Largest `top_terms` accepted: more than any explanation needs, small enough to bound work.
const MAX_TOP_TERMS: u64 = 1000;

#[derive(Deserialize)]
pub(super) struct ScoreQuery {
    top_terms: Option<String>,
}

/// `POST /v1/score`: one document `{"id", "text"}` or `{"documents": [...]}`; answers with the
/// JSON lines `framelens score` writes for the same documents.
pub(super) async fn score(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ScoreQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime.eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "send the documents as JSON with Content-Type: application/json",
        ));
    }
    let limits = &state.limits;
    let bytes = match tokio::time::timeout(limits.timeout, to_bytes(body, limits.max_body)).await {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("the body did not arrive within {:?}", limits.timeout),
            ))
        }
        Ok(Err(_)) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the body is larger than {} bytes (--max-body), or was cut off",
                    limits.max_body
                ),
            ))
        }
        Ok(Ok(b)) => b,
    };
    let request: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let (docs, body_top) = documents(&request, limits.max_batch)?;
    let top_terms = top_terms(query.top_terms.as_deref(), body_top)?;

    // Scoring runs on the rayon pool, off the async threads; a full queue is refused at once.
    let Ok(permit) = state.queue.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests are being scored; retry shortly",
        ));
    };
    let model: Arc<Loaded> = state.model();
    let n = docs.len() as u64;
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        use rayon::prelude::*;
        let predictions: Vec<Prediction> = if docs.len() == 1 {
            vec![model.clf.predict(&docs[0].0, &docs[0].1, top_terms)]
        } else {
            docs.par_iter()
                .map(|(id, text)| model.clf.predict(id, text, top_terms))
                .collect()
        };
        let mut out = Vec::with_capacity(predictions.len() * 512);
        for p in &predictions {
            // Writing JSON into memory cannot fail.
            let _ = serde_json::to_writer(&mut out, &prediction_json(&model.clf, p));
            out.push(b'\n');
        }
        drop(permit);
        let _ = tx.send(out);
    });
    let out = rx.await.map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "scoring stopped unexpectedly",
        )
    })?;
    state.metrics.documents(n);
    let mut r = ([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response();
    r.extensions_mut().insert(Documents(n));
    Ok(r)
}

/// A request's documents as (id, text).
type Docs = Vec<(String, String)>;

/// The documents of a request as (id, text), and its body's `top_terms`, or why not.
fn documents(request: &Value, max_batch: usize) -> Result<(Docs, Option<&Value>), ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_document", m);
    let Some(object) = request.as_object() else {
        return Err(bad(
            "expected a JSON object: {\"id\", \"text\"} or {\"documents\": [...]}".into(),
        ));
    };
    let one = |d: &Value, position: usize| -> Result<(String, String), ApiError> {
        let Some(d) = d.as_object() else {
            return Err(bad(format!("document {position}: expected an object")));
        };
        let text = match d.get("text") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => {
                return Err(bad(format!(
                    "document {position}: \"text\" must be a string"
                )))
            }
            None => return Err(bad(format!("document {position}: \"text\" is missing"))),
        };
        let id = match d.get("id") {
            None | Some(Value::Null) => position.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(bad(format!("document {position}: \"id\" must be a string"))),
        };
        Ok((id, text))
    };
    let docs = match object.get("documents") {
        Some(Value::Array(list)) => {
            if list.is_empty() {
                return Err(bad("\"documents\" is empty".into()));
            }
            if list.len() > max_batch {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "batch_too_large",
                    format!(
                        "{} documents in one request; the limit is {max_batch} (--max-batch)",
                        list.len()
                    ),
                ));
            }
            list.iter()
                .enumerate()
                .map(|(i, d)| one(d, i + 1))
                .collect::<Result<Vec<_>, _>>()?
        }
        Some(_) => return Err(bad("\"documents\" must be a list".into())),
        None => vec![one(request, 1)?],
    };
    Ok((docs, object.get("top_terms")))
}

/// `top_terms` from the query (text) or the body (a number); default 10.
fn top_terms(query: Option<&str>, body: Option<&Value>) -> Result<usize, ApiError> {
    let invalid = |v: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_option",
            format!("top_terms = {v}: expected a whole number from 0 to {MAX_TOP_TERMS}"),
        )
    };
    let n = match (query, body) {
        (Some(q), _) => q
            .trim()
            .parse::<u64>()
            .map_err(|_| invalid(q.to_string()))?,
        (None, Some(Value::Null)) | (None, None) => 10,
        (None, Some(v)) => v.as_u64().ok_or_else(|| invalid(v.to_string()))?,
    };
    if n > MAX_TOP_TERMS {
        return Err(invalid(n.to_string()));
    }
    Ok(n as usize)
}

/// `GET /v1/model`: what `inspect --json` prints for the model being served.
pub(super) async fn model(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.model().info.clone()).into_response()
}

/// `GET /healthz`: the service is up and has a model.
pub(super) async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let m = state.model();
    axum::Json(serde_json::json!({
        "status": "ok",
        "model": m.path.display().to_string(),
        "labels": m.clf.labels.len(),
        "loaded_seconds_ago": m.loaded.elapsed().as_secs(),
    }))
    .into_response()
}

/// `GET /metrics`: Prometheus text.
pub(super) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Any other path.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint: POST /v1/score, GET /v1/model, GET /healthz, GET /metrics",
    )
}
