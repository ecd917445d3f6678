//! Who is logged in, shared by every page.

use leptos::prelude::*;
use proto::Role;
use proto::api::SessionView;

use crate::route::{Route, navigate};

#[derive(Clone, Copy)]
pub struct Session {
    pub view: RwSignal<Option<SessionView>>,
    /// False until the first `GET /api/session` answered.
    pub loaded: RwSignal<bool>,
}

impl Session {
    pub fn role(&self) -> Option<Role> {
        self.view.with(|s| s.as_ref().map(|s| s.role))
    }

    pub fn tax_id(&self) -> String {
        self.view
            .with(|s| s.as_ref().and_then(|s| s.tax_id.clone()))
            .unwrap_or_default()
    }
}

pub fn provide() -> Session {
    let s = Session {
        view: RwSignal::new(None),
        loaded: RwSignal::new(false),
    };
    provide_context(s);
    s
}

pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(|| Session {
        view: RwSignal::new(None),
        loaded: RwSignal::new(true),
    })
}

/// A one-line message for the page a flow lands on ("申請已送出", ...): shown while that
/// route is displayed, dropped at the next navigation.
#[derive(Clone, Copy)]
pub struct Flash(pub RwSignal<Option<(Route, String, String)>>);

pub fn provide_flash() -> Flash {
    let f = Flash(RwSignal::new(None));
    provide_context(f);
    f
}

impl Flash {
    /// Sets the message for `to` and navigates there.
    pub fn go(&self, to: Route, zh: impl Into<String>, en: impl Into<String>) {
        self.0.set(Some((to.clone(), zh.into(), en.into())));
        navigate(&to);
    }
}

/// Call in the component body: async tasks after an await have no context to look it up.
pub fn use_flash() -> Flash {
    use_context::<Flash>().unwrap_or_else(|| Flash(RwSignal::new(None)))
}
