//! Harness for the real PC/SC tests: a private pcscd with the vsmartcard vpcd driver, the
//! PIV emulator (`tests/support/piv_vicc.py`) as the card, the `card-bridge` binary, and
//! a minimal HTTP client. Everything runs on 127.0.0.1 with free ports and is stopped on
//! drop, also when a test fails.
//!
//! pcscd's socket path is compiled in (`/run/pcscd/pcscd.comm`), so each pcscd runs in its
//! own mount namespace (`unshare -m`) with a temp directory bind-mounted on `/run/pcscd`;
//! clients find it through `PCSCLITE_CSOCK_NAME`. A system pcscd, if any, is untouched and
//! tests can run in parallel. Needs root, or passwordless `sudo`, for `unshare`/`mount`.
//!
//! Environment: `PIV_PYTHON` (python with `cryptography`, default `python3`), `VPCD_DRIVER`
//! (path of libifdvpcd.so if not in a usual place).

// Test harness: failing loudly is the point.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TAX_ID: &str = "04595257";
pub const PIN: &str = "123456";

pub use testkit::free_port;

fn require_tool(cmd: &str, args: &[&str], install: &str) {
    let ok = Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "`{cmd}` is required for this test: {install}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `program args…` as root: directly if we are root, else through `sudo -n`.
fn as_root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

fn vpcd_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("VPCD_DRIVER") {
        return PathBuf::from(p);
    }
    [
        "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
        "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
        "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect(
        "the vsmartcard vpcd driver (libifdvpcd.so) is required: apt-get install vsmartcard-vpcd \
         (or set VPCD_DRIVER)",
    )
}

/// A pcscd of our own, with one vpcd reader listening on `vpcd_port`.
pub struct Pcscd {
    child: Child,
    dir: tempfile::TempDir,
    pub vpcd_port: u16,
}

