//! Counters for `GET /metrics`, in the Prometheus text format: lock-free atomics, updated per
//! request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
pub(super) struct Metrics {
    documents: AtomicU64,
    /// Requests by (path, status).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Errors by kind.
    errors: Mutex<BTreeMap<&'static str, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    /// Sum of latencies in microseconds.
    latency_sum_us: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

impl Metrics {
    pub(super) fn request(&self, path: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((path.to_string(), status)).or_insert(0) += 1;
        }
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us
            .fetch_add((seconds * 1e6) as u64, Relaxed);
    }

    pub(super) fn documents(&self, n: u64) {
        self.documents.fetch_add(n, Relaxed);
    }

    pub(super) fn error(&self, kind: &'static str) {
        if let Ok(mut m) = self.errors.lock() {
            *m.entry(kind).or_insert(0) += 1;
        }
    }

    pub(super) fn reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus exposition text.
    pub(super) fn render(&self) -> String {
        let mut t = String::new();
        t.push_str("# HELP framelens_requests_total HTTP requests answered, by path and status.\n");
        t.push_str("# TYPE framelens_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((path, status), n) in m.iter() {
                let _ = writeln!(
                    t,
                    "framelens_requests_total{{path=\"{path}\",status=\"{status}\"}} {n}"
                );
            }
        }
        t.push_str("# HELP framelens_documents_total Documents scored.\n");
        t.push_str("# TYPE framelens_documents_total counter\n");
        let _ = writeln!(
            t,
            "framelens_documents_total {}",
            self.documents.load(Relaxed)
        );
        t.push_str("# HELP framelens_errors_total Requests refused, by kind.\n");
        t.push_str("# TYPE framelens_errors_total counter\n");
        if let Ok(m) = self.errors.lock() {
            for (kind, n) in m.iter() {
                let _ = writeln!(t, "framelens_errors_total{{kind=\"{kind}\"}} {n}");
            }
        }
        t.push_str("# HELP framelens_request_seconds Time from request to response.\n");
        t.push_str("# TYPE framelens_request_seconds histogram\n");
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                t,
                "framelens_request_seconds_bucket{{le=\"{bound}\"}} {}",
                b.load(Relaxed)
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(t, "framelens_request_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            t,
            "framelens_request_seconds_sum {}",
            self.latency_sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(t, "framelens_request_seconds_count {count}");
        t.push_str("# HELP framelens_model_reloads_total Model reloads, by result.\n");
        t.push_str("# TYPE framelens_model_reloads_total counter\n");
        let _ = writeln!(
            t,
            "framelens_model_reloads_total{{result=\"ok\"}} {}",
            self.reloads_ok.load(Relaxed)
        );
        let _ = writeln!(
            t,
            "framelens_model_reloads_total{{result=\"refused\"}} {}",
            self.reloads_failed.load(Relaxed)
        );
        t
    }
}
