//! `coexist-bench`: measures Coexist Inbox on this machine and writes `BENCHMARKS.md`.
//!
//! Every figure stands beside a limit measured in the same run on the same machine (a bare axum handler,
//! a raw batched SQLite insert, the cap itself), so a reader can tell the product from the hardware.

mod app;
mod bridge;
mod inbox;
mod limiter;
mod load;
mod report;
mod sync;
mod sync_writes;
mod webhook;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Benchmarks Coexist Inbox and writes BENCHMARKS.md")]
struct Args {
    /// Smaller workloads, for a quick look (the committed BENCHMARKS.md is from a full run).
    #[arg(long)]
    quick: bool,
    /// Where to write the report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: std::path::PathBuf,
    /// Run only these benchmarks (while working on one; the committed report runs them all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Bench>,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Bench {
    Webhook,
    Sync,
    Inbox,
    Limiter,
    App,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut report = report::Report::new(args.quick);
    let runs = |b: Bench| args.only.is_empty() || args.only.contains(&b);
    if runs(Bench::Webhook) {
        webhook::run(&mut report, args.quick).await?;
    }
    if runs(Bench::Sync) {
        sync::run(&mut report, args.quick)?;
    }
    if runs(Bench::Inbox) {
        inbox::run(&mut report, args.quick)?;
    }
    if runs(Bench::Limiter) {
        limiter::run(&mut report, args.quick).await?;
    }
    if runs(Bench::App) {
        app::run(&mut report).await?;
    }
    report.write(&args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}
