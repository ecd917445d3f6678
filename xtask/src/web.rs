//! `cargo xtask web`: everything the server serves from `dist/` (config `web_dir`): the
//! keygen package, the Leptos app and its shell (index.html, boot.js, style.css).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{Options, keygen, paths, report, wasm};

/// Shell files in `app/shell/`, copied to the root of `dist/`; `__VERSION__` in them is
/// replaced by a digest of the build so browsers never mix an old page with a new wasm.
const SHELL_FILES: &[&str] = &["index.html", "boot.js", "unsupported.js"];
/// What wasm-bindgen writes for the app.
const APP_FILES: &[&str] = &["app.js", "app_bg.wasm"];

pub fn run(o: &Options) -> Result<()> {
    let dist = o.out.clone().unwrap_or_else(|| paths::root().join("dist"));
    keygen::run(&Options {
        out: Some(dist.join("keygen")),
        bench: o.bench,
        wasm_opt: o.wasm_opt,
    })?;
    build_app(&dist, o.wasm_opt)?;
    Ok(())
}

/// The app into `dist/app`, the stylesheet and the shell into `dist/`.
fn build_app(dist: &Path, wasm_opt: bool) -> Result<()> {
    let out = dist.join("app");
    let wasm = cargo_build_app()?;
    wasm::bindgen(&wasm, "app", &out)?;
    if wasm_opt {
        wasm::optimize(&out.join("app_bg.wasm"), "-Oz")?;
    }
    let css = stylesheet(&paths::root().join("style"))?;
    std::fs::write(dist.join("style.css"), &css)?;

    let mut digest = Fnv::default();
    digest.write(&css);
    for f in APP_FILES {
        digest.write(&std::fs::read(out.join(f))?);
    }
    let version = format!("{:016x}", digest.0);
    let shell = paths::root().join("app/shell");
    for f in SHELL_FILES {
        let text = std::fs::read_to_string(shell.join(f))
            .with_context(|| format!("reading {}", shell.join(f).display()))?;
        std::fs::write(dist.join(f), text.replace("__VERSION__", &version))?;
    }
    println!("app: {}", out.display());
    report::sizes(&out, APP_FILES)?;
    report::sizes(dist, &[SHELL_FILES, &["style.css"]].concat())?;
    Ok(())
}

/// `cargo build -p app` for wasm32 with Leptos' `erase_components`: type-erased components
/// make the app's wasm about a third smaller. Added with `--config`, which cargo appends to
/// the `[target.wasm32-unknown-unknown] rustflags` of .cargo/config.toml instead of
/// replacing them (RUSTFLAGS would).
fn cargo_build_app() -> Result<PathBuf> {
    println!(
        "cargo build -p app --target {} --profile {} (erase_components)",
        wasm::TARGET,
        wasm::PROFILE
    );
    let status = Command::new(paths::cargo())
        .args([
            "build",
            "-p",
            "app",
            "--lib",
            "--target",
            wasm::TARGET,
            "--profile",
            wasm::PROFILE,
        ])
        .args([
            "--config",
            &format!(
                r#"target.{}.rustflags=["--cfg","erase_components"]"#,
                wasm::TARGET
            ),
        ])
        .current_dir(paths::root())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of app for {} failed", wasm::TARGET);
    }
    let wasm = paths::target_dir()?
        .join(wasm::TARGET)
        .join(wasm::PROFILE)
        .join("app.wasm");
    if !wasm.is_file() {
        bail!("{} was not produced", wasm.display());
    }
    Ok(wasm)
}

/// All `style/*.css` concatenated in file-name order (so `00-base.css` comes first).
fn stylesheet(dir: &Path) -> Result<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "css"))
        .collect();
    files.sort();
    let mut css = Vec::new();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        css.extend_from_slice(format!("/* {} */\n", name.unwrap_or_default()).as_bytes());
        css.extend_from_slice(&std::fs::read(&f)?);
        css.push(b'\n');
    }
    Ok(css)
}

/// FNV-1a, 64-bit: a cache-busting tag, not a security digest.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, data: &[u8]) {
        for b in data {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
