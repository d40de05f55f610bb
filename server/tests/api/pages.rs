//! Server-rendered pages: what the HTML contains before any JavaScript runs.

use reqwest::{StatusCode, header};

use crate::helpers::{PASSWORD, SendOk, SessionClient, Settings, spawn_app, spawn_app_with};

/// A client that asks for HTML, as a browser navigating does.
fn html_client() -> reqwest::Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(header::ACCEPT, "text/html".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn the_root_redirects_to_session_mode() {
    let app = spawn_app().await;
    let res = html_client().get(app.url("/")).send_ok().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/session");
}

async fn the_shortcut_paths_redirect_every_client_not_only_browsers() {
    let app = spawn_app().await;
    // A client that does not ask for HTML (curl's `Accept: */*`), and one that follows.
    let curl = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (from, to) in [
        ("/", "/session"),
        ("/lab", "/session/lab"),
        ("/compare", "/session/compare"),
    ] {
        let res = curl
            .get(app.url(from))
            .header(header::ACCEPT, "*/*")
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{from}");
        assert_eq!(res.headers()[header::LOCATION], to, "{from}");
        let page = reqwest::get(app.url(from)).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{from}");
        let html = page.text().await.unwrap();
        assert!(
            html.len() > 2_000 && html.contains("authlab"),
            "{from}: {html}"
        );
    }
}

async fn session_mode_renders_the_logged_in_profile_on_the_server() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client.http.get(app.url("/session/profile")).send_ok().await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"data-testid="profile-username">alice<"#),
        "{html}"
    );
}

async fn a_protected_session_page_redirects_anonymous_visitors_to_login() {
    let app = spawn_app().await;
    let res = html_client()
        .get(app.url("/session/devices"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/session/login?next=/session/devices"
    );
}

async fn token_mode_renders_an_anonymous_shell_even_for_a_logged_in_browser() {
    let app = spawn_app().await;
    let client: SessionClient = app.user("alice").await;
    let res = client.http.get(app.url("/token/profile")).send_ok().await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"data-testid="loading""#), "{html}");
    assert!(
        !html.contains(">alice<"),
        "the server cannot know the token user"
    );
}

async fn session_login_works_as_a_plain_html_form() {
    let app = spawn_app().await;
    app.register("alice").await;
    let browser = html_client();
    let res = browser
        .post(app.url("/api/fn/session_login"))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &app.address)
        .header(header::REFERER, app.url("/session/login"))
        .form(&[("username", "alice"), ("password", PASSWORD), ("next", "")])
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[header::LOCATION], "/session/profile");
    let profile = browser.get(app.url("/session/profile")).send_ok().await;
    assert!(profile.text().await.unwrap().contains(">alice<"));
}

async fn a_failed_html_form_login_returns_to_the_form_with_the_error() {
    let app = spawn_app().await;
    app.register("alice").await;
    let browser = html_client();
    let res = browser
        .post(app.url("/api/fn/session_login"))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &app.address)
        .header(header::REFERER, app.url("/session/login"))
        .form(&[
            ("username", "alice"),
            ("password", "wrong password"),
            ("next", ""),
        ])
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&app.url("/session/login?"))
            || location.starts_with("/session/login?"),
        "{location}"
    );
    let page = browser
        .get(if location.starts_with('/') {
            app.url(&location)
        } else {
            location
        })
        .send_ok()
        .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("Wrong username or password."), "{html}");
}

async fn server_functions_fail_with_real_statuses() {
    let app = spawn_app().await;
    // As the WASM client calls it (it does not ask for HTML).
    let res = app.anonymous().get(app.url("/api/fn/me")).send_ok().await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"], "unauthenticated");
    assert_eq!(err["status"], 401);
}

