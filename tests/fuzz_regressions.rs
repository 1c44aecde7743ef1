//! Replays the fuzz targets' seed corpora (`fuzz/corpus/TARGET/`) and every input that once made
//! a target fail (`fuzz/regressions/TARGET/`) through the same code the fuzzer runs
//! (`framelens::fuzzing`): none may panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_file() && path.file_name().is_some_and(|n| n != ".gitkeep") {
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
                n += 1;
            }
        }
    }
    assert!(n > 0, "no input for {target}");
}

#[test]
fn the_model_loader_survives_its_fuzz_inputs() {
    replay("model_load", framelens::fuzzing::model_load);
}

#[test]
fn the_readers_survive_their_fuzz_inputs() {
    replay("readers", framelens::fuzzing::readers);
}

#[test]
fn the_analysis_survives_its_fuzz_inputs() {
    replay("analysis", framelens::fuzzing::analysis);
}
