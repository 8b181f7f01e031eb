//! Open-loop request load: requests leave at a fixed rate whether or not the earlier ones have been
//! answered, so a slow answer delays nothing after it and shows in the percentiles (a closed loop would
//! hide it by sending less).

use std::time::Duration;

use tokio::task::JoinSet;

use super::stats::timed_get;

/// GETs `base` + each of `paths` in turn, `per_second` of them, for `seconds`; the milliseconds of each.
pub async fn open_loop(
    client: &reqwest::Client,
    base: &str,
    paths: &[String],
    per_second: u32,
    seconds: u32,
) -> Vec<f64> {
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / per_second);
    let mut inflight = JoinSet::new();
    for i in 0..(per_second * seconds) as usize {
        ticks.tick().await;
        let (client, url) = (client.clone(), format!("{base}{}", paths[i % paths.len()]));
        inflight.spawn(async move { timed_get(&client, &url).await });
    }
    let mut ms = Vec::new();
    while let Some(t) = inflight.join_next().await {
        ms.push(t.unwrap());
    }
    ms
}
