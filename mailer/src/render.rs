//! Subjects and plain-text bodies of the status mails, in Traditional Chinese. Links point at
//! the app's hash routes (`#/applications/{serial}/bill`, `.../generate`, `.../register`).

use std::fmt::Write as _;

use time::Date;

use crate::{MailKind, MailParams, RenderedMail};

const BRAND: &str = "[關港貿單一窗口]";
/// Shown where a value the kind needs was not supplied, so the mail is still useful.
const SEE_PORTAL: &str = "（請登入平台查詢）";

pub(crate) fn render(kind: MailKind, p: &MailParams) -> RenderedMail {
    // The serial goes into a header: never let a stray line break start a new header line.
    let serial = one_line(&p.serial);
    RenderedMail {
        subject: subject(kind, &serial),
        body_text: body(kind, p, &serial),
    }
}

fn subject(kind: MailKind, serial: &str) -> String {
    // 10/20/A0/A9 are verbatim from the DC02 manual, including the ASCII comma after 申請完成.
    let text = match kind {
        MailKind::Submitted => "通關專屬憑證申請繳費通知",
        MailKind::Paid => "通關專屬憑證完成繳費，請產製金鑰",
        MailKind::Issued => "通關專屬憑證申請完成,可至平台下載憑證",
        MailKind::Cancelled => "通關專屬憑證申請逾期未繳費取消申請通知",
        MailKind::Revoked => "通關專屬憑證註銷完成通知",
        MailKind::Suspended => "通關專屬憑證暫禁完成通知",
        MailKind::Unsuspended => "通關專屬憑證解禁完成通知",
        MailKind::ExpiryReminder => "通關專屬憑證即將到期通知",
        // Not in the manual (it has no withdrawal); worded like its A9 subject.
        MailKind::Withdrawn => "通關專屬憑證撤回申請取消申請通知",
    };
    format!("{BRAND}{text}，申請序號:{serial}")
}

