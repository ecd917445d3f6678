//! The HTML pages the server renders itself: the printable payment slip and the card-bridge
//! download page. Plain `format!` templates (two small pages do not need a template engine);
//! every interpolated value is wrapped in [`Text`], the one HTML-escaping place. The golden
//! files in `testdata/` hold their exact output.

use std::fmt;

use time::OffsetDateTime;

use crate::db::applications::AppRow;
use crate::db::bills::BillRow;
use crate::domain::{TAIPEI, format_date};

/// Text for a page: `{}` writes it HTML-escaped (`&`, `<`, `>`, `"`, `'`), so a value from
/// the database or the configuration can neither open a tag nor leave an attribute. Every
/// value these pages interpolate goes through it: the server's one escaping place.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a>(pub &'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// The slip's only style block; its hash goes into the response's CSP (no `unsafe-inline`).
pub const SLIP_STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#000}\
table{border-collapse:collapse;width:100%;max-width:40em}\
th,td{border:1px solid #000;padding:.5em;text-align:left}\
th{width:12em;background:#eee}h1{font-size:1.4em}.amount{font-size:1.3em;font-weight:bold}\
@media print{.noprint{display:none}}";

/// A self-contained HTML payment slip: bill number, amount, due date, payer.
pub fn slip(app: &AppRow, bill: &BillRow) -> String {
    let due = OffsetDateTime::from_unix_timestamp(bill.due_at)
        .map(|t| t.to_offset(TAIPEI))
        .ok();
    let due_text = due
        .map(|t| {
            format!(
                "{} {:02}:{:02} (UTC+8)",
                format_date(t.date()),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default();
    let status = bill.status.label(proto::Lang::ZhTw);
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">\
<title>規費繳款書 {bill_no}</title><style>{style}</style></head><body>\
<h1>關港貿單一窗口 通關專屬憑證 規費繳款書</h1>\
<table>\
<tr><th>規費繳款書號碼 Bill number</th><td>{bill_no}</td></tr>\
<tr><th>繳款金額 Amount</th><td class=\"amount\">新臺幣 NT$ {amount}</td></tr>\
<tr><th>繳費期限 Due</th><td>{due}</td></tr>\
<tr><th>繳款人 Payer</th><td>{company}（統一編號 {tax_id}）</td></tr>\
<tr><th>申請序號 Application</th><td>{serial}</td></tr>\
<tr><th>憑證名稱 Certificate</th><td>{cert_name}</td></tr>\
<tr><th>狀態 Status</th><td>{status}</td></tr>\
</table>\
<p>每張憑證規費新臺幣 2,000 元。逾期未繳費者，繳款書作廢並取消申請。</p>\
<p class=\"noprint\">請使用瀏覽器的列印功能列印本繳款書。</p>\
</body></html>\n",
        bill_no = Text(&bill.bill_no),
        style = SLIP_STYLE,
        amount = bill.amount,
        due = Text(&due_text),
        company = Text(&app.company.name),
        tax_id = Text(&app.tax_id),
        serial = Text(&app.serial),
        cert_name = Text(app.cert_name.as_deref().unwrap_or("")),
        status = Text(status),
    )
}

/// The card-bridge download page for a portal at `origin`, with the operator's download
/// location if configured.
pub fn card_bridge(origin: &str, prebuilt_url: Option<&str>) -> String {
    let origin = Text(origin);
    let prebuilt = match prebuilt_url {
        Some(url) => {
            let url = Text(url);
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
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::api::{CompanyInput, ContactInput};
    use proto::{ApplicationType, BillStatus, BusinessType, CertKind, CustomsOffice, Status};

    /// Compares with the stored page (`UPDATE_GOLDEN=1` rewrites it).
    fn golden(name: &str, html: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/http/testdata")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, html).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap();
        assert_eq!(html, want, "{name} changed");
    }

    #[test]
    fn text_escapes_markup_and_quotes() {
        assert_eq!(
            Text("<a href=\"x\">'&'</a>").to_string(),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(Text("統一編號 12345675").to_string(), "統一編號 12345675");
        assert_eq!(Text("").to_string(), "");
    }

    const HOSTILE: &str = "<script>alert('x')</script> & \"Co\"";

    #[test]
    fn slip_is_unchanged_and_escaped() {
        let app = AppRow {
            id: 1,
            serial: "SW20261124000001".into(),
            tax_id: "12345675".into(),
            app_type: ApplicationType::New,
            status: Status::Submitted,
            target_id: None,
            company: CompanyInput {
                name: format!("台灣報關股份有限公司 {HOSTILE}"),
                ..CompanyInput::default()
            },
            contact: ContactInput::default(),
            customs_office: CustomsOffice::Keelung,
            business_type: BusinessType::Broker,
            box_number: "B00051".into(),
            cert_kind: CertKind::LegalPerson,
            staff_code: String::new(),
            staff_national_id: String::new(),
            cert_name: Some("SingleWindow-01-B00051".into()),
            reason: String::new(),
            created_at: 1_795_507_200,
            updated_at: 1_795_507_200,
        };
        let bill = BillRow {
            id: 1,
            bill_no: "AAF11511000151".into(),
            application_id: 1,
            amount: 2000,
            issued_at: 1_795_507_200,
            due_at: 1_796_716_800,
            status: BillStatus::Unpaid,
            paid_at: None,
            paid_on: None,
            paid_amount: None,
        };
        let html = slip(&app, &bill);
        assert!(!html.contains("<script>"));
        golden("slip.html", &html);
    }

    #[test]
    fn card_bridge_page_is_unchanged_and_escaped() {
        let html = card_bridge("https://portal.example.gov.tw", None);
        golden("card-bridge.html", &html);
        let html = card_bridge(
            "https://portal.example.gov.tw\"><script>",
            Some("https://downloads.example/x?a=1&b=\"2\""),
        );
        assert!(!html.contains("<script>"));
        golden("card-bridge-prebuilt.html", &html);
    }
}
