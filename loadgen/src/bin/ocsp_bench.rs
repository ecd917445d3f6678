//! `ocsp-bench`: OCSP answers per second from the portal (pre-produced answers fetched with
//! GET as RFC 5019 says) and from `openssl ocsp`'s own responder (`-index`, signing each
//! answer) on the same certificates with the same responder key and certificate, in one run,
//! alternating rounds. Both servers and the load client share this machine's cores.
//!
//! `openssl ocsp -port` listens on every interface, so run this in a network namespace of
//! its own whose only interface is loopback (scripts/bench-ocsp.sh does):
//!
//! ```text
//! cargo build --release -p server -p loadgen
//! unshare --net sh -c 'ip link set lo up && $CARGO_TARGET_DIR/release/ocsp-bench'
//! ```

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::{Error, Session};

#[derive(Parser, Debug)]
#[command(
    name = "ocsp-bench",
    about = "OCSP responses per second: portal vs openssl ocsp"
)]
struct Args {
    /// The `portal` binary (default: next to this one).
    #[arg(long)]
    portal: Option<PathBuf>,
    #[arg(long, default_value = "openssl")]
    openssl: PathBuf,
    /// Certificates issued and asked about (round robin).
    #[arg(long, default_value_t = 20)]
    certs: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds per round and server.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Rounds, alternating portal and openssl.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Worker processes of `openssl ocsp -multi` (the machine's cores by default).
    #[arg(long)]
    openssl_workers: Option<usize>,
}

/// A child process stopped when dropped, with every process of its group (`openssl ocsp
/// -multi`'s workers are): SIGTERM, then SIGKILL when it has not gone within 2 s.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        for _ in 0..20 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

async fn start_portal(portal: &Path, dir: &Path) -> Result<(Killed, String), Error> {
    let port = testkit::try_free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("portal.log"))?;
    let env = [
        ("PORTAL_BIND", format!("127.0.0.1:{port}")),
        ("PORTAL_PUBLIC_URL", base.clone()),
        ("PORTAL_DATA_DIR", dir.join("data").display().to_string()),
        ("PORTAL_WEB_DIR", dir.join("web").display().to_string()),
        ("PORTAL_AUTH__DEV_LOGIN", "true".into()),
        ("PORTAL_MAIL_WORKER", "false".into()),
        ("PORTAL_LOG", "warn".into()),
    ];
    loadgen::add_operator(portal, &env, &log)?;
    let child = Command::new(portal)
        .process_group(0)
        .env_remove("PORTAL_CONFIG")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()?;
    let mut child = Killed(child);
    let http = reqwest::Client::new();
    for _ in 0..900 {
        if let Some(status) = child.0.try_wait()? {
            return Err(format!("portal exited with {status}; see its log").into());
        }
        if http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok((child, base));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err("portal did not become healthy in 180 s".into())
}

/// `n` certificates through the JSON API: (serial hex, notAfter RFC 3339, PEM).
async fn issue(base: &str, n: usize) -> Result<Vec<(String, String, String)>, Error> {
    let ops = Session::operator(base, loadgen::OPERATOR, loadgen::OPERATOR_PASSWORD).await?;
    let keys = loadgen::make_keys(1)?;
    let csrs = loadgen::make_csrs(&keys, n, "ocsp")?;
    let mut out = Vec::with_capacity(n);
    for (tax_id, csr) in loadgen::tax_ids(10_000_000, n).iter().zip(&csrs) {
        let alice = Session::login(base, "applicant", tax_id, "").await?;
        let app = alice.apply().await?;
        ops.pay(&app).await?;
        let c = alice.submit_csr(&app.serial, csr).await?;
        out.push((c.serial_hex, c.not_after, c.certificate_pem));
    }
    Ok(out)
}

fn openssl(bin: &Path, dir: &Path, args: &[&str]) -> Result<(), Error> {
    let out = Command::new(bin).args(args).current_dir(dir).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
        .into())
    }
}

/// RFC 5019 GET paths (URL-escaped base64 of each DER request, no nonce).
fn get_paths(bin: &Path, dir: &Path, n: usize) -> Result<Vec<String>, Error> {
    use base64::Engine as _;
    (0..n)
        .map(|i| {
            let (cert, req) = (format!("{i}.pem"), format!("{i}.req"));
            openssl(
                bin,
                dir,
                &[
                    "ocsp",
                    "-issuer",
                    "ca.pem",
                    "-cert",
                    &cert,
                    "-no_nonce",
                    "-reqout",
                    &req,
                ],
            )?;
            let b64 =
                base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join(req))?);
            // Relative to the responder's URL: the portal's is `/ocsp`, openssl's the root
            // (it takes the whole path after `/` as the request).
            Ok(format!(
                "/{}",
                b64.replace('+', "%2B")
                    .replace('/', "%2F")
                    .replace('=', "%3D")
            ))
        })
        .collect()
}

/// `openssl ocsp`'s index: every certificate valid (`V`), expiry as `YYMMDDHHMMSSZ`.
fn index_line(serial_hex: &str, not_after: &str) -> Result<String, Error> {
    let t = time::OffsetDateTime::parse(not_after, &time::format_description::well_known::Rfc3339)?
        .to_offset(time::UtcOffset::UTC);
    Ok(format!(
        "V\t{:02}{:02}{:02}{:02}{:02}{:02}Z\t\t{}\tunknown\t/CN=bench\n",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        serial_hex.to_uppercase()
    ))
}

