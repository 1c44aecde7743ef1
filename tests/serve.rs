//! `framelens serve` end to end: the binary on a loopback port, driven by a hand-written HTTP
//! client. Responses must equal `score`'s output; bad, oversized and slow requests during load are
//! answered and the service keeps serving; model swaps lose no request; SIGTERM lets the request
//! in flight finish.

mod common;

use common::http::{free_port, Conn};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_framelens")
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A running service, killed when dropped (if the test did not stop it).
struct Server {
    child: Child,
    addr: SocketAddr,
    /// The service's stderr (its request log), read by a thread as it comes: an unread pipe
    /// would fill and block the service's logging.
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    fn start(model: &Path, extra: &[&str]) -> Server {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(bin())
            .args([
                "serve",
                "--model",
                model.to_str().unwrap(),
                "--addr",
                &addr.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("framelens serve starts");
        let mut child = child;
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Some(std::thread::spawn(move || {
            use std::io::Read;
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        }));
        let server = Server {
            child,
            addr,
            stderr,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(mut c) = Conn::connect(addr) {
                if let Ok(r) = c.request("GET", "/healthz", None, b"") {
                    if r.status == 200 {
                        return server;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("framelens serve did not answer /healthz within 20 s");
    }

    fn conn(&self) -> Conn {
        Conn::connect(self.addr).expect("connects")
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Wait for the process to exit; its exit code and stderr.
    fn wait(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().unwrap();
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (status.code(), stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_docs() -> Vec<Value> {
    std::fs::read_to_string(repo("datasets/demo/test.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn one_doc(d: &Value) -> String {
    serde_json::json!({"id": d["id"], "text": d["text"]}).to_string()
}

#[test]
fn responses_are_byte_identical_to_score_output() {
    let model = repo("models/demo.flm");
    let out = Command::new(bin())
        .args([
            "score",
            "--model",
            model.to_str().unwrap(),
            "--top-terms",
            "4",
        ])
        .arg(repo("datasets/demo/test.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected = out.stdout;
    let server = Server::start(&model, &[]);
    let docs = demo_docs();
    // One batch.
    let batch: Vec<Value> = docs
        .iter()
        .map(|d| serde_json::json!({"id": d["id"], "text": d["text"]}))
        .collect();
    let body = serde_json::json!({"documents": batch, "top_terms": 4}).to_string();
    let r = server.conn().score(&body).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.body, expected,
        "a batch response differs from score's output"
    );
    // One document per request, top_terms in the query: the same lines.
    let mut conn = server.conn();
    let mut joined = Vec::new();
    for d in &docs {
        let r = conn
            .request(
                "POST",
                "/v1/score?top_terms=4",
                Some("application/json"),
                one_doc(d).as_bytes(),
            )
            .unwrap();
        assert_eq!(r.status, 200);
        joined.extend(r.body);
    }
    assert_eq!(
        joined, expected,
        "single-document responses differ from score's output"
    );
    // GET /v1/model is inspect --json.
    let inspect = Command::new(bin())
        .args(["inspect", "--json", "--model", model.to_str().unwrap()])
        .output()
        .unwrap();
    let served: Value =
        serde_json::from_slice(&conn.request("GET", "/v1/model", None, b"").unwrap().body).unwrap();
    let printed: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(served, printed);
}

#[test]
fn bad_and_slow_requests_under_load_model_swaps_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("served.flm");
    std::fs::copy(repo("models/demo.flm"), &model).unwrap();
    let server = Server::start(
        &model,
        &["--max-body", "65536", "--timeout", "2", "--watch", "1"],
    );
    let docs = Arc::new(demo_docs());

    // Load: 4 clients, single-document requests on keep-alive connections, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|t| {
            let (docs, stop, addr) = (docs.clone(), stop.clone(), server.addr);
            std::thread::spawn(move || {
                let mut conn = Conn::connect(addr).unwrap();
                let (mut ok, mut failed) = (0usize, Vec::new());
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let r = conn.score(&one_doc(&docs[i % docs.len()])).unwrap();
                    if r.status == 200 && r.body.ends_with(b"\n") {
                        ok += 1;
                    } else {
                        failed.push((r.status, r.text()));
                    }
                    i += 4;
                }
                (ok, failed)
            })
        })
        .collect();

    // Bad requests, each with its status, on their own connections while the load runs.
    let mut c = server.conn();
    let cases: Vec<(u16, &str, Option<&str>, Vec<u8>)> = vec![
        (
            400,
            "/v1/score",
            Some("application/json"),
            b"{not json".to_vec(),
        ),
        (
            400,
            "/v1/score",
            Some("application/json"),
            b"[1, 2]".to_vec(),
        ),
        (
            400,
            "/v1/score",
            Some("application/json"),
            br#"{"text": 5}"#.to_vec(),
        ),
        (
            400,
            "/v1/score",
            Some("application/json"),
            br#"{"id": "x"}"#.to_vec(),
        ),
        (
            400,
            "/v1/score",
            Some("application/json"),
            br#"{"documents": []}"#.to_vec(),
        ),
        (
            400,
            "/v1/score",
            Some("application/json"),
            br#"{"documents": [{"text": "a"}, 7]}"#.to_vec(),
        ),
        (
            415,
            "/v1/score",
            Some("text/plain"),
            br#"{"text": "a"}"#.to_vec(),
        ),
        (415, "/v1/score", None, br#"{"text": "a"}"#.to_vec()),
        (
            422,
            "/v1/score?top_terms=-1",
            Some("application/json"),
            br#"{"text": "a"}"#.to_vec(),
        ),
        (
            422,
            "/v1/score",
            Some("application/json"),
            br#"{"text": "a", "top_terms": "many"}"#.to_vec(),
        ),
        (
            413,
            "/v1/score",
            Some("application/json"),
            format!("{{\"text\": \"{}\"}}", "a".repeat(70_000)).into_bytes(),
        ),
        (
            404,
            "/v2/score",
            Some("application/json"),
            br#"{"text": "a"}"#.to_vec(),
        ),
    ];
    for (status, path, ctype, body) in &cases {
        let r = c.request("POST", path, *ctype, body).unwrap_or_else(|e| {
            c = server.conn();
            panic!("{path} {ctype:?}: {e}")
        });
        assert_eq!(
            r.status,
            *status,
            "{path} {ctype:?} {}: {}",
            String::from_utf8_lossy(&body[..body.len().min(60)]),
            r.text()
        );
        let err: Value = serde_json::from_slice(&r.body).expect("errors are JSON");
        assert_eq!(err["error"]["status"], *status as u64);
        if r.status == 413 {
            c = server.conn(); // the server may close a connection whose body it did not read
        }
    }
    let many: Vec<Value> = (0..1001)
        .map(|_| serde_json::json!({"text": "a"}))
        .collect();
    let r = server
        .conn()
        .score(&serde_json::json!({"documents": many}).to_string())
        .unwrap();
    assert_eq!(r.status, 413, "{}", r.text());

    // Slow clients (bounded by --timeout 2): headers never finished are cut off; a body that
    // stops arriving is answered 408.
    let t0 = Instant::now();
    let mut slow_headers = server.conn();
    slow_headers
        .send_raw(b"POST /v1/score HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut slow_body = server.conn();
    slow_body
        .send_raw(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":")
        .unwrap();
    let r = slow_body.read_response().unwrap();
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(slow_headers.closed_by_server());
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());

    // Model swaps during the load: a different valid model is taken; garbage is refused and the
    // model in service stays.
    let labels = |s: &Server| -> u64 {
        let r = s.conn().request("GET", "/healthz", None, b"").unwrap();
        serde_json::from_slice::<Value>(&r.body).unwrap()["labels"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(labels(&server), 6);
    let swap = |from: &Path| {
        let tmp = dir.path().join("incoming.tmp");
        std::fs::copy(from, &tmp).unwrap();
        std::fs::rename(&tmp, &model).unwrap();
    };
    let other = repo("tests/fixtures/model-v2/model.flm");
    swap(&other);
    let until = |want: u64| {
        let start = Instant::now();
        while labels(&server) != want {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no reload to {want} labels"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let other_labels = {
        let out = Command::new(bin())
            .args(["inspect", "--json", "--model"])
            .arg(&other)
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["labels"]
            .as_array()
            .unwrap()
            .len() as u64
    };
    assert_ne!(other_labels, 6);
    until(other_labels);
    let garbage = dir.path().join("garbage");
    std::fs::write(&garbage, b"FRAMELENS-MODEL but not really").unwrap();
    swap(&garbage);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        labels(&server),
        other_labels,
        "a bad model must not replace the served one"
    );
    swap(&repo("models/demo.flm"));
    until(6);
    server.signal("HUP");

    stop.store(true, Ordering::Relaxed);
    let mut served = 0;
    for h in load {
        let (ok, failed) = h.join().unwrap();
        assert!(
            failed.is_empty(),
            "failed under load: {:?}",
            &failed[..failed.len().min(3)]
        );
        served += ok;
    }
    assert!(served > 100, "only {served} requests under load");

    // SIGTERM with a batch in flight: the batch is answered, then the process exits 0.
    // (Within --max-body 65536: 100 demo articles.)
    let big: Vec<Value> = (0..100)
        .map(|i| serde_json::json!({"id": i.to_string(), "text": docs[i % docs.len()]["text"]}))
        .collect();
    let body = serde_json::json!({"documents": big}).to_string();
    let mut in_flight = server.conn();
    in_flight.send_raw(format!("POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes()).unwrap();
    in_flight
        .send_raw(&body.as_bytes()[..body.len() / 2])
        .unwrap();
    // Give the service time to start the request (headers read, body arriving), then stop it.
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(200));
    in_flight
        .send_raw(&body.as_bytes()[body.len() / 2..])
        .unwrap();
    let r = in_flight.read_response().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body.iter().filter(|&&b| b == b'\n').count(), 100);
    let (code, stderr) = server.wait();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("refused the new model"), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_full_queue_is_answered_503_and_the_service_recovers() {
    let server = Server::start(&repo("models/demo.flm"), &["--max-queue", "1"]);
    let docs = demo_docs();
    let batch: Vec<Value> = (0..1000)
        .map(|i| serde_json::json!({"id": i.to_string(), "text": docs[i % docs.len()]["text"]}))
        .collect();
    let body = Arc::new(serde_json::json!({"documents": batch}).to_string());
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (body, addr) = (body.clone(), server.addr);
            std::thread::spawn(move || {
                let r = Conn::connect(addr).unwrap().score(&body).unwrap();
                (r.status, r.text())
            })
        })
        .collect();
    let statuses: Vec<u16> = clients
        .into_iter()
        .map(|h| {
            let (status, text) = h.join().unwrap();
            if status == 503 {
                assert!(text.contains("overloaded"), "{text}");
            }
            status
        })
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&200) && statuses.contains(&503),
        "{statuses:?}"
    );
    let r = server
        .conn()
        .score(r#"{"text": "ceasefire talks"}"#)
        .unwrap();
    assert_eq!(r.status, 200);
}
