//! Stable replay: every seed in `corpus/<target>/` and every saved crash in
//! `regressions/<target>/` through the same body the libFuzzer binary runs. Needs no nightly
//! and no libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::path::Path;

#[test]
fn corpus_and_regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for (target, body) in portal_fuzz::TARGETS {
        let mut n = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
                continue;
            };
            for e in entries.flatten() {
                let data = std::fs::read(e.path()).expect("read input");
                eprintln!("{target}: {}", e.path().display());
                body(&data);
                n += 1;
            }
        }
        assert!(n > 0, "no seeds for {target}: run the make_seeds example");
        total += n;
    }
    eprintln!("replayed {total} inputs");
}
