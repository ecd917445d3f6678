//! Size report: raw, gzip (level 9) and brotli (quality 11) bytes of each output file, as
//! the server sends them.

use std::path::Path;

use anyhow::Result;

use crate::compress;

/// Prints one line per file and a total.
pub fn sizes(dir: &Path, files: &[&str]) -> Result<()> {
    let (mut raw_total, mut gz_total, mut br_total) = (0, 0, 0);
    println!(
        "{:<40} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli"
    );
    for f in files {
        let data = std::fs::read(dir.join(f))?;
        let gz = compress::gzip(&data)?.len();
        let br = compress::brotli(&data)?.len();
        println!("{f:<40} {:>10} {gz:>10} {br:>10}", data.len());
        raw_total += data.len();
        gz_total += gz;
        br_total += br;
    }
    println!(
        "{:<40} {raw_total:>10} {gz_total:>10} {br_total:>10}",
        "total"
    );
    Ok(())
}
