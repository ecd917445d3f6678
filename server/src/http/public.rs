//! Unauthenticated endpoints: health, the CA certificates (`/ca.cer` is the issuing CA, the
//! AIA caIssuers of every leaf; `/ca-chain.pem` it and the certificates above it; `/root.cer`
//! the root to trust), the CRL (CRL distribution point), the card-bridge download page.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::domain::crl;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

fn binary(content_type: &'static str, body: Vec<u8>, max_age: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(max_age));
    r
}

pub async fn ca_cer(State(state): State<AppState>) -> Response {
    binary(
        "application/pkix-cert",
        state.svc.ca.certificate_der().to_vec(),
        "public, max-age=3600",
    )
}

pub async fn ca_pem(State(state): State<AppState>) -> Response {
    binary(
        "application/x-pem-file",
        state.svc.ca.certificate_pem().into_bytes(),
        "public, max-age=3600",
    )
}

/// The issuing CA and every certificate above it, the root last (one PEM file).
pub async fn ca_chain_pem(State(state): State<AppState>) -> Response {
    binary(
        "application/x-pem-file",
        state.svc.ca.chain_pem().concat().into_bytes(),
        "public, max-age=3600",
    )
}

/// The root certificate: the issuing CA itself when it is self-signed.
pub async fn root_cer(State(state): State<AppState>) -> Response {
    binary(
        "application/pkix-cert",
        state.svc.ca.root_der().to_vec(),
        "public, max-age=3600",
    )
}

pub async fn crl(State(state): State<AppState>) -> Result<Response, ApiError> {
    let der = crl::current(&state.svc, state.now()).await?;
    // Short cache: a revocation must show up quickly.
    Ok(binary("application/pkix-crl", der, "public, max-age=60"))
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /downloads/card-bridge`: how to get and run the local card component, linked from
/// the login page when the component does not answer. A server page (not part of the app
/// bundle) so it can name this portal's origin in the `--allow-origin` command and the
/// operator's download location (`auth.card_bridge_download_url`). Plain HTML, no script.
pub async fn card_bridge_download(State(state): State<AppState>) -> Response {
    let origin = escape_html(&state.config.public_origin());
    let prebuilt = match &state.config.auth.card_bridge_download_url {
        Some(url) => {
            let url = escape_html(url);
            format!(
                "<h2>下載 Download</h2>\n<p>預先建置的程式（Linux、macOS、Windows）／Prebuilt \
                 binaries (Linux, macOS, Windows): <a id=\"prebuilt\" href=\"{url}\">{url}</a></p>\n"
            )
        }
        None => "<p class=\"note\">本站未提供預先建置的程式，請依下列步驟自行建置。／This portal \
                 offers no prebuilt binaries: build card-bridge from source as below.</p>\n"
            .to_owned(),
    };
    let run = format!("card-bridge serve --allow-origin {origin}");
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="zh-TW">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>本機憑證元件 card-bridge｜Card component card-bridge</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<main id="main" class="download-page">
<h1>本機憑證元件 card-bridge／The local card component</h1>
<p>以工商憑證 IC 卡登入時，網頁需透過本機程式讀取讀卡機。請在插有讀卡機的電腦上執行 card-bridge
（或內政部／經濟部的 HiPKI 跨平台網頁元件），它只在 <code>http://localhost:61161</code> 上接受本站的要求。</p>
<p>To log in with the business certificate IC card, the page needs a small program on your
computer that talks to the card reader: run card-bridge (or the government's HiPKI Local
Server component). It listens on <code>http://localhost:61161</code> only and serves this
portal only.</p>
{prebuilt}<h2>執行 Run</h2>
<pre id="run-command"><code>{run}</code></pre>
<p>程式會顯示 <code>card-bridge listening on http://127.0.0.1:61161</code>；保持執行後回到登入頁再試一次。
<code>card-bridge list</code> 會列出讀卡機與卡片上的統一編號。／Keep it running and try the
login again. <code>card-bridge list</code> shows the readers and the tax ID on the card.</p>
<h2>自行建置 Build from source</h2>
<p>需要 Rust（<code>https://rustup.rs</code>）與本專案原始碼。／Needs Rust
(<code>https://rustup.rs</code>) and this project's source code.</p>
<h3>Linux (Debian/Ubuntu)</h3>
<pre><code>sudo apt-get install pcscd libpcsclite-dev pkg-config
cargo build --release -p card-bridge
./target/release/{run}</code></pre>
<h3>macOS</h3>
<p>PC/SC 已內建。／PC/SC is part of macOS.</p>
<pre><code>cargo build --release -p card-bridge
./target/release/{run}</code></pre>
<h3>Windows</h3>
<p>PC/SC（WinSCard）已內建。／PC/SC (WinSCard) is part of Windows.</p>
<pre><code>cargo build --release -p card-bridge
.\target\release\{run}</code></pre>
<h2>注意 Note</h2>
<p>card-bridge 目前以 PIV 指令讀卡；經濟部工商憑證（HiCOS）卡需經 HiCOS PKCS#11 函式庫使用，尚未支援時請改用
HiPKI 跨平台網頁元件（<code>https://moeaca.nat.gov.tw</code>），並將本站 <code>{origin}</code> 加入其信任網站。／
card-bridge speaks PIV to the card today; MOEACA (HiCOS) cards are used through the HiCOS
PKCS#11 library. Until card-bridge supports it, use the HiPKI component from
<code>https://moeaca.nat.gov.tw</code> and add <code>{origin}</code> to its trusted sites.</p>
<p><a href="/#/login">回到登入頁／Back to the login page</a></p>
</main>
</body>
</html>
"#
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}
