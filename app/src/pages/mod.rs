//! One module per page; [`view`] picks the page for a route.

use leptos::prelude::*;

use crate::i18n::tr;
use crate::route::Route;

pub mod admin;
pub mod admin_audit;
pub mod admin_import;
pub mod apply;
pub mod bill;
pub mod detail;
pub mod generate;
pub mod login;
pub mod menu;
pub mod password;
pub mod query;
pub mod receipt;
pub mod register;

pub fn view(r: Route) -> AnyView {
    match r {
        Route::Menu => view! { <menu::Menu /> }.into_any(),
        Route::Applications => view! { <query::Query /> }.into_any(),
        Route::Detail(s) => view! { <detail::Detail serial=s /> }.into_any(),
        Route::Receipt(s) => view! { <receipt::Receipt serial=s /> }.into_any(),
        Route::Apply { app_type, target } => {
            view! { <apply::Apply app_type=app_type target=target /> }.into_any()
        }
        Route::Bill(s) => view! { <bill::Bill serial=s /> }.into_any(),
        Route::Generate(s) => view! { <generate::Generate serial=s /> }.into_any(),
        Route::Register(s) => view! { <register::Register serial=s /> }.into_any(),
        Route::Admin => view! { <admin::Admin /> }.into_any(),
        Route::AdminImport => view! { <admin_import::AdminImport /> }.into_any(),
        Route::AdminAudit => view! { <admin_audit::AdminAudit /> }.into_any(),
        Route::AdminPassword => view! { <password::Password /> }.into_any(),
        Route::Home | Route::Login | Route::NotFound => view! {
            <section>
                <h1>{tr("找不到頁面", "Page not found")}</h1>
                <p><a href="#/">{tr("回首頁", "Home")}</a></p>
            </section>
        }
        .into_any(),
    }
}
