//! Who may do what, on both roles: every route's declared access, sign-in and its throttling, sessions
//! with their CSRF token, API tokens, the audit log, the names a role answers to, and the first admin.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::{Value, json};
use server::auth::routes::{Access, RouteTable};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{
    ADMIN_PASSWORD, Session, TestNode, assert_error, bearer_client, create_token, pool, sign_in,
    vdc::{TOKEN, TestDb, TestVdc},
};

/// A user `name` with `role`, made by the admin; their session.
async fn user(url: &str, admin: &reqwest::Client, name: &str, role: &str) -> Session {
    let password = format!("{name}-password-long-enough");
    let resp = admin
        .post(format!("{url}/api/v1/users"))
        .json(&json!({ "username": name, "password": password, "role": role }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    sign_in(url, name, &password).await.expect("the new user signs in")
}

/// A concrete path for a route's pattern.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            s if s.starts_with("{*") => "anything".to_owned(),
            "{id}" => Uuid::new_v4().to_string(),
            s if s.starts_with('{') => "someone".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(client: &reqwest::Client, method: &Method, url: String) -> (u16, Value) {
    let resp = client.request(method.clone(), url).json(&json!({})).send().await.unwrap();
    let status = resp.status().as_u16();
    // A success may be an event stream that never ends: only refusals are read.
    if status < 400 {
        return (status, Value::Null);
    }
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Calls every route of `table`: anonymously, as a viewer, with the cluster token and (on the vdc) with
/// a node's own credential. A route whose access is not what its class promises fails here, so a route
/// added without a role fails the suite.
async fn every_route_is_guarded(url: &str, table: &RouteTable, viewer: &str, node_credential: Option<&str>) {
    let (anonymous, viewer, cluster) = (reqwest::Client::new(), bearer_client(viewer), bearer_client(TOKEN));
    let node = node_credential.map(bearer_client);
    let public = ["/healthz", "/api/v1/auth/login", "/api/{*rest}", "/api/v1/openapi.json", "/api/v1/docs"];
    let mut checked = 0;
    for route in table.routes() {
        let methods = match &route.method {
            Some(m) => vec![m.clone()],
            None => vec![Method::GET, Method::POST],
        };
        for method in methods {
            let target = format!("{url}{}", concrete(&route.path));
            let what = format!("{method} {}", route.path);
            if method == Method::GET && route.access != Access::Public {
                // axum answers HEAD with the GET handler: the same access holds.
                let (s, _) = call(&anonymous, &Method::HEAD, target.clone()).await;
                assert_eq!(s, 401, "HEAD {} runs its GET handler for anybody", route.path);
            }
            // A HEAD answer has no body: its status is all there is to check.
            let refused = |s: u16, b: &Value, status: u16, code: &str| match method {
                Method::HEAD => assert_eq!(s, status, "{what}"),
                _ => assert_error(s, b, status, code),
            };
            match route.access {
                Access::Public => {
                    assert!(public.contains(&route.path.as_str()), "{what} is public but not meant to be")
                }
                Access::Cluster => {
                    let (s, b) = call(&anonymous, &method, target.clone()).await;
                    refused(s, &b, 401, "unauthenticated");
                    let (s, b) = call(&viewer, &method, target.clone()).await;
                    refused(s, &b, 403, "forbidden");
                    if let Some(node) = &node {
                        let (s, b) = call(node, &method, target.clone()).await;
                        refused(s, &b, 403, "forbidden");
                    }
                    let (s, _) = call(&cluster, &method, target).await;
                    assert!(s != 401 && s != 403, "{what}: the cluster token is refused ({s})");
                }
                Access::Node => {
                    let (s, b) = call(&anonymous, &method, target.clone()).await;
                    refused(s, &b, 401, "unauthenticated");
                    let (s, b) = call(&viewer, &method, target.clone()).await;
                    refused(s, &b, 403, "forbidden");
                    let (s, b) = call(&cluster, &method, target.clone()).await;
                    refused(s, &b, 403, "forbidden");
                    let node = node.as_ref().expect("a role with node routes is given a node credential");
                    let (s, _) = call(node, &method, target).await;
                    assert!(s != 401 && s != 403, "{what}: the node's own credential is refused ({s})");
                }
                // The handler checks the copy ticket; no other credential stands in for it.
                Access::Ticket => {
                    for client in [&anonymous, &viewer, &cluster] {
                        let (s, b) = call(client, &method, target.clone()).await;
                        refused(s, &b, 401, "ticket_refused");
                    }
                }
                Access::Role(min) => {
                    let (s, b) = call(&anonymous, &method, target.clone()).await;
                    refused(s, &b, 401, "unauthenticated");
                    let (s, b) = call(&viewer, &method, target.clone()).await;
                    if min > app::model::UserRole::Viewer {
                        refused(s, &b, 403, "forbidden");
                    } else {
                        assert!(s != 401 && s != 403, "{what}: a viewer is refused ({s} {b})");
                    }
                    // HEAD and OPTIONS change nothing either (a resumable upload's status, what tus supports).
                    if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(&method) {
                        assert!(
                            min > app::model::UserRole::Viewer
                                || route.path.contains("auth")
                                || route.path.contains("tokens"),
                            "{what} lets a viewer change something"
                        );
                    }
                    if let Some(node) = &node {
                        let (s, b) = call(node, &method, target.clone()).await;
                        refused(s, &b, 403, "forbidden");
                    }
                    let (s, b) = call(&cluster, &method, target).await;
                    refused(s, &b, 403, "forbidden");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} routes checked");
    // A path no route matches answers 404 to anyone, and a page answers only signed-in users.
    let (s, _) = call(&anonymous, &Method::GET, format!("{url}/api/v1/nothing-here")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn every_node_route_declares_its_access() {
    let root = tempfile::tempdir().unwrap();
    let mut config = crate::support::node_config(&root, &[pool("local")]);
    config.cluster_token = Some(crate::support::vdc::token());
    let node = TestNode::spawn_with(root, config).await;
    let viewer = user(&node.url, &node.client, "vera", "viewer").await;
    let token = create_token(&node.url, &viewer, "viewer").await;
    every_route_is_guarded(&node.url, &node.routes, &token, None).await;
    for path in ["/api/v1/storage/upload", "/internal/v1/images/{id}", "/api/v1/audit"] {
        assert!(node.routes.routes().iter().any(|r| r.path == path), "{path} is in the table");
    }
}

async fn every_vdc_route_declares_its_access(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let viewer = user(&vdc.url, &vdc.client, "vera", "viewer").await;
    let token = create_token(&vdc.url, &viewer, "viewer").await;
    let credential = vdc.node_credential("hv-route-test").await;
    every_route_is_guarded(&vdc.url, &vdc.routes, &token, Some(&credential)).await;
}

/// Sign-in: the cookie's attributes, CSRF on writes with the cookie and not with a token, sign-out.
async fn sessions_and_csrf(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", vdc.url))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("quantix_vdc_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure");
    let id = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert!(id.len() >= 32, "at least 128 random bits");
    let me: Value = resp.json().await.unwrap();
    assert_eq!((me["username"].as_str(), me["role"].as_str()), (Some("admin"), Some("admin")));
    let session = Session {
        cookie: cookie.split(';').next().unwrap().to_owned(),
        csrf: me["csrf_token"].as_str().unwrap().into(),
    };

    let c = reqwest::Client::new();
    let write = |csrf: Option<&str>| {
        let req = c.post(format!("{}/api/v1/images/folders", vdc.url)).header("cookie", &session.cookie);
        let req = match csrf {
            Some(t) => req.header("x-csrf-token", t),
            None => req,
        };
        req.json(&json!({ "path": "/made-by-cookie" }))
    };
    let resp = write(None).send().await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 403, "csrf_token_missing");
    let resp = write(Some("not-the-token")).send().await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 403, "csrf_token_invalid");
    assert!(!vdc.folders().await.folders.iter().any(|f| f.as_str() == "/made-by-cookie"), "nothing changed");
    assert_eq!(write(Some(&session.csrf)).send().await.unwrap().status(), 201);

    // `me` gives a reloaded page the token again; reads need none.
    let me = crate::support::me(&vdc.url, &session).await;
    assert_eq!(me["csrf_token"].as_str(), Some(session.csrf.as_str()));

    // After sign-out the cookie is worth nothing, here and on every replica (the session row is gone).
    let resp = c
        .post(format!("{}/api/v1/auth/logout", vdc.url))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let resp = c.get(format!("{}/api/v1/images", vdc.url)).header("cookie", &session.cookie).send().await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 401, "invalid_session");
    // A forged cookie: the same answer.
    let resp = c
        .get(format!("{}/api/v1/images", vdc.url))
        .header("cookie", "quantix_vdc_session=forged")
        .send()
        .await
        .unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 401, "invalid_session");
}

/// Wrong password and unknown user: one answer, the same time; malformed bodies do not count; the
/// sixth failure is throttled with Retry-After.
async fn sign_in_is_throttled(db: &TestDb) {
    let vdc = TestVdc::spawn_with(db, |c| {
        c.access.max_failures = 5;
        c.access.lockout = Duration::from_secs(30);
    })
    .await;
    let login = |body: Value| {
        let url = format!("{}/api/v1/auth/login", vdc.url);
        async move {
            let resp = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
            let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap_or_default(), retry)
        }
    };
    // Malformed bodies, a name with control characters, an oversized body: clear 4xx, not attempts.
    let (s, b, _) = login(json!({ "username": "admin" })).await;
    assert_error(s, &b, 400, "invalid_body");
    let (s, b, _) = login(json!({ "username": "ad\u{7}min", "password": "x" })).await;
    assert_error(s, &b, 400, "invalid_username");
    let (s, b, _) = login(json!({ "username": "admin", "password": "x".repeat(20 << 10) })).await;
    assert_error(s, &b, 413, "body_too_large");

    for user in ["admin", "nobody", "admin", "admin", "admin"] {
        let (s, b, _) = login(json!({ "username": user, "password": "wrong-password-here" })).await;
        assert_error(s, &b, 401, "invalid_credentials");
    }
    // Five failures for admin: the next attempt, even with the right password, waits.
    let (s, b, retry) = login(json!({ "username": "admin", "password": ADMIN_PASSWORD })).await;
    assert_error(s, &b, 429, "too_many_attempts");
    assert!(retry.is_some_and(|r| (1..=30).contains(&r)), "Retry-After {retry:?}");
    // One more failure doubles the wait.
    let (s, _, retry2) = login(json!({ "username": "admin", "password": "wrong-again" })).await;
    assert_eq!(s, 429);
    assert!(retry2 >= retry, "{retry2:?} < {retry:?}");
    // The log has both outcomes.
    let (s, b) = vdc.get("/api/v1/audit?action=sign_in&limit=100").await;
    assert_eq!(s, 200, "{b}");
    let outcomes: Vec<&str> = b["entries"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.contains(&"success"), "{outcomes:?}");
    assert!(outcomes.iter().any(|o| o.starts_with("failure")), "{outcomes:?}");
    assert!(outcomes.iter().any(|o| o.starts_with("refused")), "{outcomes:?}");
}

/// A wrong password and an unknown user take the same time (a decoy hash), so timing does not tell which
/// user names exist. Medians of interleaved samples, so a busy machine does not decide.
async fn an_unknown_user_takes_as_long_as_a_wrong_password(db: &TestDb) {
    let vdc = TestVdc::spawn_with(db, |c| c.access.max_failures = 100).await;
    let timed = |user: &'static str| {
        let url = format!("{}/api/v1/auth/login", vdc.url);
        async move {
            let t = Instant::now();
            let body = json!({ "username": user, "password": "wrong-password-here" });
            let resp = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
            assert_eq!(resp.status(), 401);
            t.elapsed()
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        known.push(timed("admin").await);
        unknown.push(timed("nobody").await);
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[3], unknown[3]);
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "an unknown user answers as slowly as a wrong password: {known:?} vs {unknown:?}"
    );
}

/// Tokens: no more rights than their creator, refused at once when revoked, plain Bearer needs no CSRF.
async fn api_tokens(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let op = user(&vdc.url, &vdc.client, "otto", "operator").await;
    let c = reqwest::Client::new();
    let resp = c
        .post(format!("{}/api/v1/tokens", vdc.url))
        .header("cookie", &op.cookie)
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "name": "escalate", "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 403, "forbidden");
    let token = create_token(&vdc.url, &op, "operator").await;
    assert!(token.starts_with("qx_"));
    let otto = bearer_client(&token);
    let resp = otto
        .post(format!("{}/api/v1/images/folders", vdc.url))
        .json(&json!({ "path": "/by-token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "a token needs no CSRF header");
    let resp = otto.get(format!("{}/api/v1/users", vdc.url)).send().await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 403, "forbidden");

    // Listing shows no secret; otto sees his own tokens only.
    let list: Value = otto.get(format!("{}/api/v1/tokens", vdc.url)).send().await.unwrap().json().await.unwrap();
    let tokens = list["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1, "{list}");
    assert!(!list.to_string().contains(&token[3..]), "no secret in the list");
    let id = tokens[0]["id"].as_str().unwrap();
    assert_eq!(otto.delete(format!("{}/api/v1/tokens/{id}", vdc.url)).send().await.unwrap().status(), 204);
    let resp = otto.get(format!("{}/api/v1/images", vdc.url)).send().await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 401, "invalid_token");

    // Expired tokens are refused; so is a token whose expiry is already past when asked for.
    let resp = c
        .post(format!("{}/api/v1/tokens", vdc.url))
        .header("cookie", &op.cookie)
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "name": "past", "role": "viewer", "expires_at": 1 }))
        .send()
        .await
        .unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 400, "invalid_expiry");
    // A token that expires while in use is refused from then on.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let resp = c
        .post(format!("{}/api/v1/tokens", vdc.url))
        .header("cookie", &op.cookie)
        .header("x-csrf-token", &op.csrf)
        .json(&json!({ "name": "short", "role": "viewer", "expires_at": now + 2 }))
        .send()
        .await
        .unwrap();
    let short = bearer_client(resp.json::<Value>().await.unwrap()["token"].as_str().unwrap());
    assert_eq!(short.get(format!("{}/api/v1/images", vdc.url)).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let resp = short.get(format!("{}/api/v1/images", vdc.url)).send().await.unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 401, "invalid_token");
}

