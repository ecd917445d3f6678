//! The operator's grid (`GET /api/admin/applications`, `.../export.csv`) and the words of
//! the audit log page. The grid's filter is [`crate::api::ApplicationQuery`] (with `page` and
//! `page_size`); [`GridSort`] is read from the same query string.

use serde::{Deserialize, Serialize};

use crate::api::{ApplicationView, Page};
use crate::model::{ApplicationType, BillStatus, CertStatus, CustomsOffice, Lang, Status};

/// Columns the operator's grid sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// 申請日期 (the default, newest first).
    #[default]
    CreatedAt,
    Serial,
    TaxId,
    Company,
    AppType,
    Status,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::CreatedAt,
        SortKey::Serial,
        SortKey::TaxId,
        SortKey::Company,
        SortKey::AppType,
        SortKey::Status,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SortKey::CreatedAt => "created_at",
            SortKey::Serial => "serial",
            SortKey::TaxId => "tax_id",
            SortKey::Company => "company",
            SortKey::AppType => "app_type",
            SortKey::Status => "status",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortDir {
    Asc,
    #[default]
    Desc,
}

impl SortDir {
    pub fn code(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
}

/// `sort` and `dir` of the grid's query string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GridSort {
    pub sort: Option<SortKey>,
    pub dir: Option<SortDir>,
}

/// Applications in one status under the current filter (status itself not applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: Status,
    pub count: u64,
}

/// `GET /api/admin/applications`: one page and the counts per status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminApplications {
    #[serde(flatten)]
    pub page: Page<ApplicationView>,
    /// Every status, in [`Status::ALL`] order, zero counts included.
    pub counts: Vec<StatusCount>,
}

/// What an audit `action` means, for the audit log page; `None` for an unknown action (the
/// page then shows the code).
pub fn audit_action_label(action: &str, lang: Lang) -> Option<&'static str> {
    let (zh, en) = match action {
        "application.submit" => ("送出申請", "Application submitted"),
        "application.modify" => ("異動申請", "Change requested"),
        "application.expire" => ("逾期未繳費取消", "Cancelled: unpaid"),
        "application.withdraw" => ("撤回申請", "Application withdrawn"),
        "application.personal_data_erased" => ("個人資料已刪除", "Personal data erased"),
        "payment.record" => ("記錄繳費", "Payment recorded"),
        "certificate.issue" => ("核發憑證", "Certificate issued"),
        "certificate.register" => ("憑證註冊", "Certificate registered"),
        "certificate.revoke" => ("註銷憑證", "Certificate revoked"),
        "certificate.suspend" => ("暫禁憑證", "Certificate suspended"),
        "certificate.unsuspend" => ("解禁憑證", "Certificate unsuspended"),
        "certificate.supersede" => ("展期取代原憑證", "Replaced by renewal"),
        "certificate.expiry_reminder" => ("寄送到期提醒", "Expiry reminder sent"),
        "operator.add" => ("新增作業人員", "Operator added"),
        _ => return None,
    };
    Some(crate::i18n_pick(lang, zh, en))
}

/// The label of a key of an audit entry's detail; `None` for an unknown key.
pub fn audit_field_label(key: &str, lang: Lang) -> Option<&'static str> {
    let (zh, en) = match key {
        "from" => ("原狀態", "From"),
        "to" => ("新狀態", "To"),
        "type" => ("申請類別", "Type"),
        "status" => ("狀態", "Status"),
        "bill_no" => ("規費單號", "Bill no."),
        "bill" => ("繳款書", "Bill"),
        "amount" => ("金額", "Amount"),
        "paid_on" => ("繳費日期", "Paid on"),
        "via" => ("方式", "Via"),
        "cert_name" => ("憑證名稱", "Certificate name"),
        "key" => ("金鑰", "Key"),
        "not_before" => ("生效", "Not before"),
        "not_after" => ("到期", "Not after"),
        "target" => ("原申請", "Target"),
        "request" => ("申請", "Request"),
        "reason" => ("原因", "Reason"),
        "customs_office" => ("關別", "Customs office"),
        "broker_code" => ("專責人員代碼", "Broker staff code"),
        "crl_number" => ("CRL 序號", "CRL number"),
        "days_before" => ("到期前天數", "Days before expiry"),
        "retention_days" => ("保存天數", "Retention days"),
        "mails" => ("清除信件數", "Mails erased"),
        "username" => ("帳號", "Username"),
        _ => return None,
    };
    Some(crate::i18n_pick(lang, zh, en))
}

/// A detail value in words where the key names a vocabulary (statuses, types, offices);
/// `None`: show the value as it is.
pub fn audit_value_text(key: &str, value: &str, lang: Lang) -> Option<String> {
    match key {
        "from" | "to" | "status" => Status::from_code(value)
            .map(|s| format!("{} {}", s.code(), s.label(lang)))
            .or_else(|| CertStatus::from_code(value).map(|s| s.label(lang).to_owned())),
        "type" => ApplicationType::from_code(value).map(|t| t.label(lang).to_owned()),
        "customs_office" => CustomsOffice::from_code(value).map(|o| o.label(lang).to_owned()),
        "bill" => BillStatus::from_code(value).map(|b| b.label(lang).to_owned()),
        _ => None,
    }
}

/// How an audit `actor` (`applicant:…`, `operator:…`, `system:…`) reads.
pub fn audit_actor_text(actor: &str, lang: Lang) -> String {
    let (kind, who) = actor.split_once(':').unwrap_or(("", actor));
    let (zh, en) = match kind {
        "applicant" => ("申請人", "Applicant"),
        "operator" => ("作業人員", "Operator"),
        "system" => ("系統排程", "System job"),
        _ => return actor.to_owned(),
    };
    format!("{} {who}", crate::i18n_pick(lang, zh, en))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_the_server_writes_has_words() {
        for a in [
            "application.submit",
            "application.modify",
            "application.expire",
            "application.personal_data_erased",
            "payment.record",
            "certificate.issue",
            "certificate.register",
            "certificate.revoke",
            "certificate.suspend",
            "certificate.unsuspend",
            "certificate.supersede",
            "certificate.expiry_reminder",
            "operator.add",
        ] {
            assert!(audit_action_label(a, Lang::ZhTw).is_some(), "{a}");
            assert!(audit_action_label(a, Lang::En).is_some(), "{a}");
        }
        assert_eq!(audit_action_label("x.y", Lang::En), None);
        assert_eq!(
            audit_value_text("to", "A9", Lang::ZhTw).as_deref(),
            Some("A9 取消申請")
        );
        assert_eq!(
            audit_value_text("to", "revoked", Lang::En).as_deref(),
            Some("Revoked")
        );
        assert_eq!(audit_value_text("bill_no", "AAF1", Lang::En), None);
        assert_eq!(audit_actor_text("operator:ops", Lang::ZhTw), "作業人員 ops");
    }

    #[test]
    fn the_page_flattens_into_the_answer() {
        let a = AdminApplications {
            page: Page {
                items: vec![],
                page: 1,
                page_size: 10,
                total: 0,
            },
            counts: vec![StatusCount {
                status: Status::Paid,
                count: 2,
            }],
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["page_size"], 10);
        assert_eq!(v["counts"][0]["status"], "20");
        let back: AdminApplications = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }
}
