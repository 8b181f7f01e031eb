//! HTTPS: a self-signed vdc whose fingerprint a node pins; the node's sync goes through only to the
//! certificate it pinned, and cookies are `Secure`.

use std::time::Duration;

use rustls_pki_types::{CertificateDer, pem::PemObject};
use serde_json::Value;
use server::http::{client::PeerTrust, tls::TlsSource};
use sha2::Digest;

use crate::support::{
    ADMIN_PASSWORD, TestNode, eventually, node_config, pattern, pool,
    vdc::{TestDb, TestVdc, token},
};

/// A vdc serving HTTPS with a certificate it made itself; the SHA-256 of that certificate.
async fn tls_vdc(db: &TestDb, dir: &std::path::Path) -> (TestVdc, [u8; 32]) {
    let tls = TlsSource::SelfSigned { dir: dir.to_owned(), names: vec!["localhost".into(), "127.0.0.1".into()] };
    let vdc = TestVdc::spawn_tls(db, tls).await;
    let der = CertificateDer::from_pem_file(dir.join("tls-cert.pem")).unwrap();
    (vdc, sha2::Sha256::digest(der.as_ref()).into())
}

async fn sync_error(node: &TestNode) -> Option<String> {
    let (_, b) = node.get("/api/v1/sync/status").await;
    b["last_error"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_node_syncs_only_with_the_vdc_certificate_it_pinned() {
    let db = TestDb::sqlite();
    let certs = tempfile::tempdir().unwrap();
    let (vdc, pin) = tls_vdc(&db, certs.path()).await;
    assert!(vdc.url.starts_with("https://"));

    // Plain HTTP on the HTTPS port gets no answer; the certificate is the one made in the data dir.
    assert!(reqwest::get(vdc.url.replace("https://", "http://") + "/healthz").await.is_err());
    let insecure = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let resp = insecure
        .post(format!("{}/api/v1/auth/login", vdc.url))
        .json(&serde_json::json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "over HTTPS the cookie is Secure: {cookie}");

    let spawn_node = |pin: [u8; 32]| {
        let vdc_url = vdc.url.clone();
        async move {
            let root = tempfile::tempdir().unwrap();
            let mut config = node_config(&root, &[pool("local")]);
            config.cluster_token = Some(token());
            config.vdc_url = Some(vdc_url);
            config.vdc_trust = PeerTrust { ca: None, pinned_sha256: Some(pin) };
            config.sync_interval = Duration::from_secs(1);
            TestNode::spawn_with(root, config).await
        }
    };
    // The right pin: an upload reaches the vdc.
    let node = spawn_node(pin).await;
    let meta = node.upload_ok("folder=/linux", "debian-12.iso", pattern(1, 4096)).await;
    eventually(Duration::from_secs(15), "the upload reaches the vdc over HTTPS", || async {
        vdc.list("folder=/linux").await.images.iter().any(|i| i.id == meta.id)
    })
    .await;

    // Another pin: the node refuses the vdc's certificate, says so, and sends nothing.
    let mut wrong = pin;
    wrong[0] ^= 0xff;
    let other = spawn_node(wrong).await;
    let (_, b): (u16, Value) = other.get("/api/v1/sync/status").await;
    assert!(b["node_id"].is_string());
    eventually(Duration::from_secs(15), "the node reports the refused certificate", || async {
        sync_error(&other).await.is_some_and(|e| e.contains("pinned"))
    })
    .await;
    assert_eq!(vdc.list("").await.images.len(), 1, "nothing from the node that pinned another certificate");
}
