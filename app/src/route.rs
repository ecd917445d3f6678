//! Hash routes (`#/applications/SW.../generate`): they work from any path the server's SPA
//! fallback answers, and links need no click interception.

use leptos::prelude::*;
use proto::ApplicationType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Home,
    Login,
    /// The DC02 function menu (憑證通關服務 > 通關專屬憑證: the 作業名稱 list).
    Menu,
    Applications,
    /// New application, or one acting on `target` (modify, renew, revoke, ...).
    Apply {
        app_type: ApplicationType,
        target: Option<String>,
    },
    Bill(String),
    /// 檢視: the read-only detail of one application.
    Detail(String),
    /// 繳納證明: the payment receipt, printable.
    Receipt(String),
    Generate(String),
    Register(String),
    Admin,
    AdminImport,
    AdminAudit,
    /// The operator changes their own password.
    AdminPassword,
    NotFound,
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [] => Route::Home,
            ["login"] => Route::Login,
            ["menu"] => Route::Menu,
            ["applications"] => Route::Applications,
            ["applications", s] => Route::Detail((*s).to_owned()),
            ["applications", s, "receipt"] => Route::Receipt((*s).to_owned()),
            ["apply"] => Route::Apply {
                app_type: ApplicationType::New,
                target: None,
            },
            ["apply", t] => match ApplicationType::from_code(t) {
                Some(app_type) => Route::Apply {
                    app_type,
                    target: None,
                },
                None => Route::NotFound,
            },
            ["apply", t, target] => match ApplicationType::from_code(t) {
                Some(app_type) => Route::Apply {
                    app_type,
                    target: Some((*target).to_owned()),
                },
                None => Route::NotFound,
            },
            ["applications", s, "bill"] => Route::Bill((*s).to_owned()),
            ["applications", s, "generate"] => Route::Generate((*s).to_owned()),
            ["applications", s, "register"] => Route::Register((*s).to_owned()),
            ["admin"] => Route::Admin,
            ["admin", "import"] => Route::AdminImport,
            ["admin", "audit"] => Route::AdminAudit,
            ["admin", "password"] => Route::AdminPassword,
            _ => Route::NotFound,
        }
    }

    pub fn href(&self) -> String {
        match self {
            Route::Home => "#/".into(),
            Route::Login => "#/login".into(),
            Route::Menu => "#/menu".into(),
            Route::Applications => "#/applications".into(),
            Route::Apply {
                app_type: ApplicationType::New,
                target: None,
            } => "#/apply".into(),
            Route::Apply {
                app_type,
                target: None,
            } => format!("#/apply/{}", app_type.code()),
            Route::Apply {
                app_type,
                target: Some(t),
            } => format!("#/apply/{}/{t}", app_type.code()),
            Route::Bill(s) => format!("#/applications/{s}/bill"),
            Route::Detail(s) => format!("#/applications/{s}"),
            Route::Receipt(s) => format!("#/applications/{s}/receipt"),
            Route::Generate(s) => format!("#/applications/{s}/generate"),
            Route::Register(s) => format!("#/applications/{s}/register"),
            Route::Admin => "#/admin".into(),
            Route::AdminImport => "#/admin/import".into(),
            Route::AdminAudit => "#/admin/audit".into(),
            Route::AdminPassword => "#/admin/password".into(),
            Route::NotFound => "#/404".into(),
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Route::Admin | Route::AdminImport | Route::AdminAudit | Route::AdminPassword
        )
    }

    /// The last crumb of an applicant page after 憑證通關服務 > 通關專屬憑證 >
    /// (DC02)通關專屬憑證申請, as (zh, en); `None` for the menu itself and non-DC02 pages.
    pub fn crumb(&self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Route::Applications => ("申請查詢", "Applications"),
            Route::Apply {
                app_type: ApplicationType::New,
                ..
            } => ("申請", "Apply"),
            Route::Apply { .. } => ("異動", "Change"),
            Route::Bill(_) => ("規費繳款書", "Fee bill"),
            Route::Detail(_) => ("檢視", "View"),
            Route::Receipt(_) => ("繳納證明", "Payment receipt"),
            Route::Generate(_) => ("金鑰產製及憑證下載", "Key and download"),
            Route::Register(_) => ("通關憑證註冊", "Registration"),
            _ => return None,
        })
    }
}

fn current() -> Route {
    Route::parse(&window().location().hash().unwrap_or_default())
}

/// The route signal, following `hashchange`.
pub fn provide() -> RwSignal<Route> {
    let route = RwSignal::new(current());
    // Dropping the handle keeps the listener; it lives as long as the page.
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        route.set(current());
        // A new page: start reading at its top, as after a normal navigation.
        window().scroll_to_with_x_and_y(0.0, 0.0);
    });
    provide_context(route);
    route
}

pub fn use_route() -> RwSignal<Route> {
    use_context::<RwSignal<Route>>().unwrap_or_else(|| RwSignal::new(current()))
}

pub fn navigate(to: &Route) {
    let _ = window().location().set_hash(&to.href());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_round_trips_through_its_href() {
        let routes = [
            Route::Home,
            Route::Login,
            Route::Applications,
            Route::Apply {
                app_type: ApplicationType::New,
                target: None,
            },
            Route::Apply {
                app_type: ApplicationType::Revoke,
                target: Some("SW20261124000001".into()),
            },
            Route::Apply {
                app_type: ApplicationType::Renew,
                target: None,
            },
            Route::Bill("SW20261124000001".into()),
            Route::Menu,
            Route::Detail("SW20261124000001".into()),
            Route::Receipt("SW20261124000001".into()),
            Route::Generate("SW20261124000001".into()),
            Route::Register("SW20261124000001".into()),
            Route::Admin,
            Route::AdminImport,
            Route::AdminAudit,
            Route::AdminPassword,
        ];
        for r in routes {
            assert_eq!(Route::parse(&r.href()), r, "{}", r.href());
        }
    }

    #[test]
    fn unknown_hashes_are_not_found_and_empty_is_home() {
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(Route::parse("#"), Route::Home);
        assert_eq!(Route::parse("#/apply/fly"), Route::NotFound);
        assert_eq!(Route::parse("#/applications/x/delete"), Route::NotFound);
        assert!(Route::AdminAudit.is_operator());
        assert!(!Route::Applications.is_operator());
    }
}
