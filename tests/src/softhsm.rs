//! A SoftHSM2 token for a test. SoftHSM reads its configuration from `SOFTHSM2_CONF` when
//! it is initialised, and the environment of a running (multi-threaded) test binary must not
//! be changed, so [`with_token`] runs the test again as a child process of the same binary
//! with the variable set, pointing at a token directory of its own. Used by the CA's PKCS#11
//! tests and the server's two-tier setup test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The user PIN of the test token.
pub const PIN: &str = "123456";
/// The test token's label.
pub const TOKEN: &str = "portal";
const CHILD: &str = "PORTAL_TEST_SOFTHSM_CHILD";

/// Runs `body` in a child process of this test binary whose SoftHSM has one fresh token
/// labelled [`TOKEN`] with user PIN [`PIN`]. `test` is the test function's name.
pub fn with_token(test: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let conf = softhsm_conf(dir.path());
    let init = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", TOKEN, "--pin", PIN])
        .args(["--so-pin", "12345678"])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap_or_else(|e| {
            panic!("softhsm2-util not found ({e}); scripts/setup.sh installs softhsm2")
        });
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("SOFTHSM2_CONF", &conf)
        .env(CHILD, "1")
        .output()
        .unwrap();
    let text = crate::tools::output_text(&out);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}

/// A SoftHSM2 configuration whose token directory is inside `dir`.
fn softhsm_conf(dir: &Path) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    conf
}
