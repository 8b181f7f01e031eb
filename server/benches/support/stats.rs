//! Settings read from the environment, and percentiles of the timings a bench collects.

use std::time::Instant;

pub fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// p50 and p99 of milliseconds.
pub fn percentiles(ms: Vec<f64>) -> (f64, f64) {
    let q = quantiles(ms, &[0.5, 0.99]);
    (q[0], q[1])
}

/// The given quantiles (0..=1) of milliseconds; NaN for an empty sample.
pub fn quantiles(mut ms: Vec<f64>, at: &[f64]) -> Vec<f64> {
    if ms.is_empty() {
        return at.iter().map(|_| f64::NAN).collect();
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    at.iter().map(|p| ms[((ms.len() as f64 - 1.0) * p).round() as usize]).collect()
}

/// Milliseconds of one GET, body read; panics on an error status (a bench of failures measures nothing).
pub async fn timed_get(client: &reqwest::Client, url: &str) -> f64 {
    let t = Instant::now();
    let resp = client.get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    resp.bytes().await.unwrap();
    t.elapsed().as_secs_f64() * 1000.0
}