impl Pcscd {
    pub fn start() -> Self {
        require_tool("pcscd", &["--version"], "apt-get install pcscd");
        require_tool("unshare", &["--version"], "apt-get install util-linux");
        assert!(
            is_root()
                || Command::new("sudo")
                    .args(["-n", "true"])
                    .status()
                    .is_ok_and(|s| s.success()),
            "the PC/SC tests start pcscd in a private mount namespace: run them as root or \
             with passwordless sudo"
        );
        let driver = vpcd_driver();
        let dir = tempfile::tempdir().expect("temp dir");
        let sock = dir.path().join("run");
        let conf = dir.path().join("reader.conf.d");
        std::fs::create_dir_all(&sock).unwrap();
        std::fs::create_dir_all(&conf).unwrap();
        // pcscd running as root creates a 0666 socket in here; let non-root clients in.
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).unwrap();
        let vpcd_port = free_port();
        // vpcd reads the TCP port from the part of DEVICENAME after the colon.
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:{vpcd_port}\nLIBPATH {}\nCHANNELID {vpcd_port}\n",
                driver.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("pcscd.log")).unwrap();
        let child = as_root("unshare")
            .args([
                "-m",
                "sh",
                "-c",
                "mkdir -p /run/pcscd && mount --bind \"$1\" /run/pcscd && exec pcscd --foreground -c \"$2\"",
                "sh",
            ])
            .arg(&sock)
            .arg(&conf)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start pcscd under unshare");
        let pcscd = Self {
            child,
            dir,
            vpcd_port,
        };
        let socket = pcscd.socket();
        let start = Instant::now();
        while !socket.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "pcscd did not create its socket:\n{}",
                pcscd.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pcscd
    }

    /// The value for `PCSCLITE_CSOCK_NAME`.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/pcscd.comm")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pcscd.log")).unwrap_or_default()
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        let pid_file = self.dir.path().join("run/pcscd.pid");
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = as_root("kill").args(["-TERM", pid.trim()]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The PIV card emulator holding `cert`/`key`, "inserted" in the vpcd reader.
pub struct Emulator {
    child: Child,
}

impl Emulator {
    pub fn insert(pcscd: &Pcscd, cert: &Path, key: &Path) -> Self {
        // PIV_PYTHON: an interpreter that has `cryptography` (e.g. a venv's python).
        let python = std::env::var("PIV_PYTHON").unwrap_or_else(|_| "python3".into());
        require_tool(
            &python,
            &["-c", "import cryptography"],
            "python3 with the `cryptography` package (pip install cryptography), or set PIV_PYTHON",
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/piv_vicc.py");
        // vpcd may take a moment to listen after pcscd created its socket: retry.
        for _ in 0..50 {
            let mut child = Command::new(&python)
                .arg(&script)
                .arg("--cert")
                .arg(cert)
                .arg("--key")
                .arg(key)
                .args(["--pin", PIN, "--port", &pcscd.vpcd_port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("cannot start piv_vicc.py");
            // Read its log in the background (so the pipe never fills), watch the first line.
            let stderr = child.stderr.take().expect("piped stderr");
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
            if rx
                .recv_timeout(Duration::from_secs(5))
                .is_ok_and(|first| first.contains("connected to vpcd"))
            {
                return Self { child };
            }
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "piv_vicc.py could not connect to vpcd on port {}\npcscd log:\n{}",
            pcscd.vpcd_port,
            pcscd.log()
        );
    }

    /// Pulls the card out: the emulator dies, vpcd reports the card gone.
    pub fn remove(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `card-bridge serve` binary on a free port, talking to `pcscd`.
pub struct Bridge {
    child: Child,
    pub url: String,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl Bridge {
    pub fn start(pcscd: &Pcscd, allowed_origins: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_card-bridge"));
        cmd.arg("serve").args(["--port", "0"]);
        for o in allowed_origins {
            cmd.args(["--allow-origin", o]);
        }
        let mut child = cmd
            .env("PCSCLITE_CSOCK_NAME", pcscd.socket())
            .env("RUST_LOG", "card_bridge=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start card-bridge");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("card-bridge wrote nothing");
        let url = line
            .trim()
            .strip_prefix("card-bridge listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from card-bridge: {line:?}"))
            .to_owned();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in URL");
        // Collect the log in the background so the pipe never fills up.
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        Self {
            child,
            url,
            port,
            log,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until pcscd reports a card (vpcd notices an emulator within a second or so).
    pub fn wait_for_card(&self) {
        self.wait_for_slots("the card to show up", |slots| {
            slots.iter().any(|s| s["token"].is_object())
        });
    }

    /// Polls `/pkcs11info` until `done(slots)`; on timeout shows the last answer and log.
    fn wait_for_slots(&self, what: &str, done: impl Fn(&[serde_json::Value]) -> bool) {
        let start = Instant::now();
        loop {
            let last = self.get("/pkcs11info", None).json();
            if last["slots"].as_array().is_some_and(|s| done(s)) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}: {last}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until no reader reports a card any more.
    pub fn wait_for_no_card(&self) {
        self.wait_for_slots("the card to disappear", |slots| {
            slots.iter().all(|s| s.get("token").is_none())
        });
    }

    pub fn get(&self, path: &str, origin: Option<&str>) -> HttpAnswer {
        http(self.port, "GET", path, origin, None, b"")
    }

    /// `POST /sign` the way the popup does it (form field `tbsPackage`), as the bridge's
    /// own origin.
    pub fn sign(&self, package: &serde_json::Value) -> serde_json::Value {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("tbsPackage", &package.to_string())
            .finish();
        let a = http(
            self.port,
            "POST",
            "/sign",
            Some(&format!("http://127.0.0.1:{}", self.port)),
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
        );
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpAnswer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request with `Connection: close` (the bridge sends Content-Length).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    origin: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> HttpAnswer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to card-bridge");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(o) = origin {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP answer without header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    HttpAnswer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// `openssl cms -verify` of a DER SignedData against root + intermediate; the content.
pub fn openssl_cms_verify(p7_der: &[u8], root_pem: &Path, intermediate_pem: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let cas = dir.path().join("cas.pem");
    let bundle = std::fs::read_to_string(root_pem).unwrap()
        + &std::fs::read_to_string(intermediate_pem).unwrap();
    std::fs::write(&cas, bundle).unwrap();
    std::fs::write(dir.path().join("sig.p7"), p7_der).unwrap();
    let out = Command::new("openssl")
        .args([
            "cms", "-verify", "-inform", "DER", "-purpose", "any", "-binary", "-in",
        ])
        .arg(dir.path().join("sig.p7"))
        .arg("-CAfile")
        .arg(&cas)
        .arg("-out")
        .arg(dir.path().join("content"))
        .output()
        .expect("the openssl CLI is required (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl cms -verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.path().join("content")).unwrap()
}

/// Runs `verify_login` the way the server will.
pub fn verify_login(
    pki: &card_auth::testing::TestPki,
    tbs: &str,
    signature_b64: &str,
    certb64: &str,
) -> Result<card_auth::CardIdentity, card_auth::CardAuthError> {
    let cert = card_auth::decode_base64_certificate(certb64)?;
    let intermediates = vec![pki.intermediate.der.clone()];
    card_auth::verify_login(
        &card_auth::LoginAttempt {
            tbs: tbs.as_bytes(),
            signature_b64,
            certificate_der: &cert,
            intermediates_der: &intermediates,
        },
        &pki.trust_store(),
        time::OffsetDateTime::now_utc(),
    )
}
