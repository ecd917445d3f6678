//! The `/popupForm` page: static HTML and script served by the bridge, with the allowed
//! origins injected as an inert JSON data block (the strict CSP allows no inline script).

use super::origin::AllowedOrigins;

pub const SCRIPT: &str = include_str!("../../assets/popupForm.js");
pub const STYLE: &str = include_str!("../../assets/popupForm.css");
const PAGE: &str = include_str!("../../assets/popupForm.html");
const CONFIG_PLACEHOLDER: &str = "__BRIDGE_CONFIG__";

/// Scripts only from the bridge, fetches only to the bridge, no framing, no forms, no base.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The page with `{"allowedOrigins":[…]}` in its `<script type="application/json">`.
pub fn page(allowed: &AllowedOrigins) -> String {
    let config = serde_json::json!({ "allowedOrigins": allowed.as_slice() });
    PAGE.replace(CONFIG_PLACEHOLDER, &json_for_script_block(&config))
}

/// JSON that cannot end the `<script>` element it sits in nor open a comment: `<`, `>`,
/// `&` and the JS line separators are written as `\u` escapes, which JSON.parse reads back
/// unchanged.
pub fn json_for_script_block(value: &serde_json::Value) -> String {
    let json = value.to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_cannot_break_out_of_the_data_block() {
        let v = serde_json::json!({ "x": "</script><script>alert(1)</script><!--&\u{2028}" });
        let s = json_for_script_block(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn page_has_the_origins_and_no_inline_script() {
        let allowed =
            AllowedOrigins::parse(&["https://portal.example", "http://127.0.0.1:8080"]).unwrap();
        let html = page(&allowed);
        assert!(
            html.contains(
                r#"{"allowedOrigins":["https://portal.example","http://127.0.0.1:8080"]}"#
            )
        );
        assert!(!html.contains(CONFIG_PLACEHOLDER));
        // Exactly two <script> elements: the JSON data block and the external script.
        assert_eq!(html.matches("<script").count(), 2);
        assert!(html.contains(r#"<script type="application/json" id="bridge-config">"#));
        assert!(html.contains(r#"<script src="/popupForm.js"></script>"#));
        assert!(!html.contains(" on"), "no inline event handlers");
    }
}
