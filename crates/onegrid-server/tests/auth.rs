//! Signing in: the lockout after repeated failures, the session's idle and absolute timeouts,
//! the TOTP second factor, CSRF on cookie-authenticated writes, the cookie's attributes, and
//! the rate limits on sign-in and on public reports.

mod common;

use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use common::{TestServer, call, server};
use onegrid_app::access::{Principal, parse_assignment_list};
use serde_json::{Value, json};

const PASSWORD: &str = "Jinzhong#2026";

async fn account(server: &TestServer, login: &str, role: &str) -> String {
    let assignments = parse_assignment_list(&[role.to_owned()], "").unwrap();
    server
        .app
        .create_account(
            &Principal::system(),
            login,
            login,
            Some(PASSWORD),
            assignments,
        )
        .await
        .unwrap()
        .id
}

async fn login(server: &TestServer, body: Value) -> (StatusCode, Value, HeaderMap) {
    call(
        server,
        "POST",
        "/api/v1/session",
        Some(body),
        &[("authorization", "anonymous")],
    )
    .await
}

/// The session token from a `Set-Cookie` answer, as `onegrid_session=…`.
fn cookie_of(headers: &HeaderMap) -> String {
    let set = headers["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn events(server: &TestServer) -> Vec<String> {
    let records = server
        .app
        .store()
        .security_events(
            Utc::now() - Duration::hours(1),
            Utc::now() + Duration::hours(1),
            None,
            1000,
        )
        .await
        .unwrap();
    records.into_iter().map(|r| r.act).collect()
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let server = server().await;
    let id = account(&server, "wang", "centre_intake@140702").await;
    for attempt in 1..=5 {
        let (status, body, _) = login(&server, json!({"login": "wang", "password": "wrong"})).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {body}"
        );
        assert_eq!(body["error"]["message"], "登录名或密码错误");
    }
    // Locked now: even the right password is refused, with how long to wait.
    let (status, body, headers) =
        login(&server, json!({"login": "wang", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    let wait: i64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    let stored = server.app.store().account(&id).await.unwrap().unwrap();
    let until = stored.locked_until.unwrap();
    assert!(
        until > Utc::now() + Duration::minutes(14) && until <= Utc::now() + Duration::minutes(15)
    );
    let acts = events(&server).await;
    assert_eq!(acts.iter().filter(|a| *a == "login_failed").count(), 4);
    assert!(acts.contains(&"account_locked".to_owned()));
    assert!(acts.contains(&"login_refused_locked".to_owned()));
    // An unknown login answers exactly like a wrong password.
    let (status, body, _) = login(&server, json!({"login": "nobody", "password": "x"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "登录名或密码错误");
    // Fifteen minutes later (the lock moved into the past) the right password works again and
    // the count starts afresh.
    server
        .app
        .store()
        .change_account(
            &id,
            onegrid_store::AccountChange::LoginState {
                failed_logins: 0,
                locked_until: Some(Utc::now() - Duration::seconds(1)),
            },
            None,
        )
        .await
        .unwrap();
    let (status, body, _) = login(&server, json!({"login": "wang", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stored = server.app.store().account(&id).await.unwrap().unwrap();
    assert_eq!((stored.failed_logins, stored.locked_until), (0, None));
}

#[tokio::test]
async fn sessions_end_after_fifteen_idle_minutes_or_twelve_hours() {
    let server = server().await;
    account(&server, "li-si", "centre_lead@140702").await;
    let (status, me, headers) =
        login(&server, json!({"login": "li-si", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let set = headers["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain HTTP: no Secure cookie ({set})"
    );
    let cookie = cookie_of(&headers);
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let (status, body, _) = call(&server, "GET", "/api/v1/me", None, &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["assignments"][0]["role"], "centre_lead");

    // Writes with the cookie need the CSRF token.
    let report =
        json!({"description": "井盖缺失", "grid": "140702001001001", "channel": "hotline"});
    let (status, body, _) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(report.clone()),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "csrf");
    let (status, body, _) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(report),
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Idle for sixteen minutes: the session is over, and stays over.
    let token = cookie.trim_start_matches("onegrid_session=");
    let hash = onegrid_app::secrets::token_hash(token);
    let store = server.app.store();
    let mut session = store.session(&hash).await.unwrap().unwrap();
    session.last_seen_at = Utc::now() - Duration::minutes(16);
    store.put_session(session, None).await.unwrap();
    let (status, body, _) = call(&server, "GET", "/api/v1/me", None, &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["message"], "会话已超时，请重新登录");
    let (status, _, _) = call(&server, "GET", "/api/v1/me", None, &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        events(&server)
            .await
            .contains(&"session_idle_timeout".to_owned())
    );

    // A session in use every ten minutes still ends twelve hours after sign-in. (The clock is
    // moved by asking the use case the HTTP layer calls, at later times.)
    let (_, _, headers) = login(&server, json!({"login": "li-si", "password": PASSWORD})).await;
    let cookie = cookie_of(&headers);
    let token = cookie.trim_start_matches("onegrid_session=").to_owned();
    let start = Utc::now();
    for step in 1..=71 {
        let at = start + Duration::minutes(10 * step);
        let answer = server.app.session_principal_at(&token, at).await;
        assert!(
            answer.is_ok(),
            "still alive after {} minutes: {answer:?}",
            10 * step
        );
    }
    let late = server
        .app
        .session_principal_at(&token, start + Duration::hours(12) + Duration::minutes(5))
        .await;
    assert!(
        matches!(late, Err(onegrid_app::AppError::Unauthenticated(_))),
        "{late:?}"
    );
    assert!(
        events(&server)
            .await
            .contains(&"session_expired".to_owned())
    );
    let (status, _, _) = call(&server, "GET", "/api/v1/me", None, &[("cookie", &cookie)]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an expired session stays ended"
    );

    // Signing out ends a session at once; behind TLS the cookie is Secure.
    let (status, me, headers) = call(
        &server,
        "POST",
        "/api/v1/session",
        Some(json!({"login": "li-si", "password": PASSWORD})),
        &[
            ("authorization", "anonymous"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["set-cookie"].to_str().unwrap().contains("; Secure"));
    let cookie = cookie_of(&headers);
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let (status, _, _) = call(
        &server,
        "DELETE",
        "/api/v1/session",
        None,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = call(&server, "GET", "/api/v1/me", None, &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn administrators_sign_in_with_a_totp_code() {
    let server = server().await;
    let id = account(&server, "sec", "security_admin@140700").await;
    // No second factor yet: an administrator cannot sign in at all.
    let (status, body, _) = login(&server, json!({"login": "sec", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("双因素"),
        "{body}"
    );
    let secret = server
        .app
        .enroll_totp(&Principal::system(), &id)
        .await
        .unwrap();
    let stored = server.app.store().account(&id).await.unwrap().unwrap();
    assert!(
        stored
            .totp_secret
            .as_deref()
            .unwrap()
            .starts_with("sealed:v1:"),
        "sealed at rest"
    );
    let now = Utc::now().timestamp();
    let code = onegrid_app::secrets::totp_code(&secret, now).unwrap();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    for body in [
        json!({"login": "sec", "password": PASSWORD}),
        json!({"login": "sec", "password": PASSWORD, "totp": wrong}),
        json!({"login": "sec", "password": "wrong", "totp": code}),
    ] {
        let (status, answer, _) = login(&server, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body} → {answer}");
    }
    let (status, body, _) = login(
        &server,
        json!({"login": "sec", "password": PASSWORD, "totp": code}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A code of an hour ago is no good.
    let old = onegrid_app::secrets::totp_code(&secret, now - 3600).unwrap();
    if old != code {
        let (status, _, _) = login(
            &server,
            json!({"login": "sec", "password": PASSWORD, "totp": old}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn sign_in_and_public_reports_are_rate_limited() {
    let server = server().await;
    for _ in 0..10 {
        let (status, _, _) = login(&server, json!({"login": "x", "password": "y"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body, headers) = login(&server, json!({"login": "x", "password": "y"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    let public = json!({"description": "路灯不亮", "grid": "140702001001001",
                        "channel": "resident", "reporter": {"phone": "13812345678"}});
    for n in 0..20 {
        // Each from its own phone number: this is the address's limit.
        let mut report = public.clone();
        report["reporter"]["phone"] = json!(format!("138123456{n:02}"));
        let (status, body, _) = call(
            &server,
            "POST",
            "/api/v1/cases",
            Some(report),
            &[("authorization", "anonymous")],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "report {n}: {body}");
        assert!(body["tracking_code"].is_string());
    }
    let (status, _, headers) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(public.clone()),
        &[("authorization", "anonymous")],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    // One phone number from many addresses is limited too.
    let mut statuses = Vec::new();
    for n in 0..21u8 {
        use tower::ServiceExt;
        let request = axum::http::Request::post("/api/v1/cases")
            .header("content-type", "application/json")
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [10, 0, 0, n + 1],
                40000,
            ))))
            .body(axum::body::Body::from(public.to_string()))
            .unwrap();
        let response = onegrid_server::router(server.app.clone())
            .oneshot(request)
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert!(
        statuses[..20].iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(statuses[20], StatusCode::TOO_MANY_REQUESTS);
    // Anonymous reports must be a resident's, with a phone number to call back.
    let mut no_phone = public.clone();
    no_phone["reporter"] = json!({});
    let (status, _, _) = call(
        &server,
        "POST",
        "/api/v1/cases",
        Some(json!({"description": "x", "grid": "140702001001001", "channel": "hotline"})),
        &[("authorization", "anonymous")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_tokens_stop_working_and_their_use_is_recorded() {
    let server = server().await;
    let (status, body, _) = call(&server, "GET", "/api/v1/me", None, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let account = server
        .app
        .store()
        .account_by_login("li")
        .await
        .unwrap()
        .unwrap();
    let tokens = server.app.store().tokens_of(&account.id).await.unwrap();
    assert!(tokens[0].last_used_at.is_some(), "last use recorded");
    server
        .app
        .revoke_token(&Principal::system(), &tokens[0].id)
        .await
        .unwrap();
    let (status, body, _) = call(&server, "GET", "/api/v1/me", None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["message"], "令牌已吊销");
    let (status, _, _) = call(
        &server,
        "GET",
        "/api/v1/me",
        None,
        &[("authorization", "Bearer og_not-a-token")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A token's principal is kept for at most five seconds: a revocation made by another process
/// (here another application over the same store) takes effect within that; one made by this
/// process at once.
#[tokio::test]
async fn a_revocation_elsewhere_takes_effect_within_five_seconds() {
    let server = server().await;
    let other = onegrid_app::App::load(server.app.store().clone())
        .await
        .unwrap();
    let (status, _, _) = call(&server, "GET", "/api/v1/me", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let account = server
        .app
        .store()
        .account_by_login("li")
        .await
        .unwrap()
        .unwrap();
    let token = server.app.store().tokens_of(&account.id).await.unwrap()[0]
        .id
        .clone();
    other
        .revoke_token(&Principal::system(), &token)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let (status, _, _) = call(&server, "GET", "/api/v1/me", None, &[]).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(6),
            "the revoked token still worked after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