fn body(kind: MailKind, p: &MailParams, serial: &str) -> String {
    let base = p.portal_url.trim().trim_end_matches('/');
    let app_link = |page: &str| format!("{base}/#/applications/{serial}/{page}");
    let mut b = String::new();

    let contact = p.contact_name.trim();
    if contact.is_empty() {
        b.push_str("您好：\n\n");
    } else {
        let _ = write!(b, "{contact} 您好：\n\n");
    }
    let company = p.company_name.trim();
    let whose = if company.is_empty() {
        "貴公司".to_owned()
    } else {
        format!("貴公司（{company}）")
    };

    match kind {
        MailKind::Submitted => {
            let _ = writeln!(
                b,
                "{whose}的通關專屬憑證申請已送出，申請序號：{serial}。\n目前狀態：10 送出申請，待繳費。\n"
            );
            b.push_str("下一步：請於繳費期限前繳納憑證規費。\n");
            let _ = writeln!(b, "  規費繳款書號碼：{}", or_portal(p.bill_no.as_deref()));
            let amount = match p.amount {
                Some(a) => format!("新臺幣 {} 元（NT${}）", thousands(a), thousands(a)),
                None => SEE_PORTAL.to_owned(),
            };
            let _ = writeln!(b, "  應繳金額：{amount}");
            let due = p.due_on.map(ymd);
            let _ = writeln!(b, "  繳費期限：{}", or_portal(due.as_deref()));
            let _ = writeln!(b, "  列印繳款單：{}\n", app_link("bill"));
            b.push_str("逾期未繳費者，繳款書即失效，本申請將自動取消。\n");
        }
        MailKind::Paid => {
            let _ = writeln!(
                b,
                "{whose}申請序號 {serial} 的規費已完成繳納。\n目前狀態：20 完成繳費，待業者金鑰產製。\n"
            );
            let _ = writeln!(
                b,
                "下一步：請登入平台產製金鑰並下載憑證：\n  {}\n",
                app_link("generate")
            );
            b.push_str(
                "金鑰在您的瀏覽器中產生，私密金鑰不會傳送至伺服器。產製完成後請立即下載並備份\n\
                 憑證檔（.cer）與金鑰檔（.pfx），並妥善保管 .pfx 的密碼。\n",
            );
        }
        MailKind::Issued => {
            let _ = writeln!(
                b,
                "{whose}申請序號 {serial} 的通關專屬憑證已核發。\n目前狀態：A0 完成申請及下載憑證。\n"
            );
            let _ = writeln!(
                b,
                "  憑證名稱：{}",
                or_portal(p.certificate_name.as_deref())
            );
            if let Some(cs) = nonempty(p.certificate_serial.as_deref()) {
                let _ = writeln!(b, "  憑證序號：{cs}");
            }
            let _ = writeln!(b, "  下載憑證：{}\n", app_link("generate"));
            let _ = writeln!(
                b,
                "下一步：請至憑證註冊中心登錄憑證（上傳 .cer 檔）後，即可用於通關作業：\n  {}",
                app_link("register")
            );
        }
        MailKind::Cancelled => {
            let _ = writeln!(
                b,
                "{whose}申請序號 {serial} 的通關專屬憑證申請已取消。\n目前狀態：A9 取消申請。\n"
            );
            let reason = nonempty(p.reason.as_deref()).unwrap_or("逾期未繳費，繳款書已失效。");
            let _ = writeln!(b, "  取消原因：{reason}");
            if let Some(bill) = nonempty(p.bill_no.as_deref()) {
                let _ = writeln!(b, "  已失效之規費繳款書號碼：{bill}（請勿再繳費）");
            }
            let _ = writeln!(
                b,
                "\n下一步：如仍需通關專屬憑證，請重新提出申請：\n  {base}/#/apply"
            );
        }
        MailKind::ExpiryReminder => {
            let _ = writeln!(b, "{whose}申請序號 {serial} 的通關專屬憑證即將到期。\n");
            let _ = writeln!(
                b,
                "  憑證名稱：{}",
                or_portal(p.certificate_name.as_deref())
            );
            if let Some(cs) = nonempty(p.certificate_serial.as_deref()) {
                let _ = writeln!(b, "  憑證序號：{cs}");
            }
            let until = p.due_on.map(ymd);
            let _ = writeln!(b, "  有效期限至：{}\n", or_portal(until.as_deref()));
            let _ = writeln!(
                b,
                "下一步：請於到期前提出展期申請，以免通關作業中斷：\n  {base}/#/apply/renew/{serial}"
            );
            b.push_str("展期之新憑證完成註冊後，原憑證即予註銷（原因：已被取代）。\n");
        }
        MailKind::Withdrawn => {
            let _ = writeln!(
                b,
                "{whose}已撤回申請序號 {serial} 的通關專屬憑證申請。\n目前狀態：A9 取消申請。\n"
            );
            if let Some(bill) = nonempty(p.bill_no.as_deref()) {
                let _ = writeln!(b, "  已作廢之規費繳款書號碼：{bill}（請勿再繳費）");
            }
            b.push_str("\n如非貴公司所為，請立即與關港貿單一窗口聯繫。\n");
            let _ = writeln!(
                b,
                "\n下一步：如仍需通關專屬憑證，請重新提出申請：\n  {base}/#/apply"
            );
        }
        MailKind::Revoked | MailKind::Suspended | MailKind::Unsuspended => {
            let (done, meaning) = match kind {
                MailKind::Revoked => (
                    "註銷",
                    "此憑證已永久失效，即日起不得再用於通關作業，且無法恢復；如需使用，請重新申請新憑證。",
                ),
                MailKind::Suspended => (
                    "暫禁",
                    "此憑證已暫停使用，暫禁期間無法用於通關作業；如需恢復使用，請提出解禁申請。",
                ),
                _ => ("解禁", "此憑證已恢復有效，即日起可再用於通關作業。"),
            };
            let _ = writeln!(b, "{whose}申請序號 {serial} 的憑證{done}申請已完成。\n");
            let _ = writeln!(
                b,
                "  憑證序號：{}",
                or_portal(p.certificate_serial.as_deref())
            );
            if let Some(name) = nonempty(p.certificate_name.as_deref()) {
                let _ = writeln!(b, "  憑證名稱：{name}");
            }
            if let Some(reason) = nonempty(p.reason.as_deref()) {
                let _ = writeln!(b, "  原因：{reason}");
            }
            let _ = writeln!(b, "\n說明：{meaning}");
            let _ = writeln!(
                b,
                "若此申請並非由貴公司提出，請立即與關港貿單一窗口聯繫。\n\n申請查詢：{base}/#/applications"
            );
        }
    }

    b.push_str("\n此郵件由系統自動發送，請勿直接回覆。\n關港貿單一窗口 通關專屬憑證服務\n");
    if !base.is_empty() {
        let _ = writeln!(b, "{base}/");
    }
    b
}

