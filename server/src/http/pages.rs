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
/// Two copies of the NS11 form on one A4 sheet: sizes are in millimetres and points so the
/// printout does not depend on the window the slip was opened in.
pub const SLIP_STYLE: &str = "@page{size:A4;margin:10mm}\
*{box-sizing:border-box}\
body{font-family:'Noto Sans CJK TC','Noto Sans TC',sans-serif;margin:0 auto;max-width:190mm;color:#000;font-size:10pt;line-height:1.35}\
h1{font-size:13pt;margin:0 0 2mm}h2{font-size:11pt;margin:0 0 1.5mm}\
.copy{border:1px solid #000;padding:3mm;margin-bottom:3mm;break-inside:avoid}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #000;padding:1mm 1.5mm;text-align:left;vertical-align:top}\
th{width:24%;background:#eee;font-weight:normal}\
.amount{font-size:12pt;font-weight:bold}.mono{font-family:monospace;font-size:11pt;letter-spacing:.5pt}\
.stamps{display:flex;gap:2mm;margin-top:2mm}.stamps div{flex:1;border:1px solid #000;height:14mm;padding:1mm}\
.cut{border-top:1px dashed #000;margin:2mm 0 3mm;text-align:center;font-size:8pt}\
ul{margin:1mm 0 0;padding-left:5mm}p{margin:1mm 0}\
@media print{.noprint{display:none}}";

/// `2026-11-24` (Taipei) of a Unix time as the ROC date `115/11/24`, and its month `115/11`.
fn roc_day_and_month(at: i64) -> (String, String) {
    OffsetDateTime::from_unix_timestamp(at)
        .map(|t| t.to_offset(TAIPEI))
        .map(|t| {
            let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
            let day = proto::payment::roc_date(y, m, d);
            let month = day.get(..6).unwrap_or_default().to_owned();
            (day, month)
        })
        .unwrap_or_default()
}

/// The printable payment slip in the manual's NS11 layout (關港貿戶存款收款書彙款申請書):
/// payer, deposit kind, amount, dates, bill and document numbers, the payee bank and the
/// virtual account derived from the bill number, the payment channels, and the two copies
/// (第一聯收據 for the payer, 第三聯存根聯 for the bank) with the stamp boxes.
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
    let due_code = due
        .map(|t| {
            format!(
                "{:03}{:02}{:02}",
                t.year() - 1911,
                u8::from(t.month()),
                t.day()
            )
        })
        .unwrap_or_default();
    let (issued_day, issued_month) = roc_day_and_month(bill.issued_at);
    let account = proto::payment::virtual_account(&bill.bill_no).unwrap_or_default();
    let amount = proto::payment::ntd(bill.amount);
    let count = bill.amount / proto::FEE_PER_CERTIFICATE.max(1);
    let code_line = format!("{account}-{:09}-{due_code}", bill.amount);
    let status = bill.status.label(proto::Lang::ZhTw);
    let copy = |title: &str, keeper: &str| {
        format!(
            "<section class=\"copy\" aria-label=\"{title}\">\
<h2>{title}（{keeper}）</h2>\
<table>\
<tr><th scope=\"row\">繳款人統編</th><td>{tax_id}</td><th scope=\"row\">繳款人名稱</th><td>{company}</td></tr>\
<tr><th scope=\"row\">存款種類</th><td>{kind}</td><th scope=\"row\">金額（新臺幣）</th><td class=\"amount\">{amount}（{count}件）</td></tr>\
<tr><th scope=\"row\">匯發日期</th><td>{issued_day}</td><th scope=\"row\">繳費年月</th><td>{issued_month}</td></tr>\
<tr><th scope=\"row\">報單／文件號碼</th><td class=\"mono\">{serial}</td><th scope=\"row\">稅費單號碼</th><td class=\"mono\">{bill_no}</td></tr>\
<tr><th scope=\"row\">存款機關</th><td>{agency}</td><th scope=\"row\">繳費期限</th><td>{due}</td></tr>\
<tr><th scope=\"row\">通匯解款行</th><td>{bank}</td><th scope=\"row\">通匯解款行代號</th><td class=\"mono\">{bank_code}</td></tr>\
<tr><th scope=\"row\">戶名</th><td>{payee}</td><th scope=\"row\">帳號</th><td class=\"mono\">{account}</td></tr>\
<tr><th scope=\"row\">繳費代碼</th><td colspan=\"3\" class=\"mono\">{code_line}</td></tr>\
</table>\
<div class=\"stamps\"><div>收款機構戳記</div><div>核章</div><div>會計</div><div>經辦</div></div>\
</section>",
            tax_id = Text(&app.tax_id),
            company = Text(&app.company.name),
            kind = Text(proto::payment::DEPOSIT_KIND),
            amount = Text(&amount),
            serial = Text(&app.serial),
            bill_no = Text(&bill.bill_no),
            agency = Text(proto::payment::PAYEE_AGENCY),
            due = Text(&due_text),
            bank = Text(proto::payment::PAYEE_BANK),
            bank_code = Text(proto::payment::PAYEE_BANK_CODE),
            payee = Text(proto::payment::PAYEE_ACCOUNT_NAME),
            account = Text(&account),
            code_line = Text(&code_line),
            issued_day = Text(&issued_day),
            issued_month = Text(&issued_month),
        )
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-Hant-TW\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>規費繳款書 {bill_no}</title><style>{style}</style></head><body><main>\
<h1>關港貿戶存款收款書彙款申請書 (NS11)　通關專屬憑證規費</h1>\
{receipt}\
<p class=\"cut\">- - - 沿虛線撕開 - - -</p>\
{stub}\
<h2>繳費方式</h2>\
<ul>\
<li>ATM 轉帳：轉入銀行代號 {bank3}，轉入帳號 {account}（虛擬帳號，末碼為檢查碼），金額 {amount}。</li>\
<li>臨櫃繳款：持本繳款書至{bank}或各地分行，填寫通匯解款行代號 {bank_code}、戶名及帳號。</li>\
</ul>\
<p>狀態：{status}。每張憑證規費新臺幣 2,000 元（NT$2,000）。逾期未繳費者，繳款書作廢並取消申請。\
憑證名稱：{cert_name}。</p>\
<p class=\"noprint\">請使用瀏覽器的列印功能列印本繳款書（A4 一頁）。</p>\
</main></body></html>\n",
        bill_no = Text(&bill.bill_no),
        style = SLIP_STYLE,
        receipt = copy("第一聯收據", "繳款人收執"),
        stub = copy("第三聯存根聯", "收款機構存查"),
        bank3 = Text(proto::payment::PAYEE_BANK_CODE.get(..3).unwrap_or_default()),
        account = Text(&account),
        amount = Text(&amount),
        bank = Text(proto::payment::PAYEE_BANK),
        bank_code = Text(proto::payment::PAYEE_BANK_CODE),
        status = Text(status),
        cert_name = Text(app.cert_name.as_deref().unwrap_or("")),
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
            receipt_no: None,
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
