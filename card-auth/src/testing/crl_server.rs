//! A tiny HTTP/1.1 server on `127.0.0.1:0` that publishes test CRLs, so that tests of the
//! server and of the app can fetch a card's CRL from its distribution point. Threads and
//! `std::net` only (this is test support; the crate's verification code does no I/O).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{TestPkiError, err};

/// What a path answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlRoute {
    /// `200 OK` with this body (`application/pkix-crl`).
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// Accepts the connection and never answers (until the server stops): a time limit test.
    Hang,
}

#[derive(Default)]
struct Routes {
    routes: HashMap<String, CrlRoute>,
    hits: HashMap<String, usize>,
}

/// Serves [`CrlRoute`]s by path; unknown paths answer 404. Stops when dropped.
pub struct CrlServer {
    addr: SocketAddr,
    routes: Arc<Mutex<Routes>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CrlServer {
    pub fn start() -> Result<Self, TestPkiError> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(err)?;
        let addr = listener.local_addr().map_err(err)?;
        let routes = Arc::new(Mutex::new(Routes::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let routes = routes.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let routes = routes.clone();
                    let stop = stop.clone();
                    std::thread::spawn(move || serve(conn, &routes, &stop));
                }
            })
        };
        Ok(Self {
            addr,
            routes,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>/<path>` (`path` without the leading slash).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    pub fn set(&self, path: &str, route: CrlRoute) {
        let key = format!("/{}", path.trim_start_matches('/'));
        lock(&self.routes).routes.insert(key, route);
    }

    /// Publishes a CRL (DER) at `path`.
    pub fn publish(&self, path: &str, crl_der: Vec<u8>) {
        self.set(path, CrlRoute::Body(crl_der));
    }

    /// How many requests `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        let key = format!("/{}", path.trim_start_matches('/'));
        lock(&self.routes).hits.get(&key).copied().unwrap_or(0)
    }
}

impl Drop for CrlServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock(routes: &Mutex<Routes>) -> std::sync::MutexGuard<'_, Routes> {
    routes.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An `http://127.0.0.1:<port>/…` URL where nothing listens (the port was just free).
pub fn unreachable_url(path: &str) -> Result<String, TestPkiError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    drop(listener);
    Ok(format!("http://{addr}/{}", path.trim_start_matches('/')))
}

fn serve(mut conn: TcpStream, routes: &Mutex<Routes>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let route = {
        let mut r = lock(routes);
        *r.hits.entry(path.clone()).or_default() += 1;
        r.routes.get(&path).cloned()
    };
    let (status, body) = match route {
        Some(CrlRoute::Body(b)) => (200, b),
        Some(CrlRoute::Status(s)) => (s, Vec::new()),
        Some(CrlRoute::Hang) => {
            let until = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        None => (404, Vec::new()),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
    let _ = conn.flush();
}
