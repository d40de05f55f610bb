//! Prints the median time of one Argon2id hash with the server's parameters, in milliseconds
//! (the yardstick of the login-storm target in `scripts/bench.py`).
#![allow(clippy::print_stdout)]

fn main() -> anyhow::Result<()> {
    let mut times = (0..7)
        .map(|_| server::password::time_one_hash().map(|t| t.as_secs_f64() * 1000.0))
        .collect::<anyhow::Result<Vec<f64>>>()?;
    times.sort_by(f64::total_cmp);
    println!("{:.3}", times[times.len() / 2]);
    Ok(())
}
