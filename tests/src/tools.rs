//! External tools the tests cross-check against: openssl, pkilint, and any other program
//! (keytool, certutil, pk12util) through [`run_ok`]. Each is found the same way everywhere
//! (`OPENSSL_BIN`, `PKILINT_BIN_DIR`, else `$HOME/.cache/ccp/venv/bin`, else PATH). Missing
//! tools fail the test with a clear message (CI installs them through scripts/setup.sh);
//! they are never skipped silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `openssl` from $OPENSSL_BIN, else the one on PATH; not checked (see [`openssl_bin`]).
pub fn openssl_path() -> PathBuf {
    std::env::var_os("OPENSSL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("openssl"))
}

/// [`openssl_path`], after checking that `openssl version` runs.
pub fn openssl_bin() -> PathBuf {
    let bin = openssl_path();
    match Command::new(&bin).arg("version").output() {
        Ok(o) if o.status.success() => bin,
        _ => panic!(
            "openssl not found (looked for {}); install it (scripts/setup.sh) or set OPENSSL_BIN",
            bin.display()
        ),
    }
}

/// Runs openssl in `dir` and asserts it succeeded.
pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    let out = openssl_any(dir, args);
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}",
        args.join(" "),
        output_text(&out)
    );
    out
}

/// [`openssl`], returning its stdout.
pub fn openssl_stdout(dir: &Path, args: &[&str]) -> Vec<u8> {
    openssl(dir, args).stdout
}

/// Runs openssl in `dir` and returns its output whatever the exit status.
pub fn openssl_any(dir: &Path, args: &[&str]) -> Output {
    Command::new(openssl_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn pkilint(tool: &str) -> PathBuf {
    let dir = std::env::var_os("PKILINT_BIN_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ccp/venv/bin")))
        .unwrap_or_default();
    let bin = dir.join(tool);
    assert!(
        bin.is_file(),
        "pkilint's {tool} not found at {} (pip install pkilint into $HOME/.cache/ccp/venv via \
         scripts/setup.sh, or set PKILINT_BIN_DIR)",
        bin.display()
    );
    bin
}

/// Lints `der` with pkilint's `tool` (`lint_pkix_cert`, `lint_crl`, `lint_ocsp_response`,
/// ...) and returns its findings of severity WARNING or worse (empty = clean).
pub fn lint(tool: &str, extra: &[&str], der: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.der");
    std::fs::write(&file, der).unwrap();
    let out = Command::new(pkilint(tool))
        .arg("lint")
        .args(extra)
        .args(["-s", "WARNING", "--document-format", "DER"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if !out.status.success() && stdout.is_empty() {
        panic!("{tool} failed without findings: {stderr}");
    }
    stdout
}

pub fn assert_cert_lints_clean(der: &[u8]) {
    let findings = lint("lint_pkix_cert", &[], der);
    assert!(
        findings.is_empty(),
        "pkilint lint_pkix_cert findings:\n{findings}"
    );
}

pub fn assert_crl_lints_clean(der: &[u8]) {
    let findings = lint("lint_crl", &["-t", "CRL", "-p", "PKIX"], der);
    assert!(
        findings.is_empty(),
        "pkilint lint_crl findings:\n{findings}"
    );
}

/// Positive control: the linter must report something for a known-bad document, otherwise
/// a clean result means nothing.
pub fn cert_findings(der: &[u8]) -> String {
    lint("lint_pkix_cert", &[], der)
}

/// A finished program's stdout and stderr together, for assertions and failure messages
/// (tools print their verdicts on either).
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `program` in `dir`, asserts it succeeded and returns stdout and stderr together
/// (keytool, certutil and pk12util print their verdicts on either).
pub fn run_ok(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} not found ({e}); scripts/setup.sh installs it"));
    let text = output_text(&out);
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}