fn nonempty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

fn or_portal(v: Option<&str>) -> String {
    nonempty(v).unwrap_or(SEE_PORTAL).to_owned()
}

fn one_line(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn params() -> MailParams {
        MailParams {
            serial: "SW20261124000001".into(),
            company_name: "大同報關股份有限公司".into(),
            contact_name: "王小明".into(),
            bill_no: Some("AAF11511000151".into()),
            amount: Some(2000),
            due_on: Some(date!(2026 - 12 - 08)),
            certificate_name: Some("SingleWindow-01-B00051".into()),
            certificate_serial: Some("5f3a9c0d11".into()),
            reason: Some("公司歇業".into()),
            portal_url: "https://portal.example.gov.tw/".into(),
        }
    }

    #[test]
    fn subjects_are_verbatim_from_the_manual() {
        let p = params();
        let cases = [
            (
                MailKind::Submitted,
                "[關港貿單一窗口]通關專屬憑證申請繳費通知，申請序號:SW20261124000001",
            ),
            (
                MailKind::Paid,
                "[關港貿單一窗口]通關專屬憑證完成繳費，請產製金鑰，申請序號:SW20261124000001",
            ),
            (
                MailKind::Issued,
                "[關港貿單一窗口]通關專屬憑證申請完成,可至平台下載憑證，申請序號:SW20261124000001",
            ),
            (
                MailKind::Cancelled,
                "[關港貿單一窗口]通關專屬憑證申請逾期未繳費取消申請通知，申請序號:SW20261124000001",
            ),
            (
                MailKind::Revoked,
                "[關港貿單一窗口]通關專屬憑證註銷完成通知，申請序號:SW20261124000001",
            ),
            (
                MailKind::Withdrawn,
                "[關港貿單一窗口]通關專屬憑證撤回申請取消申請通知，申請序號:SW20261124000001",
            ),
            (
                MailKind::Suspended,
                "[關港貿單一窗口]通關專屬憑證暫禁完成通知，申請序號:SW20261124000001",
            ),
            (
                MailKind::Unsuspended,
                "[關港貿單一窗口]通關專屬憑證解禁完成通知，申請序號:SW20261124000001",
            ),
            (
                MailKind::ExpiryReminder,
                "[關港貿單一窗口]通關專屬憑證即將到期通知，申請序號:SW20261124000001",
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(render(kind, &p).subject, want, "{kind:?}");
        }
    }

    #[test]
    fn submitted_gives_bill_amount_due_date_and_slip_link() {
        let m = render(MailKind::Submitted, &params());
        assert!(
            m.body_text.starts_with("王小明 您好：\n"),
            "{}",
            m.body_text
        );
        assert!(m.body_text.contains("大同報關股份有限公司"));
        assert!(m.body_text.contains("規費繳款書號碼：AAF11511000151\n"));
        assert!(m.body_text.contains("新臺幣 2,000 元（NT$2,000）"));
        assert!(m.body_text.contains("繳費期限：2026-12-08\n"));
        assert!(
            m.body_text
                .contains("https://portal.example.gov.tw/#/applications/SW20261124000001/bill\n")
        );
        assert!(m.body_text.contains("10 送出申請，待繳費"));
    }

    #[test]
    fn submitted_without_bill_details_points_to_the_portal() {
        let p = MailParams {
            bill_no: None,
            amount: None,
            due_on: None,
            ..params()
        };
        let m = render(MailKind::Submitted, &p);
        assert_eq!(
            m.body_text.matches(SEE_PORTAL).count(),
            3,
            "{}",
            m.body_text
        );
    }

    #[test]
    fn paid_links_to_generate() {
        let m = render(MailKind::Paid, &params());
        assert!(
            m.body_text
                .contains("https://portal.example.gov.tw/#/applications/SW20261124000001/generate")
        );
        assert!(m.body_text.contains("20 完成繳費，待業者金鑰產製"));
        assert!(!m.body_text.contains("AAF11511000151"));
    }

    #[test]
    fn issued_links_to_download_and_names_the_certificate() {
        let m = render(MailKind::Issued, &params());
        assert!(m.body_text.contains("憑證名稱：SingleWindow-01-B00051\n"));
        assert!(m.body_text.contains(
            "下載憑證：https://portal.example.gov.tw/#/applications/SW20261124000001/generate\n"
        ));
        assert!(
            m.body_text
                .contains("/#/applications/SW20261124000001/register")
        );
        assert!(m.body_text.contains("A0 完成申請及下載憑證"));
    }

    #[test]
    fn expiry_reminder_gives_the_last_day_and_links_to_renewal() {
        let m = render(MailKind::ExpiryReminder, &params());
        assert!(m.body_text.contains("有效期限至：2026-12-08\n"));
        assert!(
            m.body_text
                .contains("https://portal.example.gov.tw/#/apply/renew/SW20261124000001\n")
        );
        assert!(m.body_text.contains("憑證名稱：SingleWindow-01-B00051\n"));
    }

    #[test]
    fn cancelled_gives_the_reason() {
        let m = render(MailKind::Cancelled, &params());
        assert!(
            m.body_text.contains("取消原因：公司歇業\n"),
            "{}",
            m.body_text
        );
        assert!(m.body_text.contains("A9 取消申請"));
        assert!(
            m.body_text
                .contains("https://portal.example.gov.tw/#/apply\n")
        );

        let default = render(
            MailKind::Cancelled,
            &MailParams {
                reason: None,
                ..params()
            },
        );
        assert!(
            default
                .body_text
                .contains("取消原因：逾期未繳費，繳款書已失效。")
        );
    }

    #[test]
    fn certificate_actions_give_serial_and_meaning() {
        let p = params();
        let revoked = render(MailKind::Revoked, &p).body_text;
        let suspended = render(MailKind::Suspended, &p).body_text;
        let unsuspended = render(MailKind::Unsuspended, &p).body_text;
        for body in [&revoked, &suspended, &unsuspended] {
            assert!(body.contains("憑證序號：5f3a9c0d11\n"), "{body}");
            assert!(body.contains("憑證名稱：SingleWindow-01-B00051\n"));
        }
        assert!(revoked.contains("永久失效"));
        assert!(suspended.contains("暫停使用") && suspended.contains("解禁申請"));
        assert!(unsuspended.contains("恢復有效"));
        assert_ne!(revoked, suspended);
        assert_ne!(suspended, unsuspended);
    }

    #[test]
    fn line_breaks_in_the_serial_cannot_inject_headers() {
        let p = MailParams {
            serial: "SW1\r\nBcc: x@example.com".into(),
            ..params()
        };
        let m = render(MailKind::Paid, &p);
        assert!(!m.subject.contains('\n') && !m.subject.contains('\r'));
    }

    #[test]
    fn empty_names_still_read_well() {
        let p = MailParams {
            contact_name: " ".into(),
            company_name: String::new(),
            ..params()
        };
        let m = render(MailKind::Paid, &p);
        assert!(
            m.body_text.starts_with("您好：\n\n貴公司申請序號"),
            "{}",
            m.body_text
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2000), "2,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-4000), "-4,000");
    }
}
