//! From a file landing in a pool to its appearance in the vdc.
//!
//! Runs the all-in-one system (a real vdc and node, real HTTP between them), copies files into the pool
//! with `cp` (as an admin would) and polls the vdc's API every 5 ms. For each file it prints when the vdc
//! listed it (checksum still pending) and when its checksum arrived, against the time `openssl dgst
//! -sha256` needs to hash the same file, measured in the same run. Target: checksum in the vdc within
//! 2 s plus the hashing time (ratio ≤ 1.00).

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::model::ImageList;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn generate(path: &Path, size: u64) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl enc -aes-128-ctr -pass pass:sync -nosalt -pbkdf2 -in /dev/zero 2>/dev/null | head -c {size} > '{}'",
            path.display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
}

/// A client with an API token of the all-in-one's first admin.
async fn signed_in(vdc: &str, password_file: &std::path::Path) -> reqwest::Client {
    let password = std::fs::read_to_string(password_file).unwrap().trim().to_owned();
    let anonymous = reqwest::Client::new();
    let resp = anonymous
        .post(format!("{vdc}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let me: serde_json::Value = resp.json().await.unwrap();
    let created: serde_json::Value = anonymous
        .post(format!("{vdc}/api/v1/tokens"))
        .header("cookie", cookie)
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .json(&serde_json::json!({ "name": "bench", "role": "viewer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {}", created["token"].as_str().unwrap());
    headers.insert(reqwest::header::AUTHORIZATION, bearer.parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (vdc_port, node_port) = (free_port(), free_port());
        let _system = Running(
            Command::new(env!("CARGO_BIN_EXE_quantix-iso"))
                .args(["all-in-one", "--vdc-listen", &format!("127.0.0.1:{vdc_port}")])
                .args(["--node-listen", &format!("127.0.0.1:{node_port}"), "--site-root", "/nonexistent"])
                .arg("--data-dir")
                .arg(dir.path().join("data"))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let vdc = format!("http://127.0.0.1:{vdc_port}");
        let anonymous = reqwest::Client::new();
        for _ in 0..200 {
            if anonymous.get(format!("{vdc}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let client = signed_in(&vdc, &dir.path().join("data/initial-admin-password")).await;
        let pool = dir.path().join("data/pools/local/iso");
        let sizes: Vec<u64> = std::env::var("SIZES_MIB")
            .ok()
            .map(|s| s.split_whitespace().map(|n| n.parse::<u64>().unwrap() << 20).collect())
            .unwrap_or_else(|| vec![16 << 20, 16 << 20, 256 << 20, 256 << 20, 1024 << 20]);
        println!("\nsync: file copied into a pool (cp) → visible in the vdc's catalogue");
        println!(
            "{:>9} {:>13} {:>15} {:>17} {:>11}",
            "size", "openssl hash", "listed in vdc", "checksum in vdc", "ratio"
        );
        let mut worst: f64 = 0.0;
        for (k, size) in sizes.iter().enumerate() {
            let src = dir.path().join(format!("src-{k}.bin"));
            generate(&src, *size);
            let t = Instant::now();
            assert!(
                Command::new("openssl")
                    .args(["dgst", "-sha256"])
                    .arg(&src)
                    .stdout(Stdio::null())
                    .status()
                    .unwrap()
                    .success()
            );
            let hash = t.elapsed().as_secs_f64();
            let name = format!("landing-{k}-debian-12.iso");
            assert!(Command::new("cp").arg(&src).arg(pool.join(&name)).status().unwrap().success());
            let landed = Instant::now();
            let (mut listed, mut hashed) = (None, None);
            while hashed.is_none() {
                assert!(landed.elapsed() < Duration::from_secs(120), "{name} never reached the vdc");
                let list: ImageList =
                    client.get(format!("{vdc}/api/v1/images?q={name}")).send().await.unwrap().json().await.unwrap();
                if let Some(img) = list.images.first() {
                    listed.get_or_insert(landed.elapsed().as_secs_f64());
                    if img.checksum.is_some() {
                        hashed = Some(landed.elapsed().as_secs_f64());
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let (listed, hashed) = (listed.unwrap(), hashed.unwrap());
            let ratio = hashed / (2.0 + hash);
            worst = worst.max(ratio);
            println!("{:>6} MiB {:>11.3} s {:>13.3} s {:>15.3} s {:>11.2}", size >> 20, hash, listed, hashed, ratio);
            std::fs::remove_file(&src).unwrap();
        }
        println!("ratio = checksum in vdc / (2 s + openssl hash time); target ≤ 1.00; worst {worst:.2}");
    });
}
