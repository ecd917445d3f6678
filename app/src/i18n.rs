//! Display language: Traditional Chinese by default, English on request, remembered in
//! localStorage. Every visible string goes through [`tr`] so a switch re-renders in place.

use leptos::prelude::*;
use proto::Lang;

const STORAGE_KEY: &str = "portal.lang";

/// The language signal shared by the whole page.
#[derive(Clone, Copy)]
pub struct I18n(pub RwSignal<Lang>);

/// Reads the saved choice; anything unknown falls back to zh-TW.
pub fn saved_lang() -> Lang {
    let stored = window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    match stored.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::ZhTw,
    }
}

pub fn save_lang(lang: Lang) {
    if let Ok(Some(s)) = window().local_storage() {
        // Private modes may refuse storage; the choice then lasts for this page only.
        let _ = s.set_item(STORAGE_KEY, html_lang(lang));
    }
}

/// The BCP 47 tag for `<html lang>`.
pub fn html_lang(lang: Lang) -> &'static str {
    match lang {
        Lang::ZhTw => "zh-TW",
        Lang::En => "en",
    }
}

pub fn provide() -> RwSignal<Lang> {
    let lang = RwSignal::new(saved_lang());
    provide_context(I18n(lang));
    Effect::new(move |_| {
        let l = lang.get();
        save_lang(l);
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", html_lang(l));
        }
    });
    lang
}

/// The current language signal (zh-TW if called outside the app, e.g. in a detached task).
pub fn lang() -> RwSignal<Lang> {
    use_context::<I18n>()
        .map(|i| i.0)
        .unwrap_or_else(|| RwSignal::new(Lang::ZhTw))
}

/// A reactive text: re-evaluates when the language changes.
pub fn tr(
    zh: &'static str,
    en: &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = lang();
    move || pick(lang.get(), zh, en)
}

pub fn pick<T>(lang: Lang, zh: T, en: T) -> T {
    match lang {
        Lang::ZhTw => zh,
        Lang::En => en,
    }
}
