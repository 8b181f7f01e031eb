//! The OpenAPI document each role serves: valid OpenAPI 3.1 (every reference resolves, every path
//! parameter is declared, operation ids are unique), the same routes as the role's table in both
//! directions, and security that follows each route's access.

use std::collections::BTreeSet;

use serde_json::Value;
use server::auth::routes::{Access, RouteTable};

use crate::on_both_backends;
use crate::support::{TestNode, pool, vdc::TestDb, vdc::TestVdc};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn document(url: &str) -> Value {
    // Public: no credentials.
    let resp = reqwest::get(format!("{url}/api/v1/openapi.json")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    resp.json().await.unwrap()
}

/// Every `$ref` in `v`, with where it is.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    out.push((at.clone(), child.as_str().expect("a $ref is a string")));
                } else {
                    refs(child, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// What OpenAPI 3.1 requires of a document, as far as a role's could break it.
fn assert_valid_openapi_3_1(doc: &Value) {
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(doc["info"]["version"].as_str().is_some_and(|v| !v.is_empty()));
    let mut found = Vec::new();
    refs(doc, String::new(), &mut found);
    assert!(!found.is_empty());
    for (at, target) in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{at}: {target} is not local"));
        assert!(doc.pointer(pointer).is_some(), "{at}: {target} resolves to nothing");
    }
    let schemes: BTreeSet<&str> =
        doc["components"]["securitySchemes"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let declared: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let what = format!("{method} {path}");
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{what} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{what} has no responses"));
            assert!(responses.keys().any(|s| s.starts_with('2')), "{what} documents no success");
            for (status, r) in responses {
                assert!(status == "default" || status.parse::<u16>().is_ok_and(|s| (100..600).contains(&s)));
                let r = match r["$ref"].as_str() {
                    Some(target) => doc.pointer(target.trim_start_matches('#')).unwrap(),
                    None => r,
                };
                assert!(r["description"].is_string(), "{what} {status} lacks a description");
                assert!(r["headers"]["x-request-id"].is_object(), "{what} {status} does not name its x-request-id");
            }
            let in_path: BTreeSet<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .inspect(|p| assert_eq!(p["required"], true, "{what}: path parameters are required"))
                        .map(|p| p["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(in_path, declared, "{what}: the path's parameters and the declared ones differ");
            for requirement in op["security"].as_array().into_iter().flatten() {
                for name in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains(name.as_str()), "{what} names the unknown scheme {name}");
                }
            }
        }
    }
}

/// (method, path) of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The table and the document list the same routes, and each operation's security is what its access
/// lets in. Fallbacks (a route for every method) only answer errors and are not operations.
fn assert_document_matches_table(doc: &Value, table: &RouteTable) {
    let routes: BTreeSet<(String, String)> =
        table.routes().iter().filter_map(|r| r.method.as_ref().map(|m| (m.to_string(), r.path.clone()))).collect();
    assert_eq!(routes, operations(doc), "the document and the route table differ");
    assert!(table.routes().iter().filter(|r| r.method.is_none()).all(|r| r.path == "/api/{*rest}"));
    for route in table.routes() {
        let Some(method) = &route.method else { continue };
        let op = &doc["paths"][&route.path][method.as_str().to_lowercase()];
        let security: Vec<BTreeSet<String>> = op["security"]
            .as_array()
            .map(|reqs| reqs.iter().map(|r| r.as_object().unwrap().keys().cloned().collect()).collect())
            .unwrap_or_default();
        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let write = !server::auth::routes::is_safe(method);
        let expected: Vec<BTreeSet<String>> = match route.access {
            Access::Public => vec![],
            Access::Cluster => vec![set(&["cluster_token"])],
            Access::Node => vec![set(&["node_credential"])],
            Access::Ticket => vec![set(&["copy_ticket"])],
            Access::Role(_) if write => vec![set(&["api_token"]), set(&["session", "csrf"])],
            Access::Role(_) => vec![set(&["api_token"]), set(&["session"])],
        };
        assert_eq!(security, expected, "{method} {}: security does not follow its access", route.path);
        if route.access != Access::Public {
            for status in ["401", "403"] {
                assert!(op["responses"].get(status).is_some(), "{method} {} does not document {status}", route.path);
            }
        }
    }
}

