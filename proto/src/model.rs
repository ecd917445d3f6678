//! Vocabulary of the DC02 flow: application types, statuses, offices, business types,
//! certificate kinds. Wire names are stable strings; labels are for display only.

use serde::{Deserialize, Serialize};

/// Display language of the portal (Traditional Chinese is the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-TW")]
    ZhTw,
    En,
}

macro_rules! labelled_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stable wire and database code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $wire,)+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($wire => Some($name::$variant),)+ _ => None }
            }

            pub fn label(self, lang: $crate::model::Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, $crate::model::Lang::ZhTw) => $zh, ($name::$variant, $crate::model::Lang::En) => $en,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use labelled_enum;

labelled_enum!(
    /// 申請類別.
    ApplicationType {
        New = "new", "新申請", "New";
        Modify = "modify", "修改", "Modify";
        Renew = "renew", "展期", "Renew";
        Revoke = "revoke", "註銷", "Revoke";
        Suspend = "suspend", "暫禁", "Suspend";
        Unsuspend = "unsuspend", "解禁", "Unsuspend";
    }
);

labelled_enum!(
    /// 申請狀態: 10 → 20 → A0, or 10 → A9.
    Status {
        Submitted = "10", "送出申請，待繳費", "Submitted, awaiting payment";
        Paid = "20", "完成繳費，待業者金鑰產製", "Paid, awaiting key generation";
        Completed = "A0", "完成申請及下載憑證", "Completed";
        Cancelled = "A9", "取消申請", "Cancelled";
    }
);

labelled_enum!(
    /// 申請關別.
    CustomsOffice {
        Keelung = "keelung", "基隆關", "Keelung Customs";
        Taipei = "taipei", "臺北關", "Taipei Customs";
        Taichung = "taichung", "臺中關", "Taichung Customs";
        Kaohsiung = "kaohsiung", "高雄關", "Kaohsiung Customs";
    }
);

labelled_enum!(
    /// 業別.
    BusinessType {
        Broker = "broker", "報關業(含自行報關)", "Customs broker (incl. self-declaring)";
        Carrier = "carrier", "運輸業", "Carrier";
        Warehouse = "warehouse", "倉儲業(含貨櫃集散站)", "Warehouse (incl. container terminal)";
        Forwarder = "forwarder", "承攬業", "Freight forwarder";
        FreeTradeZone = "ftz", "自由貿易港區事業", "Free trade zone enterprise";
        Inspection = "inspection", "報驗業", "Inspection agent";
    }
);

labelled_enum!(
    /// 憑證種類: legal person (company) or individual (dedicated customs broker staff).
    CertKind {
        LegalPerson = "legal_person", "法人", "Legal person";
        Individual = "individual", "個人", "Individual";
    }
);

labelled_enum!(
    /// Lifecycle of an issued certificate (separate from the application's status).
    CertStatus {
        Valid = "valid", "有效", "Valid";
        Suspended = "suspended", "暫禁", "Suspended";
        Revoked = "revoked", "已註銷", "Revoked";
        Expired = "expired", "已逾期", "Expired";
    }
);

labelled_enum!(
    /// 規費繳款書 state.
    BillStatus {
        Unpaid = "unpaid", "待繳費", "Unpaid";
        Paid = "paid", "已繳費", "Paid";
        Void = "void", "已作廢", "Void";
    }
);

labelled_enum!(
    /// Who a session belongs to.
    Role {
        Applicant = "applicant", "申請業者", "Applicant";
        Operator = "operator", "系統管理者", "Operator";
    }
);

labelled_enum!(
    /// An operator's role (least privilege): cashier records payments and imports bank
    /// files; officer places and lifts holds and revokes; auditor only reads; admin does all.
    OperatorRole {
        Cashier = "cashier", "出納", "Cashier";
        Officer = "officer", "審核人員", "Officer";
        Auditor = "auditor", "稽核人員", "Auditor";
        Admin = "admin", "系統管理者", "Administrator";
    }
);

labelled_enum!(
    /// Why a certificate is revoked or held: the RFC 5280 CRLReason written into the CRL.
    /// `certificateHold` is the reason of every suspension (暫禁) and of nothing else.
    RevocationReason {
        KeyCompromise = "keyCompromise", "金鑰洩漏", "Key compromise";
        AffiliationChanged = "affiliationChanged", "隸屬關係變更", "Affiliation changed";
        Superseded = "superseded", "已被取代", "Superseded";
        CessationOfOperation = "cessationOfOperation", "停止營運", "Cessation of operation";
        CertificateHold = "certificateHold", "暫時停用", "Certificate hold";
    }
);

impl RevocationReason {
    /// The reasons a revocation (註銷) may give; `certificateHold` is for suspensions only.
    pub const REVOCATION: &'static [RevocationReason] = &[
        RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
    ];
}

labelled_enum!(
    /// What the caller may do with an application right now; the server computes it so
    /// the page shows only buttons that will work.
    Action {
        Generate = "generate", "產製", "Generate";
        Download = "download", "下載", "Download";
        Change = "change", "異動", "Change";
        PrintSlip = "print_slip", "列印繳費單", "Print slip";
        Register = "register", "註冊", "Register";
        Renew = "renew", "展期", "Renew";
        Revoke = "revoke", "註銷", "Revoke";
        Suspend = "suspend", "暫禁", "Suspend";
        Unsuspend = "unsuspend", "解禁", "Unsuspend";
        RecordPayment = "record_payment", "記錄繳費", "Record payment";
        Withdraw = "withdraw", "撤回申請", "Withdraw";
    }
);

impl ApplicationType {
    /// Types that lead to a new certificate, and so to a fee and a key.
    pub fn issues_certificate(self) -> bool {
        matches!(self, ApplicationType::New | ApplicationType::Renew)
    }

    /// Types that act on an existing, completed application's certificate.
    pub fn needs_target(self) -> bool {
        self != ApplicationType::New
    }
}

/// Fee per certificate, NT$.
pub const FEE_PER_CERTIFICATE: i64 = 2000;
/// Days an unpaid bill stays payable before the application is cancelled.
pub const PAYMENT_DAYS: i64 = 14;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.code())
            );
        }
        for t in ApplicationType::ALL {
            assert_eq!(ApplicationType::from_code(t.code()), Some(*t));
        }
        assert_eq!(Status::from_code("A1"), None);
        assert_eq!(Status::Cancelled.label(Lang::ZhTw), "取消申請");
        assert_eq!(serde_json::to_string(&Lang::ZhTw).unwrap(), "\"zh-TW\"");
    }

    #[test]
    fn only_new_and_renew_issue() {
        let issuing: Vec<_> = ApplicationType::ALL
            .iter()
            .filter(|t| t.issues_certificate())
            .collect();
        assert_eq!(issuing, [&ApplicationType::New, &ApplicationType::Renew]);
        assert!(!ApplicationType::New.needs_target());
        assert!(ApplicationType::Revoke.needs_target());
    }
}
