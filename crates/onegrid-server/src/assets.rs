//! The pages' static assets, embedded in the binary because government networks are often
//! offline: the screen's HTML, stylesheet and script, and the vendored Apache ECharts with its
//! licences. Nothing is fetched from the internet at run time.

use axum::Router;
use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use onegrid_app::App;

/// The vendored ECharts version is part of the asset's path, so the file may be cached for a
/// year and an upgrade still reaches every browser.
const ECHARTS_PATH: &str = "/assets/vendor/echarts-6.1.0/echarts.min.js";
static ECHARTS_JS: &[u8] = include_bytes!("../assets/vendor/echarts/echarts.min.js");
static ECHARTS_LICENSE: &str = include_str!("../assets/vendor/echarts/LICENSE");
static ECHARTS_NOTICE: &str = include_str!("../assets/vendor/echarts/NOTICE");
static ZRENDER_LICENSE: &str = include_str!("../assets/vendor/echarts/LICENSE-zrender");
static D3_LICENSE: &str = include_str!("../assets/vendor/echarts/LICENSE-d3");

static SCREEN_HTML: &str = include_str!("../assets/screen/index.html");
static SCREEN_CSS: &str = include_str!("../assets/screen/screen.css");
static SCREEN_JS: &str = include_str!("../assets/screen/screen.js");

/// Content tags of our own assets (FNV-1a of the bytes, at compile time): the page asks for
/// `screen.js?v=TAG`, so a new build changes the address and long caching stays safe.
const SCREEN_CSS_TAG: u64 = fnv1a(SCREEN_CSS.as_bytes());
const SCREEN_JS_TAG: u64 = fnv1a(SCREEN_JS.as_bytes());

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const LONG_CACHE: &str = "public, max-age=31536000, immutable";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Scripts and styles only from this server; ECharts sets element styles from script.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'";

pub fn routes() -> Router<App> {
    Router::new()
        .route(ECHARTS_PATH, get(|| async { asset(JAVASCRIPT, ECHARTS_JS, LONG_CACHE) }))
        .route(
            "/assets/vendor/echarts-6.1.0/LICENSE",
            get(|| async { asset(TEXT, ECHARTS_LICENSE.as_bytes(), LONG_CACHE) }),
        )
        .route(
            "/assets/vendor/echarts-6.1.0/NOTICE",
            get(|| async { asset(TEXT, ECHARTS_NOTICE.as_bytes(), LONG_CACHE) }),
        )
        .route(
            "/assets/vendor/echarts-6.1.0/LICENSE-zrender",
            get(|| async { asset(TEXT, ZRENDER_LICENSE.as_bytes(), LONG_CACHE) }),
        )
        .route(
            "/assets/vendor/echarts-6.1.0/LICENSE-d3",
            get(|| async { asset(TEXT, D3_LICENSE.as_bytes(), LONG_CACHE) }),
        )
        .route(
            "/assets/screen.css",
            get(|query: RawQuery| async move {
                own_asset(CSS, SCREEN_CSS, SCREEN_CSS_TAG, query)
            }),
        )
        .route(
            "/assets/screen.js",
            get(|query: RawQuery| async move {
                own_asset(JAVASCRIPT, SCREEN_JS, SCREEN_JS_TAG, query)
            }),
        )
}

fn asset(content_type: &'static str, body: &'static [u8], cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Our own asset: cached for a year when asked for by its current tag, else revalidated.
fn own_asset(
    content_type: &'static str,
    body: &'static str,
    tag: u64,
    query: RawQuery,
) -> Response {
    let current = query.0.as_deref() == Some(format!("v={tag:016x}").as_str());
    asset(
        content_type,
        body.as_bytes(),
        if current { LONG_CACHE } else { "no-cache" },
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page_headers(status: StatusCode, body: String) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(HTML));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    (status, headers, body).into_response()
}

/// The screen of one region: the page with the region's code and name filled in.
pub fn screen_page(code: &str, name: &str) -> Response {
    let body = SCREEN_HTML
        .replace("{{REGION_CODE}}", &escape_html(code))
        .replace("{{REGION_NAME}}", &escape_html(name))
        .replace(
            "{{CSS}}",
            &format!("/assets/screen.css?v={SCREEN_CSS_TAG:016x}"),
        )
        .replace(
            "{{JS}}",
            &format!("/assets/screen.js?v={SCREEN_JS_TAG:016x}"),
        )
        .replace("{{ECHARTS}}", ECHARTS_PATH);
    page_headers(StatusCode::OK, body)
}

/// A small page for a screen that cannot be shown, with a way back to the city.
pub fn not_found_page(message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <title>未找到 · 一网通管指挥中心</title>\
         <link rel=\"stylesheet\" href=\"/assets/screen.css?v={SCREEN_CSS_TAG:016x}\"></head>\
         <body class=\"screen-missing\"><main><h1>一网通管指挥中心</h1><p>{}</p>\
         <p><a href=\"/screen\">返回全市大屏</a></p></main></body></html>",
        escape_html(message)
    );
    page_headers(StatusCode::NOT_FOUND, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_tags_follow_the_content() {
        assert_eq!(escape_html("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        assert_ne!(fnv1a(b"screen.js v1"), fnv1a(b"screen.js v2"));
    }
}