/// Changes are recorded with who, from where, what and how it ended; a delete made through the vdc
/// is in the node's log under the vdc user's name.
async fn the_audit_log_names_the_vdc_user_on_the_node(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let (node, meta, _) = crate::vdc_catalogue::node_with_image(&vdc).await;
    let op = user(&vdc.url, &vdc.client, "olga", "operator").await;
    let olga = bearer_client(&create_token(&vdc.url, &op, "operator").await);
    let resp = olga.delete(format!("{}/api/v1/images/{}", vdc.url, meta.id)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (s, b) = vdc.get("/api/v1/audit?user=olga&action=image_delete").await;
    assert_eq!(s, 200);
    let e = &b["entries"][0];
    assert_eq!((e["outcome"].as_str(), e["source"].as_str()), (Some("success"), Some("127.0.0.1")), "{b}");
    assert!(e["target"].as_str().unwrap().contains("debian-12.iso"), "{b}");

    let (s, b) = node.get("/api/v1/audit?action=image_delete").await;
    assert_eq!(s, 200, "{b}");
    let e = &b["entries"][0];
    assert_eq!(e["user"].as_str(), Some("olga"), "{b}");
    assert!(e["source"].as_str().unwrap().starts_with("vdc "), "{b}");
    // A refused change is recorded too.
    let resp = olga.delete(format!("{}/api/v1/images/{}", vdc.url, meta.id)).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let (_, b) = vdc.get("/api/v1/audit?user=olga&action=image_delete").await;
    assert_eq!(b["entries"][0]["outcome"].as_str(), Some("failed: 404 Not Found"), "{b}");
    // Only an admin reads the log.
    let resp = olga.get(format!("{}/api/v1/audit", vdc.url)).send().await.unwrap();
    assert_eq!(resp.status(), 403);
}

/// A page on another site can neither write (foreign Origin) nor read through a rebinding name.
async fn foreign_origins_and_hosts_are_refused(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let admin = sign_in(&vdc.url, "admin", ADMIN_PASSWORD).await.unwrap();
    let c = reqwest::Client::new();
    let resp = c
        .post(format!("{}/api/v1/images/folders", vdc.url))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf)
        .header("origin", "http://evil.example")
        .json(&json!({ "path": "/evil" }))
        .send()
        .await
        .unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 403, "forbidden_origin");
    let resp = c
        .get(format!("{}/api/v1/images", vdc.url))
        .header("cookie", &admin.cookie)
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_error(resp.status().as_u16(), &resp.json().await.unwrap(), 400, "invalid_host");
    let resp = c.get(format!("{}/images", vdc.url)).header("host", "attacker.example").send().await.unwrap();
    assert_eq!(resp.status(), 400, "pages too");
    // The role's own names work.
    let port = vdc.url.rsplit(':').next().unwrap();
    let resp = c
        .get(format!("{}/api/v1/images", vdc.url))
        .header("cookie", &admin.cookie)
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// An anonymous visitor of a page is sent to the sign-in page and back; pages are never cached.
async fn pages_send_visitors_to_sign_in(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = c.get(format!("{}/vms/new?iso=1", vdc.url)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login?next=/vms/new%3Fiso%3D1");
    let admin = sign_in(&vdc.url, "admin", ADMIN_PASSWORD).await.unwrap();
    let resp = c.get(format!("{}/vms", vdc.url)).header("cookie", &admin.cookie).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    // The page read its data in-process as the signed-in user, and says who that is.
    let html = resp.text().await.unwrap();
    assert!(html.contains("No VM yet"), "the page's data arrived: {html}");
    assert!(html.contains(r#"<meta name="quantix-user" content="admin""#), "{html}");
    // The sign-in page answers anyone.
    assert_eq!(c.get(format!("{}/login?next=/vms", vdc.url)).send().await.unwrap().status(), 200);
}

/// A session unused for longer than the idle timeout ends.
async fn idle_sessions_end(db: &TestDb) {
    // Two seconds, counted in whole seconds: a session used within them is alive, one idle for more is not.
    let vdc = TestVdc::spawn_with(db, |c| c.access.session_idle = Duration::from_secs(2)).await;
    let admin = sign_in(&vdc.url, "admin", ADMIN_PASSWORD).await.unwrap();
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/images", vdc.url))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

on_both_backends!(
    every_vdc_route_declares_its_access,
    sessions_and_csrf,
    sign_in_is_throttled,
    an_unknown_user_takes_as_long_as_a_wrong_password,
    api_tokens,
    the_audit_log_names_the_vdc_user_on_the_node,
    foreign_origins_and_hosts_are_refused,
    pages_send_visitors_to_sign_in,
    idle_sessions_end,
);

/// Two replicas on one PostgreSQL: one creates the first admin, a session and a revocation made on one
/// hold on the other at once.
#[tokio::test]
async fn replicas_share_users_sessions_and_revocations() {
    let Some(db) = TestDb::postgres().await else {
        crate::support::skip("TEST_DATABASE_URL is not set, so the PostgreSQL suite does not run");
        return;
    };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let generate = |d: &tempfile::TempDir| {
        let dir = d.path().to_owned();
        move |c: &mut server::config::VdcConfig| {
            c.access = server::config::AccessConfig { max_failures: 50, ..server::config::AccessConfig::local(&dir) };
            c.data_dir = dir;
        }
    };
    // Both start at once, each with a generated password: exactly one creates admin and writes its file.
    let (a, b) = tokio::join!(
        server::vdc::VdcServer::build(test_config(&db, generate(&dirs[0]))),
        server::vdc::VdcServer::build(test_config(&db, generate(&dirs[1])))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(u8::from(a.created_admin()) + u8::from(b.created_admin()), 1);
    let files: Vec<_> = dirs.iter().map(|d| d.path().join("initial-admin-password")).filter(|f| f.exists()).collect();
    assert_eq!(files.len(), 1, "one password file");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    let password = std::fs::read_to_string(&files[0]).unwrap().trim().to_owned();
    let (url_a, url_b) = (format!("http://{}", a.local_addr()), format!("http://{}", b.local_addr()));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tasks = [tokio::spawn(a.run(shutdown.clone())), tokio::spawn(b.run(shutdown.clone()))];

    let session = sign_in(&url_a, "admin", &password).await.expect("signs in on A");
    let c = reqwest::Client::new();
    let resp = c.get(format!("{url_b}/api/v1/auth/me")).header("cookie", &session.cookie).send().await.unwrap();
    assert_eq!(resp.status(), 200, "the session of A works on B");
    let token = create_token(&url_b, &session, "viewer").await;
    let t = bearer_client(&token);
    assert_eq!(t.get(format!("{url_a}/api/v1/images")).send().await.unwrap().status(), 200);
    let list: Value = t.get(format!("{url_a}/api/v1/tokens")).send().await.unwrap().json().await.unwrap();
    let id = list["tokens"][0]["id"].as_str().unwrap().to_owned();
    let resp = c
        .delete(format!("{url_a}/api/v1/tokens/{id}"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        t.get(format!("{url_b}/api/v1/images")).send().await.unwrap().status(),
        401,
        "revoked on A, refused on B"
    );
    // Signing out on B ends the session on A.
    let resp = c
        .post(format!("{url_b}/api/v1/auth/logout"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = c.get(format!("{url_a}/api/v1/auth/me")).header("cookie", &session.cookie).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    shutdown.cancel();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    db.drop_db().await;
}

fn test_config(db: &TestDb, adjust: impl FnOnce(&mut server::config::VdcConfig)) -> server::config::VdcConfig {
    let mut c = crate::support::vdc::config(db);
    adjust(&mut c);
    c
}

/// The command line manages users of a role that is not running; the password never is a flag.
#[tokio::test]
async fn users_are_managed_from_the_shell() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let (root, config) = node.stop().await;
    let pw = root.path().join("pw");
    std::fs::write(&pw, "shell-made-password\n").unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quantix-iso"))
            .args(["node", "user"])
            .args(args)
            .arg("--data-dir")
            .arg(&config.data_dir)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(&["add", "sam", "--role", "operator", "--password-file", pw.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["add", "sam", "--role", "viewer", "--password-file", pw.to_str().unwrap()]);
    assert!(!ok && out.contains("already exists"), "{out}");
    let (ok, out) = run(&["add", "bad\u{1b}name", "--role", "viewer", "--password-file", pw.to_str().unwrap()]);
    assert!(!ok && out.contains("not valid"), "{out}");
    let (ok, out) = run(&["list"]);
    assert!(ok && out.contains("sam") && out.contains("operator") && out.contains("admin"), "{out}");
    let (ok, out) = run(&["remove", "admin"]);
    assert!(!ok && out.contains("last admin"), "{out}");
    let (ok, out) = run(&["role", "admin", "viewer"]);
    assert!(!ok && out.contains("last admin"), "{out}");
    let (ok, out) = run(&["role", "sam", "admin"]);
    assert!(ok, "{out}");
    let (ok, out) = run(&["role", "sam", "operator"]);
    assert!(ok, "{out}");
    let node = TestNode::spawn_with(root, config).await;
    let s = sign_in(&node.url, "sam", "shell-made-password").await.expect("sam signs in");
    let me = crate::support::me(&node.url, &s).await;
    assert_eq!(me["role"], "operator");
}
