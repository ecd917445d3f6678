//! Size report: raw and gzip (level 9) bytes of each output file.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use flate2::Compression;
use flate2::write::GzEncoder;

pub fn gzip_len(data: &[u8]) -> Result<usize> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data)?;
    Ok(enc.finish()?.len())
}

/// Prints one line per file and a total.
pub fn sizes(dir: &Path, files: &[&str]) -> Result<()> {
    let (mut raw_total, mut gz_total) = (0, 0);
    println!("{:<24} {:>10} {:>10}", "file", "raw", "gzip -9");
    for f in files {
        let data = std::fs::read(dir.join(f))?;
        let gz = gzip_len(&data)?;
        println!("{f:<24} {:>10} {:>10}", data.len(), gz);
        raw_total += data.len();
        gz_total += gz;
    }
    println!("{:<24} {raw_total:>10} {gz_total:>10}", "total");
    Ok(())
}
