//! The report: rows of measured figures beside their limits, written as Markdown with the machine.

use std::fmt::Write as _;
use std::path::Path;

pub struct Row {
    pub benchmark: String,
    pub result: String,
    pub limit: String,
    pub target: String,
    pub verdict: String,
}

pub struct Report {
    quick: bool,
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    pub fn new(quick: bool) -> Self {
        Report { quick, rows: Vec::new(), notes: Vec::new() }
    }

    pub fn row(&mut self, benchmark: &str, result: String, limit: String, target: &str, met: bool) {
        println!("{benchmark}: {result} (limit: {limit}; target: {target})");
        self.rows.push(Row {
            benchmark: benchmark.into(),
            result,
            limit,
            target: target.into(),
            verdict: if met { "met".into() } else { "NOT met".into() },
        });
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut md = String::from("# Benchmarks\n\n");
        writeln!(md, "- Date: {}", command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]))?;
        writeln!(md, "- Machine: {}", machine())?;
        let cmd = if self.quick { "cargo run --release -p coexist-bench -- --quick" } else { "cargo run --release -p coexist-bench" };
        writeln!(md, "- Command: `{cmd}`, after `cargo build --release --bin coexist-inbox --example bare_window` (the app rows)\n")?;
        md.push_str("| benchmark | result | limit measured in the same run | target | verdict |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            writeln!(md, "| {} | {} | {} | {} | {} |", r.benchmark, r.result, r.limit, r.target, r.verdict)?;
        }
        if !self.notes.is_empty() {
            md.push_str("\n## Notes\n\n");
            for n in &self.notes {
                writeln!(md, "- {n}")?;
            }
        }
        std::fs::write(path, md)?;
        Ok(())
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cpu}, {cores} cores, {mem_gib:.0} GiB RAM, {}", command_output("uname", &["-sr"]))
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
