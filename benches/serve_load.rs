//! Load test of `framelens serve`, stopping by itself:
//!
//!   cargo bench --bench serve_load [-- REQUESTS]
//!
//! Starts the service on a loopback port with the demo model and sends REQUESTS (default 20,000)
//! single-document requests at each concurrency (1, 4, 16, 64 clients, each on its own keep-alive
//! connection), then, when `$FRAMELENS_SHARED/datasets/imdb` (default ../shared) is there, batches
//! of 100 imdb reviews at 2 and 4 clients against `framelens score` on the same reviews. Prints
//! throughput and latency percentiles; any non-200 answer is counted as an error.

// Shared with the integration tests, which use all of it.
#[allow(dead_code)]
#[path = "../tests/common/http.rs"]
mod http;

use http::{free_port, Conn};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

struct Server(Child, SocketAddr);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn start(model: &Path) -> Server {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_framelens"))
        .args(["serve", "--model", model.to_str().unwrap(), "--addr"])
        .arg(addr.to_string())
        .stdout(Stdio::null())
        // The request log would cost the service a write per request: the bench measures
        // scoring and HTTP, so it is dropped here (`--log-format` does not turn it off).
        .stderr(Stdio::null())
        .spawn()
        .expect("framelens serve starts");
    let start = Instant::now();
    while Conn::connect(addr)
        .and_then(|mut c| c.request("GET", "/healthz", None, b""))
        .is_err()
    {
        assert!(start.elapsed() < Duration::from_secs(20), "no answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server(child, addr)
}

/// Send `bodies` round-robin: `requests` in all from `clients` threads. Returns the wall time,
/// every latency, and the number of errors.
fn run(
    addr: SocketAddr,
    bodies: &[String],
    requests: usize,
    clients: usize,
) -> (f64, Vec<f64>, usize) {
    let t0 = Instant::now();
    let per = requests.div_ceil(clients);
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let bodies: Vec<String> = bodies.to_vec();
            std::thread::spawn(move || {
                let mut conn = Conn::connect(addr).expect("connects");
                let mut lat = Vec::with_capacity(per);
                let mut errors = 0;
                for i in 0..per {
                    let body = &bodies[(c + i * clients) % bodies.len()];
                    let t = Instant::now();
                    match conn.score(body) {
                        Ok(r) if r.status == 200 => {}
                        Ok(_) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            conn = Conn::connect(addr).expect("reconnects");
                        }
                    }
                    lat.push(t.elapsed().as_secs_f64());
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (lat, e) = h.join().unwrap();
        all.extend(lat);
        errors += e;
    }
    (t0.elapsed().as_secs_f64(), all, errors)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, wall: f64, mut lat: Vec<f64>, errors: usize, docs_per_request: usize) {
    lat.sort_by(f64::total_cmp);
    let n = lat.len();
    println!(
        "| {name} | {n} | {errors} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} |",
        n as f64 / wall,
        (n * docs_per_request) as f64 / wall,
        percentile(&lat, 0.5) * 1e3,
        percentile(&lat, 0.99) * 1e3,
        lat[n - 1] * 1e3
    );
}

fn main() {
    let requests: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "framelens serve load test: {cores} cores, load average {}",
        load.trim()
    );
    println!();
    println!(
        "| scenario | requests | errors | requests/s | documents/s | p50 ms | p99 ms | max ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");

    let demo = std::fs::read_to_string(repo("datasets/demo/test.jsonl")).unwrap();
    let singles: Vec<String> = demo
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::json!({"id": v["id"], "text": v["text"]}).to_string()
        })
        .collect();
    let server = start(&repo("models/demo.flm"));
    run(server.1, &singles, 2000, 4); // warm-up
    for clients in [1, 4, 16, 64] {
        let (wall, lat, errors) = run(server.1, &singles, requests, clients);
        report(
            &format!("demo, 1 document, {clients} clients"),
            wall,
            lat,
            errors,
            1,
        );
    }
    drop(server);

    let shared = std::env::var_os("FRAMELENS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("../shared"));
    let imdb = shared.join("datasets/imdb/test.jsonl.gz");
    if !imdb.is_file() {
        println!(
            "\n(no {}: the imdb batch scenario is skipped)",
            imdb.display()
        );
        return;
    }
    let bench = repo("target/bench/serve");
    std::fs::create_dir_all(&bench).unwrap();
    let model = bench.join("imdb.flm");
    let status = Command::new(env!("CARGO_BIN_EXE_framelens"))
        .args(["train", "--data"])
        .arg(shared.join("datasets/imdb/train.jsonl.gz"))
        .arg("--out")
        .arg(&model)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "training the imdb model");
    let reader = framelens::dataset::open_text(&imdb).unwrap();
    let reviews: Vec<serde_json::Value> = reader
        .lines()
        .take(10_000)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            serde_json::json!({"id": v["id"], "text": v["text"]})
        })
        .collect();
    let file = bench.join("imdb-10k.jsonl");
    let lines: Vec<String> = reviews.iter().map(|r| r.to_string()).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_framelens"))
        .args(["score", "--model"])
        .arg(&model)
        .arg(&file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success());
    let score_rate = reviews.len() as f64 / t.elapsed().as_secs_f64();
    let batches: Vec<String> = reviews
        .chunks(100)
        .map(|c| serde_json::json!({"documents": c}).to_string())
        .collect();
    let server = start(&model);
    run(server.1, &batches, 20, 2); // warm-up
    let mut best: f64 = 0.0;
    for clients in [2, 4] {
        let (wall, lat, errors) = run(server.1, &batches, batches.len(), clients);
        best = best.max(batches.len() as f64 * 100.0 / wall);
        report(
            &format!("imdb, 100 documents, {clients} clients"),
            wall,
            lat,
            errors,
            100,
        );
    }
    println!(
        "\n`framelens score` on the same 10,000 reviews: {score_rate:.0} documents/s \
         (whole process, model load included); the service's best: {best:.0} documents/s, \
         {:.0}% of it",
        100.0 * best / score_rate
    );
}
