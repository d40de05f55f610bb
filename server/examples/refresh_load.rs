//! Load generator for token refresh, which off-the-shelf tools cannot drive: every refresh
//! token works once, so each worker logs in once and then refreshes in a chain, presenting the
//! token it just received. Used by `scripts/bench.sh`.
//!
//! `cargo run --release -p server --example refresh_load -- <base-url> <user> <password> <workers> <seconds>`
//!
//! Prints one JSON line: requests, errors, requests per second and latency percentiles (ms).

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, user, password, workers, seconds] = args.as_slice() else {
        anyhow::bail!("usage: refresh_load <base-url> <user> <password> <workers> <seconds>");
    };
    let workers: usize = workers.parse()?;
    let duration = Duration::from_secs(seconds.parse()?);
    let http = reqwest::Client::new();

    // Log every worker in first (Argon2id takes its time), then start the clock.
    let mut tokens = Vec::with_capacity(workers);
    for _ in 0..workers {
        let pair: Value = http
            .post(format!("{base}/api/token/login"))
            .json(&json!({ "username": user, "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens.push(
            pair["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }

    let started = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|mut token| {
            let http = http.clone();
            let url = format!("{base}/api/token/refresh");
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while started.elapsed() < duration {
                    let sent = Instant::now();
                    let res = http
                        .post(&url)
                        .json(&json!({ "refresh_token": token }))
                        .send()
                        .await;
                    let pair: Option<Value> = match res {
                        Ok(r) if r.status().is_success() => r.json().await.ok(),
                        _ => None,
                    };
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    match pair.and_then(|p| p["refresh_token"].as_str().map(str::to_owned)) {
                        Some(next) => token = next,
                        None => {
                            errors += 1;
                            break; // the chain is broken; this worker stops
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{}",
        json!({
            "requests": latencies.len(),
            "errors": errors,
            "rps": latencies.len() as f64 / elapsed,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
        })
    );
    Ok(())
}