async fn an_unknown_page_is_a_404() {
    let app = spawn_app().await;
    let res = html_client().get(app.url("/session/nope")).send_ok().await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn every_documented_operation_is_routed() {
    // With a provider configured (none listens there), so that its routes answer for
    // themselves rather than 404 `provider_not_configured`.
    let app = spawn_app_with(
        Settings::default()
            .with("OIDC_ISSUER", "http://127.0.0.1:9")
            .with("OIDC_CLIENT_SECRET", server::config::generate_secret()),
    )
    .await;
    let res = app
        .anonymous()
        .get(app.url("/api/openapi.json"))
        .send_ok()
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 26);
    // A key id that exists, so the retire route answers for itself rather than 404.
    let (_, kid) = app.state.access_tokens.key_ids();
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = app.url(
                &path
                    .replace("{id}", "no-such-device")
                    .replace("{kid}", kid.as_deref().unwrap()),
            );
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app.anonymous().request(method.clone(), url).send_ok().await;
            // Unauthenticated calls may be refused, but the route must exist for that method.
            assert!(
                res.status() != StatusCode::NOT_FOUND
                    && res.status() != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but answers {}",
                res.status()
            );
        }
    }
}

async fn a_login_destination_that_is_not_a_plain_local_path_falls_back_to_the_profile() {
    let app = spawn_app().await;
    app.register("alice").await;
    for next in [
        "/session/devices\r\nSet-Cookie: x=y",
        "/séssion",
        "//evil.example/",
        "https://evil.example/",
    ] {
        let res = html_client()
            .post(app.url("/api/fn/session_login"))
            .header(header::ORIGIN, &app.address)
            .header(header::REFERER, app.url("/session/login"))
            .form(&[
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send_ok()
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "next = {next:?}");
        assert_eq!(
            res.headers()[header::LOCATION],
            "/session/profile",
            "next = {next:?}"
        );
    }
}

on_every_backend!(
    the_root_redirects_to_session_mode,
    the_shortcut_paths_redirect_every_client_not_only_browsers,
    session_mode_renders_the_logged_in_profile_on_the_server,
    a_protected_session_page_redirects_anonymous_visitors_to_login,
    token_mode_renders_an_anonymous_shell_even_for_a_logged_in_browser,
    session_login_works_as_a_plain_html_form,
    a_failed_html_form_login_returns_to_the_form_with_the_error,
    server_functions_fail_with_real_statuses,
    an_unknown_page_is_a_404,
    every_documented_operation_is_routed,
    a_login_destination_that_is_not_a_plain_local_path_falls_back_to_the_profile,
);

/// The page in `html` is in Korean: `<html lang="ko">`, the header and footer in Korean, and
/// not the English ones.
fn assert_korean(html: &str, what: &str) {
    assert!(
        html.contains(r#"lang="ko""#),
        "{what}: no lang=ko in {html}"
    );
    assert!(
        html.contains(">기기<") && html.contains("쿠키 세션과 Bearer 토큰"),
        "{what}: {html}"
    );
    assert!(
        !html.contains(">Devices<"),
        "{what}: English navigation in {html}"
    );
}

fn assert_english(html: &str, what: &str) {
    assert!(
        html.contains(r#"lang="en""#),
        "{what}: no lang=en in {html}"
    );
    assert!(
        html.contains(">Devices<") && html.contains("cookie sessions and bearer tokens"),
        "{what}: {html}"
    );
    assert!(
        !html.contains(">기기<"),
        "{what}: Korean navigation in {html}"
    );
}

/// Without a choice, the server renders the language the browser asks for, before any script.
#[tokio::test]
async fn pages_are_rendered_in_the_browsers_language() {
    let app = spawn_app().await;
    for page in ["/session", "/session/login", "/token/login", "/token/lab"] {
        let korean = html_client()
            .get(app.url(page))
            .header(header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9,en-US;q=0.8")
            .send_ok()
            .await;
        assert_eq!(korean.status(), StatusCode::OK, "{page}");
        assert!(
            korean
                .headers()
                .get(header::SET_COOKIE)
                .is_none_or(|c| !c.to_str().unwrap().starts_with("lang="))
        );
        assert_korean(&korean.text().await.unwrap(), page);

        let english = html_client()
            .get(app.url(page))
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
            .send_ok()
            .await;
        assert_english(&english.text().await.unwrap(), page);
        // A language the UI does not have falls back to English.
        let french = html_client()
            .get(app.url(page))
            .header(header::ACCEPT_LANGUAGE, "fr-FR")
            .send_ok()
            .await;
        assert_english(&french.text().await.unwrap(), page);
    }
}

/// `?lang=` wins over `Accept-Language`, is remembered in the `lang` cookie, and the cookie
/// then wins for the following pages; an unknown value changes nothing.
#[tokio::test]
async fn the_lang_parameter_picks_the_language_and_is_remembered() {
    let app = spawn_app().await;
    let browser = html_client();
    let english_browser = |path: &str| {
        browser
            .get(app.url(path))
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
    };
    let chosen = english_browser("/session/login?lang=ko").send_ok().await;
    assert_eq!(chosen.status(), StatusCode::OK);
    let cookie = chosen
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lang="))
        .expect("the choice is remembered");
    assert_eq!(cookie, "lang=ko; SameSite=Lax; Path=/; Max-Age=31536000");
    assert_korean(&chosen.text().await.unwrap(), "?lang=ko");

    // The next page, with no parameter, follows the cookie, not Accept-Language.
    let next = english_browser("/session/register").send_ok().await;
    assert_korean(&next.text().await.unwrap(), "after ?lang=ko");

    // An unknown language is ignored: no cookie, the page stays in the remembered one.
    let unknown = english_browser("/session/register?lang=xx").send_ok().await;
    assert!(
        unknown
            .headers()
            .get(header::SET_COOKIE)
            .is_none_or(|c| !c.to_str().unwrap().starts_with("lang="))
    );
    assert_korean(&unknown.text().await.unwrap(), "?lang=xx");

    // And back.
    let back = english_browser("/session/login?lang=en").send_ok().await;
    assert_english(&back.text().await.unwrap(), "?lang=en");
    let korean_browser = browser
        .get(app.url("/session"))
        .header(header::ACCEPT_LANGUAGE, "ko-KR")
        .send_ok()
        .await;
    assert_english(
        &korean_browser.text().await.unwrap(),
        "cookie en over Accept-Language ko",
    );
}

/// The build's files are sent precompressed when the build made `.br`/`.gz` siblings, chosen
/// by `Accept-Encoding`, and a browser must revalidate them when their names carry no hash (a
/// site built with `LEPTOS_HASH_FILES=false`).
#[tokio::test]
async fn build_files_are_sent_precompressed_and_revalidated() {
    let site = crate::helpers::tempdir::TempDir::new();
    let pkg = format!("{}/pkg", site.path());
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(format!("{pkg}/authlab.js"), "console.log('as built');").unwrap();
    std::fs::write(format!("{pkg}/authlab.js.br"), b"brotli bytes").unwrap();
    std::fs::write(format!("{pkg}/authlab.js.gz"), b"gzip bytes").unwrap();
    std::fs::write(format!("{pkg}/authlab.css"), "main{}").unwrap();
    let app = spawn_app_with(Settings::default().with("LEPTOS_SITE_ROOT", site.path())).await;
    let get = |encoding: Option<&'static str>| {
        let mut req = app.anonymous().get(app.url("/pkg/authlab.js"));
        if let Some(encoding) = encoding {
            req = req.header(header::ACCEPT_ENCODING, encoding);
        }
        req.send_ok()
    };
    for (accept, sent, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "console.log('as built');"),
    ] {
        let res = get(accept).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            sent,
            "Accept-Encoding: {accept:?}"
        );
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(
            res.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains("javascript"),
            "the type is the file's, not the encoding's"
        );
        assert_eq!(res.text().await.unwrap(), body);
    }
    // A file without compressed siblings is sent as it is, whatever the browser accepts.
    let css = app
        .anonymous()
        .get(app.url("/pkg/authlab.css"))
        .header(header::ACCEPT_ENCODING, "br")
        .send_ok()
        .await;
    assert!(css.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(css.text().await.unwrap(), "main{}");
    // Revalidation: unchanged since the date it gave → 304, no body.
    let first = get(Some("br")).await;
    let modified = first.headers()[header::LAST_MODIFIED].clone();
    let again = app
        .anonymous()
        .get(app.url("/pkg/authlab.js"))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_MODIFIED_SINCE, modified)
        .send_ok()
        .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

/// A content hash, as cargo-leptos writes them (22 characters of URL-safe base64).
const HASH: &str = "AbCdEfGhIjKlMnOpQrSt-_";

/// A site as cargo-leptos builds it: hashed names, the hash list beside them.
fn hashed_site() -> crate::helpers::tempdir::TempDir {
    let site = crate::helpers::tempdir::TempDir::new();
    let pkg = format!("{}/pkg", site.path());
    std::fs::create_dir_all(format!("{pkg}/snippets/app-1")).unwrap();
    for ext in ["js", "wasm", "css"] {
        std::fs::write(
            format!("{pkg}/authlab.{HASH}.{ext}"),
            format!("{ext} as built"),
        )
        .unwrap();
    }
    std::fs::write(format!("{pkg}/authlab.{HASH}.wasm.br"), b"brotli bytes").unwrap();
    std::fs::write(format!("{pkg}/snippets/app-1/inline0.js"), "export {}").unwrap();
    std::fs::write(
        format!("{}/hash.txt", site.path()),
        format!("js: {HASH}\nwasm: {HASH}\ncss: {HASH}\n"),
    )
    .unwrap();
    site
}

/// The build's files carry their content's hash in their names: pages name them so,
/// and they are sent `immutable` (a returning browser does not even ask); a hashed name that is
/// not there is a plain 404 that no cache may keep; the snippets, unhashed, are revalidated.
#[tokio::test]
async fn hashed_build_files_are_named_by_the_pages_and_cached_for_good() {
    let site = hashed_site();
    let app = spawn_app_with(Settings::default().with("LEPTOS_SITE_ROOT", site.path())).await;

    let page = html_client()
        .get(app.url("/session/login"))
        .send_ok()
        .await
        .text()
        .await
        .unwrap();
    for name in [
        format!("/pkg/authlab.{HASH}.css"),
        format!("/pkg/authlab.{HASH}.js"),
        format!("/pkg/authlab.{HASH}.wasm"),
    ] {
        assert!(page.contains(&name), "the page names {name}");
    }
    assert!(!page.contains("/pkg/authlab.css") && !page.contains("/pkg/authlab.js"));

    let get = |path: String| {
        app.anonymous()
            .get(app.url(&path))
            .header(header::ACCEPT_ENCODING, "br")
            .send_ok()
    };
    let wasm = get(format!("/pkg/authlab.{HASH}.wasm")).await;
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(
        wasm.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(wasm.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(wasm.text().await.unwrap(), "brotli bytes");

    let css = get(format!("/pkg/authlab.{HASH}.css")).await;
    assert_eq!(
        css.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(css.text().await.unwrap(), "css as built");

    let gone = get("/pkg/authlab.ZZZZZZZZZZZZZZZZZZZZZZ.wasm".into()).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(gone.headers()[header::CACHE_CONTROL], "no-cache");

    let snippet = get("/pkg/snippets/app-1/inline0.js".into()).await;
    assert_eq!(snippet.status(), StatusCode::OK);
    assert_eq!(snippet.headers()[header::CACHE_CONTROL], "no-cache");
}

/// A hash list that names a file the site does not have (a site copied from one build, the
/// list from another) stops the server at start-up, naming the file, rather than serving
/// pages whose scripts are all 404s.
#[tokio::test]
async fn a_hash_list_from_another_build_stops_the_server() {
    let site = hashed_site();
    std::fs::remove_file(format!("{}/pkg/authlab.{HASH}.wasm", site.path())).unwrap();
    let err = crate::storage::start_up_error(&[("LEPTOS_SITE_ROOT", site.path())]).await;
    assert!(
        err.contains("hash.txt") && err.contains(&format!("pkg/authlab.{HASH}.wasm")),
        "{err}"
    );
}
