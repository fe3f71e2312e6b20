//! The desktop app: cold start to the first inbox page served to the webview, and idle memory of the
//! whole process tree (the app and its WebKit processes), under a virtual X server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use coexist_bridge::Role;

use crate::report::Report;

/// The line the app logs once, when the webview first asks for the inbox page.
const FIRST_PAGE_LOG: &str = "inbox first page served";
const DISPLAY: &str = ":87";

pub async fn run(report: &mut Report) -> anyhow::Result<()> {
    let Some(binary) = app_binary() else {
        report.note("App start and memory not measured: build the app first (`cargo build -p coexist-inbox`).".into());
        return Ok(());
    };
    let dir = crate::webhook::tempfile_dir()?.join("app");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("bridge.db");
    let token = coexist_bridge::admin::add_user(&db, "bench-agent", Role::Agent)?;
    let bridge = crate::bridge::start(&db, "secret").await?;
    let mut xvfb = Command::new("Xvfb").args([DISPLAY, "-screen", "0", "1280x800x24"]).stderr(Stdio::null()).spawn()?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (cold_start, rss) = tokio::task::spawn_blocking({
        let (binary, dir) = (binary.clone(), dir.clone());
        move || measure(&binary, &dir, &format!("http://{bridge}"), &token)
    })
    .await??;
    let _ = xvfb.kill();

    let build = if binary.to_string_lossy().contains("/release/") { "release" } else { "debug" };
    report.row(
        &format!("app ({build} build): cold start to the first inbox page served to the webview, under Xvfb"),
        format!("{:.0} ms", cold_start.as_secs_f64() * 1000.0),
        "—".into(),
        "< 1.5 s",
        cold_start < Duration::from_millis(1500),
    );
    report.row(
        &format!("app ({build} build): idle memory, 10 s after start (RSS of the app and its WebKit processes)"),
        format!("{:.0} MB", rss as f64 / 1024.0 / 1024.0),
        "—".into(),
        "< 150 MB",
        rss < 150 * 1024 * 1024,
    );
    report.note(
        "App memory is the resident set of the app process and every WebKit process it starts (web content, \
         network), each counted whole: shared library pages are counted once per process."
            .into(),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn app_binary() -> Option<PathBuf> {
    ["target/release/coexist-inbox", "target/debug/coexist-inbox"].iter().map(PathBuf::from).find(|p| p.exists())
}

fn measure(binary: &Path, dir: &Path, bridge_url: &str, token: &str) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let mut app = Command::new(binary)
        .env("DISPLAY", DISPLAY)
        .env("COEXIST_BRIDGE_URL", bridge_url)
        .env("COEXIST_TOKEN", token)
        .env("COEXIST_DATA_DIR", dir)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let first_page = wait_for_log(&mut app, FIRST_PAGE_LOG, Duration::from_secs(60));
    let cold_start = started.elapsed();
    std::thread::sleep(Duration::from_secs(10));
    let rss = tree_rss_bytes(app.id());
    let _ = app.kill();
    let _ = app.wait();
    first_page.map(|_| (cold_start, rss))
}

fn wait_for_log(app: &mut Child, needle: &'static str, timeout: Duration) -> anyhow::Result<()> {
    let stderr = app.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(needle) {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(timeout).map_err(|_| anyhow::anyhow!("the app never logged {needle:?} within {timeout:?}"))
}

/// Resident memory of `root` and all its descendants, from /proc.
fn tree_rss_bytes(root: u32) -> u64 {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Some(ppid) = field(pid, "PPid:") {
            parents.push((pid, ppid as u32));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    tree.iter().filter_map(|pid| field(*pid, "VmRSS:")).map(|kb| kb * 1024).sum()
}

fn field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
}