/// The hand-written serde of some wire types, as the document describes it (the node has no sync
/// events: only the vdc's document holds `ImageEventType`).
fn assert_custom_serde_schemas(doc: &Value) {
    let schemas = &doc["components"]["schemas"];
    if doc["info"]["title"] == "Quantix ISO vdc API" {
        assert_eq!(schemas["ImageEventType"]["type"], "integer");
        assert_eq!(schemas["ImageEventType"]["enum"], serde_json::json!([1, 2, 3]));
    }
    assert_eq!(schemas["UserRole"]["enum"], serde_json::json!(["viewer", "operator", "admin"]));
    let matches = |name: &str, value: &str| {
        let pattern = schemas[name]["pattern"].as_str().unwrap_or_else(|| panic!("{name} has a pattern"));
        regex::Regex::new(pattern).unwrap().is_match(value)
    };
    for (name, good, bad) in [
        (
            "FolderPath",
            &["/", "/linux/ubuntu", "/a/b/c/d/e"][..],
            &["linux", "/a//b", "/a/", "/a/b/c/d/e/f", "/a:b"][..],
        ),
        ("NodeId", &["hv-07", "node.example_1"], &["", "a b", "a/b"]),
        ("PoolId", &["local"], &["naïve"]),
    ] {
        assert_eq!(schemas[name]["type"], "string", "{name}");
        for g in good {
            assert!(matches(name, g), "{name}'s pattern refuses {g:?}");
        }
        for b in bad {
            assert!(!matches(name, b), "{name}'s pattern takes {b:?}");
        }
    }
    let error = &schemas["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error", "message"]), "request_id is optional");
}

#[tokio::test]
async fn the_node_serves_a_valid_openapi_3_1_document_of_every_route() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let doc = document(&node.url).await;
    assert_valid_openapi_3_1(&doc);
    assert_document_matches_table(&doc, &node.routes);
    assert_custom_serde_schemas(&doc);
    assert_eq!(doc["info"]["title"], "Quantix ISO node API");
    assert_eq!(doc["components"]["securitySchemes"]["session"]["name"], "quantix_node_session");
    let upload = &doc["paths"]["/api/v1/storage/upload"]["post"]["requestBody"]["content"];
    assert!(upload.get("multipart/form-data").is_some(), "{upload}");
    // The document is the table's: what the server holds is what it serves.
    assert_eq!(serde_json::to_value(node.routes.openapi()).unwrap(), doc);
}

async fn the_vdc_serves_a_valid_openapi_3_1_document_of_every_route(db: &TestDb) {
    let vdc = TestVdc::spawn(db).await;
    let doc = document(&vdc.url).await;
    assert_valid_openapi_3_1(&doc);
    assert_document_matches_table(&doc, &vdc.routes);
    assert_custom_serde_schemas(&doc);
    assert_eq!(doc["components"]["securitySchemes"]["session"]["name"], "quantix_vdc_session");
    // The sync service is described with its bodies.
    let notify = &doc["paths"][app::model::sync_paths::NOTIFY_IMAGE_CHANGES]["post"];
    assert!(notify["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string(), "{notify}");
}

on_both_backends!(the_vdc_serves_a_valid_openapi_3_1_document_of_every_route);

#[tokio::test]
async fn the_reference_page_renders_the_document_without_anything_from_elsewhere() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let resp = reqwest::get(format!("{}/api/v1/docs", node.url)).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    let page = resp.text().await.unwrap();
    assert!(page.contains("fetch(\"openapi.json\")"));
    assert!(!page.contains("http://") && !page.contains("https://"), "the page loads nothing from elsewhere");
}
