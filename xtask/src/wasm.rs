//! The steps every browser crate goes through: cargo build for wasm32 with the
//! `wasm-release` profile, wasm-bindgen (as a library, `--target web`), then wasm-opt.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use wasm_bindgen_cli_support::Bindgen;

use crate::paths;

pub const TARGET: &str = "wasm32-unknown-unknown";
pub const PROFILE: &str = "wasm-release";

/// Builds `package` (a cdylib) and returns the path of its `.wasm`.
pub fn cargo_build(package: &str) -> Result<PathBuf> {
    if std::env::var_os("RUSTFLAGS").is_some() {
        // RUSTFLAGS replaces the [target.wasm32-unknown-unknown] rustflags of
        // .cargo/config.toml (getrandom backend, cpubits), which the build relies on.
        eprintln!("warning: RUSTFLAGS is set and overrides .cargo/config.toml rustflags");
    }
    println!("cargo build -p {package} --target {TARGET} --profile {PROFILE}");
    let status = Command::new(paths::cargo())
        .args([
            "build",
            "-p",
            package,
            "--lib",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
        ])
        .current_dir(paths::root())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of {package} for {TARGET} failed");
    }
    let wasm = paths::target_dir()?
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{}.wasm", package.replace('-', "_")));
    if !wasm.is_file() {
        bail!("{} was not produced", wasm.display());
    }
    Ok(wasm)
}

/// Runs wasm-bindgen for ES-module use in browsers; writes `<name>.js` and
/// `<name>_bg.wasm` into `out`.
pub fn bindgen(wasm: &Path, name: &str, out: &Path) -> Result<()> {
    bindgen_with(wasm, name, out, false)
}

/// [`bindgen`] of the main module `xtask::split` made: the linker's exports (memory, table,
/// stack pointer, the functions the chunks call) stay, and so do the mangled names the
/// chunks import them by.
pub fn bindgen_split_main(wasm: &Path, name: &str, out: &Path) -> Result<()> {
    bindgen_with(wasm, name, out, true)
}

fn bindgen_with(wasm: &Path, name: &str, out: &Path, split_main: bool) -> Result<()> {
    std::fs::create_dir_all(out)?;
    Bindgen::new()
        .keep_lld_exports(split_main)
        .demangle(!split_main)
        .input_path(wasm)
        .out_name(name)
        .web(true)?
        .typescript(false)
        .generate(out)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))
}

/// Optimises `wasm` in place with npm binaryen's wasm-opt when it is installed; returns
/// whether it ran.
pub fn optimize(wasm: &Path, level: &str) -> Result<bool> {
    let Some(wasm_opt) = paths::npm_bin("wasm-opt") else {
        println!("wasm-opt: npm binaryen not installed (run `npm ci` in tests/browser); skipped");
        return Ok(false);
    };
    let tmp = wasm.with_extension("opt.wasm");
    // The features rustc enables by default for wasm32-unknown-unknown; wasm-opt must
    // accept them and must not introduce others.
    let status = Command::new(&wasm_opt)
        .arg(level)
        .args([
            "--enable-bulk-memory",
            "--enable-multivalue",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-reference-types",
            "--enable-sign-ext",
            "--strip-debug",
            "--strip-producers",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(&tmp)
        .status()
        .with_context(|| format!("running {}", wasm_opt.display()))?;
    if !status.success() {
        bail!("wasm-opt failed on {}", wasm.display());
    }
    std::fs::rename(&tmp, wasm)?;
    println!("wasm-opt {level}: {}", wasm_opt.display());
    Ok(true)
}
