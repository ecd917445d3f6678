//! One module per page; [`view`] picks the page for a route.
//!
//! Every page but the login is a split point: `cargo xtask web` cuts the pages (with the code
//! only they use) out of the app's wasm into chunks that load the first time one of their
//! pages opens, so a first visit downloads the frame and the login page only (issue 17: the
//! app's wasm was 407 KiB gzip in one piece). Three chunks, not one per page: the applicant's
//! lists and documents (where a login lands), the applicant's forms and key generation, and
//! the operator's pages. One chunk per page made 12 page chunks and 113 shared ones, dozens of
//! requests for one page on a slow line; with three, code two of them share goes into a few
//! shared chunks the splitter makes. The split points are `fallible`: a chunk that cannot be
//! fetched (a dropped mobile line) shows an error with a retry button instead of aborting the
//! app. Without `--cfg portal_split` (see `page_fn!`) the page functions are plain calls.
//!
//! A page is built synchronously in the route's scope, as before the split: the chunk is
//! fetched first (asynchronously, building nothing), and the page is built once its split
//! function answers without waiting. Building it inside the fetch's future instead (a
//! `Suspend` under `Suspense`) put its effects in a scope that could be disposed before the
//! signals they read, and a page left while loading panicked.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::mem::Discriminant;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::SplitLoaderError;
#[cfg(portal_split)]
use leptos::wasm_split::wasm_split;

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

thread_local! {
    // The kinds of route whose chunk has arrived: their split function answers at once.
    static LOADED: RefCell<HashSet<Discriminant<Route>>> = RefCell::new(HashSet::new());
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Loading,
    Ready,
    Failed,
}

/// The page of `r`, once its chunk has arrived.
pub fn view(r: Route) -> AnyView {
    let kind = std::mem::discriminant(&r);
    if LOADED.with(|l| l.borrow().contains(&kind))
        && let Some(Ok(build)) = at_once(page(r.clone()))
    {
        return build();
    }
    let state = RwSignal::new(Chunk::Loading);
    let fetch = {
        let r = r.clone();
        move || {
            state.set(Chunk::Loading);
            let r = r.clone();
            spawn_local(async move {
                let got = if page(r).await.is_ok() {
                    LOADED.with(|l| l.borrow_mut().insert(kind));
                    Chunk::Ready
                } else {
                    Chunk::Failed
                };
                // Nothing to update when the user has left the page meanwhile.
                let _ = state.try_set(got);
            });
        }
    };
    fetch();
    let retry = Callback::new(move |()| fetch());
    (move || match state.get() {
        Chunk::Loading => {
            view! { <p class="loading" role="status">{tr("載入中…", "Loading…")}</p> }.into_any()
        }
        Chunk::Failed => view! { <LoadFailed retry=retry /> }.into_any(),
        Chunk::Ready => match at_once(page(r.clone())) {
            Some(Ok(build)) => build(),
            _ => view! { <LoadFailed retry=retry /> }.into_any(),
        },
    })
    .into_any()
}

/// The output of `f` if it is ready without waiting: a split function whose chunk is loaded
/// calls straight through.
fn at_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// The page's chunk could not be fetched: say so, and fetch it again on request (a failed
/// load is not remembered).
#[component]
fn LoadFailed(retry: Callback<()>) -> impl IntoView {
    view! {
        <section class="error" role="alert" id="page-load-failed">
            <p>{tr(
                "無法載入此頁面，可能是網路連線中斷。請確認連線後重試。",
                "This page could not be loaded; the connection may have dropped. Check it and try again.",
            )}</p>
            <button type="button" class="primary" on:click=move |_| retry.run(())>
                {tr("重試", "Try again")}
            </button>
        </section>
    }
}

/// Builds a page: code in the page's chunk, called once the chunk is there.
type Build = Box<dyn FnOnce() -> AnyView>;

async fn page(r: Route) -> Result<Build, SplitLoaderError> {
    match r {
        Route::Menu => menu_page().await,
        Route::Applications => query_page().await,
        Route::Detail(s) => detail_page(s).await,
        Route::Receipt(s) => receipt_page(s).await,
        Route::Apply { app_type, target } => apply_page(app_type, target).await,
        Route::Bill(s) => bill_page(s).await,
        Route::Generate(s) => generate_page(s).await,
        Route::Register(s) => register_page(s).await,
        Route::Admin => admin_page().await,
        Route::AdminImport => admin_import_page().await,
        Route::AdminAudit => admin_audit_page().await,
        Route::AdminPassword => password_page().await,
        Route::Home | Route::Login | Route::NotFound => Ok(Box::new(|| {
            view! {
                <section>
                    <h1>{tr("找不到頁面", "Page not found")}</h1>
                    <p><a href="#/">{tr("回首頁", "Home")}</a></p>
                </section>
            }
            .into_any()
        })),
    }
}

// The page functions, by chunk: each returns its page's builder, code in the chunk. They
// cross the chunk boundary with the C ABI between two halves of one Rust build, so Rust
// types by value are fine there. `cargo xtask web` builds with `--cfg portal_split`; without
// it (`trunk serve`'s debug build, which has no splitter, and native tests) they are plain
// async functions and the app is one wasm.
macro_rules! page_fn {
    ($chunk:ident, $name:ident($($arg:ident: $ty:ty),*) => $page:expr) => {
        #[cfg(portal_split)]
        #[wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $name($($arg: $ty),*) -> Result<Build, SplitLoaderError> {
            Ok(Box::new(move || $page.into_any()))
        }

        #[cfg(not(portal_split))]
        async fn $name($($arg: $ty),*) -> Result<Build, SplitLoaderError> {
            Ok(Box::new(move || $page.into_any()))
        }
    };
}

page_fn!(pages_applicant, menu_page() => view! { <menu::Menu /> });
page_fn!(pages_applicant, query_page() => view! { <query::Query /> });
page_fn!(pages_applicant, detail_page(serial: String) => view! { <detail::Detail serial=serial /> });
page_fn!(pages_applicant, receipt_page(serial: String) => view! { <receipt::Receipt serial=serial /> });
page_fn!(pages_forms, apply_page(app_type: proto::ApplicationType, target: Option<String>) => view! { <apply::Apply app_type=app_type target=target /> });
page_fn!(pages_applicant, bill_page(serial: String) => view! { <bill::Bill serial=serial /> });
page_fn!(pages_forms, generate_page(serial: String) => view! { <generate::Generate serial=serial /> });
page_fn!(pages_forms, register_page(serial: String) => view! { <register::Register serial=serial /> });
page_fn!(pages_operator, admin_page() => view! { <admin::Admin /> });
page_fn!(pages_operator, admin_import_page() => view! { <admin_import::AdminImport /> });
page_fn!(pages_operator, admin_audit_page() => view! { <admin_audit::AdminAudit /> });
page_fn!(pages_operator, password_page() => view! { <password::Password /> });
