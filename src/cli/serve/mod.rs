//! `framelens serve`: the scoring service. Only wires HTTP to the library: tokio + hyper accept
//! connections, axum routes them (`handlers`), rayon scores, `metrics` counts. The model is
//! swapped atomically on SIGHUP or when its file changes; SIGTERM/SIGINT stop accepting and let
//! requests in flight finish.

mod handlers;
mod metrics;

use anyhow::{Context, Result};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use clap::Args;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::Semaphore;

use framelens::{model, Classifier};
use handlers::{Documents, ErrorKind};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub(super) struct ServeArgs {
    /// Model file (reloaded on SIGHUP or when the file changes).
    #[arg(long)]
    model: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Largest request body in bytes.
    #[arg(long, default_value = "16777216")]
    max_body: usize,
    /// Most documents in one request.
    #[arg(long, default_value = "1000")]
    max_batch: usize,
    /// Seconds a client may take to send its request headers, and then its body (slow clients
    /// are cut off).
    #[arg(long, default_value = "30")]
    timeout: u64,
    /// Requests scored or waiting to be scored at once; more are answered 503.
    #[arg(long, default_value = "256")]
    max_queue: usize,
    /// Request log on stderr: text (one line per request) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Seconds between checks of the model file for changes (0: only SIGHUP reloads).
    #[arg(long, default_value = "2")]
    watch: u64,
}

/// A model being served, with what `GET /v1/model` answers.
pub(super) struct Loaded {
    clf: Classifier,
    info: serde_json::Value,
    path: PathBuf,
    loaded: Instant,
}

/// The limits of a request.
pub(super) struct Limits {
    max_body: usize,
    max_batch: usize,
    timeout: Duration,
}

pub(super) struct AppState {
    current: RwLock<Arc<Loaded>>,
    limits: Limits,
    queue: Arc<Semaphore>,
    metrics: metrics::Metrics,
    json_log: bool,
}

impl AppState {
    /// The model to score with: a request keeps the one it started with across a swap.
    fn model(&self) -> Arc<Loaded> {
        match self.current.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Load and validate a model file (everything `model::load` checks), with its `inspect` JSON.
fn load(path: &Path) -> Result<Loaded> {
    let (clf, version, header) = model::load_with_header(path)?;
    let info = super::inspect::model_json(&clf, version, &header, 10)?;
    Ok(Loaded {
        clf,
        info,
        path: path.to_path_buf(),
        loaded: Instant::now(),
    })
}

pub(super) fn run(a: ServeArgs) -> Result<()> {
    let loaded = load(&a.model)?;
    let state = Arc::new(AppState {
        current: RwLock::new(Arc::new(loaded)),
        limits: Limits {
            max_body: a.max_body,
            max_batch: a.max_batch.max(1),
            timeout: Duration::from_secs(a.timeout.max(1)),
        },
        queue: Arc::new(Semaphore::new(a.max_queue.max(1))),
        metrics: metrics::Metrics::default(),
        json_log: a.log_format == "json",
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(a, state))
}

async fn serve(a: ServeArgs, state: Arc<AppState>) -> Result<()> {
    let app = Router::new()
        .route("/v1/score", post(handlers::score))
        .route("/v1/model", get(handlers::model))
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics))
        .fallback(handlers::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(a.addr)
        .await
        .with_context(|| format!("listening on {}", a.addr))?;
    eprintln!(
        "framelens serve: {} on http://{} ({} labels)",
        a.model.display(),
        listener.local_addr().unwrap_or(a.addr),
        state.model().clf.labels.len()
    );
    tokio::spawn(watch_model(state.clone(), a.model.clone(), a.watch));

    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.limits.timeout);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    // Out of file descriptors and the like: wait, and go on serving.
                    Err(e) => {
                        eprintln!("framelens serve: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    eprintln!("framelens serve: shutting down, finishing requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => {
            eprintln!("framelens serve: requests still running after 30 s; stopping");
        }
    }
    eprintln!("framelens serve: stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// What identifies a version of the model file: its modification time and length.
fn file_version(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Reloads the model on SIGHUP, and when its file changes (checked every `every` seconds). A
/// model that fails to load is refused and logged; the one in service stays.
async fn watch_model(state: Arc<AppState>, path: PathBuf, every: u64) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).ok();
    let mut seen = file_version(&path);
    let period = Duration::from_secs(every.max(1));
    loop {
        let why = tokio::select! {
            _ = async {
                match hup.as_mut() {
                    Some(h) => { h.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => "SIGHUP",
            _ = tokio::time::sleep(period) => {
                let now = file_version(&path);
                if every == 0 || now == seen || now.is_none() {
                    continue;
                }
                "the model file changed"
            }
        };
        seen = file_version(&path);
        let p = path.clone();
        let result = tokio::task::spawn_blocking(move || load(&p)).await;
        match result {
            Ok(Ok(loaded)) => {
                let labels = loaded.clf.labels.len();
                if let Ok(mut current) = state.current.write() {
                    *current = Arc::new(loaded);
                }
                state.metrics.reload(true);
                eprintln!(
                    "framelens serve: {why}: reloaded {} ({labels} labels)",
                    path.display()
                );
            }
            Ok(Err(e)) => {
                state.metrics.reload(false);
                eprintln!(
                    "framelens serve: {why}: refused the new model, still serving the old one: {e:#}"
                );
            }
            Err(e) => {
                state.metrics.reload(false);
                eprintln!("framelens serve: {why}: loading failed: {e}");
            }
        }
    }
}

/// One log line per request on stderr, and the request metrics.
async fn log_request(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let seconds = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    let docs = response.extensions().get::<Documents>().map_or(0, |d| d.0);
    if let Some(kind) = response.extensions().get::<ErrorKind>() {
        state.metrics.error(kind.0);
    }
    // Unknown paths are counted under one name, so clients cannot grow the metrics.
    let known = ["/v1/score", "/v1/model", "/healthz", "/metrics"];
    let metric_path = if known.contains(&path.as_str()) {
        path.as_str()
    } else {
        "other"
    };
    state.metrics.request(metric_path, status, seconds);
    let ms = seconds * 1e3;
    if state.json_log {
        eprintln!(
            "{}",
            serde_json::json!({
                "method": method.as_str(), "path": path, "status": status,
                "documents": docs, "ms": (ms * 1000.0).round() / 1000.0,
            })
        );
    } else {
        eprintln!("{method} {} {status} {docs} {ms:.2}ms", path.escape_debug());
    }
    response
}
