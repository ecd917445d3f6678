//! `cargo xtask keygen`: the keygen npm package (`dist/keygen`) and its benchmark page.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{Options, paths, report, wasm};

/// Hand-written package files in `wasm-keygen/js/`.
const JS_FILES: &[&str] = &[
    "package.json",
    "index.js",
    "index.d.ts",
    "worker.js",
    "vault.js",
    "README.md",
];
/// What wasm-bindgen writes.
const GENERATED: &[&str] = &["wasm_keygen.js", "wasm_keygen_bg.wasm"];
/// Benchmark page sources in `wasm-keygen/bench/`.
const BENCH_FILES: &[&str] = &["index.html", "bench.js"];

pub fn default_out() -> PathBuf {
    paths::root().join("dist/keygen")
}

pub fn run(o: &Options) -> Result<()> {
    let out = o.out.clone().unwrap_or_else(default_out);
    build(&out, o.wasm_opt)?;
    if o.bench {
        let bench = out.parent().unwrap_or(&out).join("bench");
        build_bench(&bench)?;
    }
    Ok(())
}

/// Builds the package into `out`.
pub fn build(out: &Path, wasm_opt: bool) -> Result<()> {
    let wasm = wasm::cargo_build("wasm-keygen")?;
    wasm::bindgen(&wasm, "wasm_keygen", out)?;
    if wasm_opt {
        wasm::optimize(&out.join("wasm_keygen_bg.wasm"), "-O3")?;
    }
    paths::copy_files(&paths::root().join("wasm-keygen/js"), out, JS_FILES)?;
    println!("keygen package: {}", out.display());
    report::sizes(out, &[GENERATED, JS_FILES].concat())?;
    Ok(())
}

/// The benchmark page, served next to `keygen/` so it imports `/keygen/index.js`.
fn build_bench(bench: &Path) -> Result<()> {
    paths::copy_files(&paths::root().join("wasm-keygen/bench"), bench, BENCH_FILES)?;
    let forge = paths::npm_file("node-forge/dist/forge.min.js")
        .context("node-forge is needed for the benchmark: run `npm ci` in tests/browser")?;
    std::fs::copy(&forge, bench.join("forge.min.js"))?;
    println!("benchmark page: {}", bench.display());
    Ok(())
}
