//! The DC02 function menu as the manual shows it (憑證通關服務 > 通關專屬憑證: a one-row
//! 作業名稱 table with paging) and the breadcrumb that stays on every DC02 page.

use leptos::prelude::*;

use crate::i18n::{lang, pick, tr};
use crate::route::Route;

/// `憑證通關服務 > 通關專屬憑證 > (DC02)通關專屬憑證申請 > <page>`; the last crumb is the
/// current page (`aria-current`), the others link back.
#[component]
pub fn Breadcrumb(route: Route) -> impl IntoView {
    let lang = lang();
    let last = route.crumb();
    let on_menu = route == Route::Menu;
    view! {
        <nav class="breadcrumb" id="breadcrumb" aria-label=move || pick(lang.get(), "導覽路徑", "Breadcrumb")>
            <ol>
                <li><a href=Route::Menu.href()>{tr("憑證通關服務", "Certificate services")}</a></li>
                {if on_menu {
                    view! { <li aria-current="page">{tr("通關專屬憑證", "Customs dedicated certificate")}</li> }.into_any()
                } else {
                    view! { <li><a href=Route::Menu.href()>{tr("通關專屬憑證", "Customs dedicated certificate")}</a></li> }.into_any()
                }}
                {(!on_menu).then(|| match last {
                    Some(_) if route != Route::Applications => view! {
                        <li><a href=Route::Applications.href()>"(DC02)"{tr("通關專屬憑證申請", "Certificate application")}</a></li>
                    }.into_any(),
                    _ => view! {
                        <li aria-current="page">"(DC02)"{tr("通關專屬憑證申請", "Certificate application")}</li>
                    }.into_any(),
                })}
                {last.filter(|_| route != Route::Applications).map(|(zh, en)| view! {
                    <li aria-current="page">{tr(zh, en)}</li>
                })}
            </ol>
        </nav>
    }
}

/// 通關專屬憑證: the list of 作業名稱 (one row, DC02), paged as the manual's table is.
#[component]
pub fn Menu() -> impl IntoView {
    view! {
        <h1>{tr("通關專屬憑證", "Customs dedicated certificate")}</h1>
        <div class="table-wrap">
            <table class="data" id="function-menu">
                <caption>{tr("作業清單", "Functions")}</caption>
                <thead>
                    <tr>
                        <th scope="col">{tr("項次", "No.")}</th>
                        <th scope="col">{tr("作業名稱", "Function")}</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td>"1"</td>
                        <td><a href=Route::Applications.href() id="menu-dc02">"(DC02)"{tr("通關專屬憑證申請", "Certificate application")}</a></td>
                    </tr>
                </tbody>
            </table>
        </div>
        <p class="pager-status">{tr("第 1 頁 共 1 頁，1 - 1 共 1 筆", "Page 1 of 1, 1 - 1 of 1")}</p>
    }
}