/// `openssl ocsp -index … -port 0`; its base URL from the `ACCEPT host:port` line.
fn start_openssl(args: &Args, dir: &Path, data: &Path) -> Result<(Killed, String), Error> {
    let workers = args
        .openssl_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let s = |p: PathBuf| p.display().to_string();
    let mut cmd = Command::new(&args.openssl);
    cmd.process_group(0);
    cmd.args(["ocsp", "-index", "index.txt", "-port", "0", "-ignore_err"])
        .args(["-CA", &s(data.join("ca.pem"))])
        .args(["-rsigner", &s(data.join("ocsp-responder.pem"))])
        .args(["-rkey", &s(data.join("ocsp-responder.key"))])
        .args(["-nmin", "1440"]);
    if workers > 1 {
        cmd.args(["-multi", &workers.to_string()]);
    }
    let child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(
            dir.join("openssl-ocsp.log"),
        )?))
        .spawn()?;
    let mut child = Killed(child);
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let (host, port) = loop {
        let line = lines.next().ok_or("openssl ocsp exited before ACCEPT")??;
        // `ACCEPT [::]:36419 PID=24610` (an IPv6-only socket: 127.0.0.1 is refused) or
        // `ACCEPT 0.0.0.0:36419 PID=24610`.
        if let Some(rest) = line.strip_prefix("ACCEPT ") {
            let addr = rest.split_whitespace().next().unwrap_or("");
            let host = if addr.starts_with('[') {
                "[::1]"
            } else {
                "127.0.0.1"
            };
            break (host, addr.rsplit(':').next().unwrap_or("").to_owned());
        }
    };
    // Keep reading (and dropping) what it prints so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((child, format!("http://{host}:{port}")))
}

/// GETs `paths` round robin from `clients` connections for `secs`; (answers, errors).
/// `keep_alive: false` opens a connection per request (openssl's responder answers one request
/// per connection and closes it).
async fn load(
    base: &str,
    paths: &[String],
    clients: usize,
    secs: u64,
    keep_alive: bool,
) -> (u64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let urls: Arc<Vec<String>> = Arc::new(paths.iter().map(|p| format!("{base}{p}")).collect());
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (ok, errors, stop, urls) = (ok.clone(), errors.clone(), stop.clone(), urls.clone());
        tasks.push(tokio::spawn(async move {
            let http = if keep_alive {
                reqwest::Client::new()
            } else {
                reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap_or_default()
            };
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let url = &urls[i % urls.len()];
                i += 1;
                let good = match http.get(url).send().await {
                    // A successful OCSPResponse starts SEQUENCE { ENUMERATED 0, ...
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok_and(|b| {
                        let good = b.len() > 100 && b.get(4..7) == Some(&[0x0a, 0x01, 0x00]);
                        if !good && std::env::var_os("OCSP_BENCH_DEBUG").is_some() {
                            eprintln!("{url}: answer {:02x?}", b.get(..b.len().min(12)));
                        }
                        good
                    }),
                    Ok(r) => {
                        if std::env::var_os("OCSP_BENCH_DEBUG").is_some() {
                            eprintln!("{url}: HTTP {}", r.status());
                        }
                        false
                    }
                    Err(e) => {
                        if std::env::var_os("OCSP_BENCH_DEBUG").is_some() {
                            eprintln!("{url}: {e:?}");
                        }
                        false
                    }
                };
                let counter = if good { &ok } else { &errors };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let (o, e) = (ok.load(Ordering::Relaxed), errors.load(Ordering::Relaxed));
    for t in tasks {
        let _ = t.await;
    }
    (o, e)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ocsp-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let portal = match &args.portal {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("no binary directory")?
            .join("portal"),
    };
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let data = dir.join("data");
    let (_portal, base) = start_portal(&portal, dir).await?;
    let issued = issue(&base, args.certs).await?;
    let ocsp_url = format!("{base}/ocsp");
    std::fs::copy(data.join("ca.pem"), dir.join("ca.pem"))?;
    let mut index = String::new();
    for (i, (serial, not_after, pem)) in issued.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.pem")), pem)?;
        index.push_str(&index_line(serial, not_after)?);
    }
    std::fs::write(dir.join("index.txt"), index)?;
    // Several certificates share a subject: openssl refuses such an index unless told.
    std::fs::write(dir.join("index.txt.attr"), "unique_subject = no\n")?;
    let paths = get_paths(&args.openssl, dir, issued.len())?;
    let (_openssl, openssl_base) = start_openssl(&args, dir, &data)?;

    println!(
        "{} certificates, {} clients, {} s per round, GET (RFC 5019), {} cores",
        issued.len(),
        args.clients,
        args.secs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| round | responder | answers | errors | answers/s |");
    println!("|---|---|---:|---:|---:|");
    for round in 1..=args.rounds {
        for (name, url, keep_alive) in [
            ("portal", &ocsp_url, true),
            ("openssl ocsp", &openssl_base, false),
        ] {
            // A short warm-up (connections, caches) that is not counted.
            load(url, &paths, args.clients, 1, keep_alive).await;
            let t = Instant::now();
            let (ok, errors) = load(url, &paths, args.clients, args.secs, keep_alive).await;
            let rate = ok as f64 / t.elapsed().as_secs_f64();
            println!("| {round} | {name} | {ok} | {errors} | {rate:.0} |");
            if ok == 0 && name.starts_with("openssl") {
                let log = std::fs::read_to_string(dir.join("openssl-ocsp.log")).unwrap_or_default();
                eprintln!("openssl ocsp answered nothing; its log:\n{log}");
            }
        }
    }
    Ok(())
}
