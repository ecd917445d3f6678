//! Build-time compression: a `.br` (brotli, quality 11) and a `.gz` (gzip -9) next to every
//! text or wasm file, which the server sends by `Accept-Encoding` (tower-http's
//! precompressed `ServeDir`). Done once here instead of per request on the server.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Files worth compressing; images and fonts are already compressed.
const EXTENSIONS: &[&str] = &["wasm", "js", "mjs", "css", "html", "json", "svg", "txt"];

pub fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data)?;
    Ok(enc.finish()?)
}

pub fn brotli(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
    Ok(out)
}

/// Writes `<file>.br` and `<file>.gz` for `file`.
pub fn file(file: &Path) -> Result<()> {
    let data = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    std::fs::write(with_suffix(file, "br"), brotli(&data)?)?;
    std::fs::write(with_suffix(file, "gz"), gzip(&data)?)?;
    Ok(())
}

/// Compresses every eligible file under `dir`, recursively; files whose `.br` and `.gz` are
/// already newer (the hashed files of earlier builds) are left alone.
pub fn tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            tree(&path)?;
        } else if eligible(&path) && !fresh(&path) {
            file(&path)?;
        }
    }
    Ok(())
}

pub fn eligible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn fresh(file: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(source) = modified(file) else {
        return false;
    };
    ["br", "gz"]
        .iter()
        .all(|s| modified(&with_suffix(file, s)).is_some_and(|t| t >= source))
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}
