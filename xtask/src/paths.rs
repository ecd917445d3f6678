//! Where things are: the workspace root, cargo's target directory, npm tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root (this crate lives in `<root>/xtask`).
pub fn root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR at run time too. Prefer it over the compile-time
    // value: cargo reuses this binary for another checkout of the same workspace sharing the
    // target directory (paths are relative in its fingerprints), and that must not send the
    // build to the first checkout.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The cargo running us (`$CARGO`), so toolchain overrides carry over.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` and config files.
pub fn target_dir() -> Result<PathBuf> {
    let out = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    match meta["target_directory"].as_str() {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => bail!("cargo metadata has no target_directory"),
    }
}

/// A binary from an npm package installed in `tests/browser/node_modules` or the root
/// `node_modules` (never a system copy: Debian's wasm-opt corrupts wasm-bindgen output).
pub fn npm_bin(name: &str) -> Option<PathBuf> {
    let root = root();
    [
        root.join("tests/browser/node_modules/.bin").join(name),
        root.join("node_modules/.bin").join(name),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// A file from an npm package, same search order as [`npm_bin`].
pub fn npm_file(package_path: &str) -> Option<PathBuf> {
    let root = root();
    [
        root.join("tests/browser/node_modules").join(package_path),
        root.join("node_modules").join(package_path),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Copies `files` from `from` into `to` (created if needed).
pub fn copy_files(from: &Path, to: &Path, files: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for f in files {
        std::fs::copy(from.join(f), to.join(f))
            .with_context(|| format!("copying {} to {}", from.join(f).display(), to.display()))?;
    }
    Ok(())
}
