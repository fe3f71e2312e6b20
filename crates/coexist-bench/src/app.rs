//! The desktop app: cold start to the first inbox page served to the webview, and idle memory of the
//! whole process tree (the app and its WebKit processes), under a virtual X server — beside the
//! same memory of a bare Tauri window (the `bare_window` example), what the platform costs alone.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use coexist_bridge::Role;

use crate::report::Report;

/// The line the app logs once, when the webview first asks for the inbox page.
const FIRST_PAGE_LOG: &str = "inbox first page served";
/// The line the bare window prints once its page has loaded.
const BARE_PAGE_LOG: &str = "bare page loaded";
const DISPLAY: &str = ":87";
/// Launches measured; the median of each figure is reported (start times on a shared machine
/// vary by half from one launch to the next).
const LAUNCHES: usize = 3;

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

    let (runs, bare) = tokio::task::spawn_blocking({
        let (binary, dir) = (binary.clone(), dir.clone());
        move || -> anyhow::Result<_> {
            // Each launch with a new, empty inbox: every one is a first start.
            let runs = (0..LAUNCHES)
                .map(|i| measure_app(&binary, &dir.join(format!("launch-{i}")), &format!("http://{bridge}"), &token))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let bare = bare_window_binary(&binary)
                .map(|bare| (0..LAUNCHES).map(|_| measure(Command::new(&bare), BARE_PAGE_LOG)).collect::<anyhow::Result<Vec<_>>>())
                .transpose()?;
            Ok((runs, bare))
        }
    })
    .await??;
    let _ = xvfb.kill();
    let (cold_start, memory) = medians(runs);
    let bare = bare.map(|runs| medians(runs).1);

    let build = if binary.to_string_lossy().contains("/release/") { "release" } else { "debug" };
    report.row(
        &format!("app ({build} build): cold start to the first inbox page served to the webview, under Xvfb (median of {LAUNCHES} launches)"),
        format!("{:.0} ms", cold_start.as_secs_f64() * 1000.0),
        "—".into(),
        "< 1.5 s",
        cold_start < Duration::from_millis(1500),
    );
    let floor = match &bare {
        Some(bare) => format!(
            "a bare Tauri window (same WebKit settings, one line of HTML, no engine): {:.0} MB",
            mb(bare.pss)
        ),
        None => "bare window not measured: build it first (`cargo build --release --example bare_window`)".into(),
    };
    report.row(
        &format!("app ({build} build): idle memory, 10 s after start (PSS of the app and its WebKit processes; median of {LAUNCHES} launches)"),
        format!("{:.0} MB", mb(memory.pss)),
        floor,
        "< 150 MB",
        memory.pss < 150 * 1024 * 1024,
    );
    if let Some(bare) = &bare {
        report.note(format!(
            "The bare window is the floor under the app's memory: a Tauri window showing one line of HTML, with the \
             app's WebKit settings (no compositing, no JavaScript JIT), measured the same way in the same run. It costs \
             {:.0} MB ({}), so the app's own share — the engine, the local inbox, the UI's script and DOM — is {:.0} MB. \
             {}",
            mb(bare.pss),
            bare.per_process.join(", "),
            mb(memory.pss.saturating_sub(bare.pss)),
            if bare.pss >= 150 * 1024 * 1024 {
                "The target is below what a bare Tauri window costs on this machine: no WebKitGTK app, however small, meets it here."
            } else {
                "The platform leaves room under the target."
            }
        ));
    }
    report.note(format!(
        "App memory is the proportional set size (PSS) of the app and every WebKit process it starts, from \
         /proc/PID/smaps_rollup: a page shared by n processes counts 1/n in each, so the sum is what the app \
         costs the machine (the same processes' RSS, shared pages counted once per process, sum to {:.0} MB). \
         Per process: {}. Of the total, {:.0} MB is libLLVM: WebKitGTK will not start without an \
         EGL display, Mesa's driver (software under Xvfb, and the same library file for most GPUs on Debian 12) links \
         libLLVM, and loading it runs the static initializers of the whole library (its code is touched and its \
         relocations written in each process that loads it), whichever renderer is chosen (llvmpipe or softpipe).",
        mb(memory.rss),
        memory.per_process.join(", "),
        mb(memory.llvm_pss)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The median start time, and the launch with the median memory.
fn medians(mut runs: Vec<(Duration, TreeMemory)>) -> (Duration, TreeMemory) {
    let mut starts: Vec<Duration> = runs.iter().map(|(start, _)| *start).collect();
    starts.sort();
    runs.sort_by_key(|(_, memory)| memory.pss);
    let middle = runs.len() / 2;
    (starts[middle], runs.swap_remove(middle).1)
}

fn app_binary() -> Option<PathBuf> {
    ["target/release/coexist-inbox", "target/debug/coexist-inbox"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// The `bare_window` example built with the same profile as `app`, if it is built.
fn bare_window_binary(app: &Path) -> Option<PathBuf> {
    Some(app.parent()?.join("examples/bare_window")).filter(|p| p.exists())
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

fn measure_app(binary: &Path, dir: &Path, bridge_url: &str, token: &str) -> anyhow::Result<(Duration, TreeMemory)> {
    let mut app = Command::new(binary);
    app.env("COEXIST_BRIDGE_URL", bridge_url).env("COEXIST_TOKEN", token).env("COEXIST_DATA_DIR", dir).env("RUST_LOG", "info");
    measure(app, FIRST_PAGE_LOG)
}

/// Starts `command` on the virtual display, times it to `ready_log` on its stderr, waits 10 s and
/// reads the memory of its process tree.
fn measure(mut command: Command, ready_log: &'static str) -> anyhow::Result<(Duration, TreeMemory)> {
    let started = Instant::now();
    let mut app = command.env("DISPLAY", DISPLAY).stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    let first_page = wait_for_log(&mut app, ready_log, Duration::from_secs(60));
    let cold_start = started.elapsed();
    std::thread::sleep(Duration::from_secs(10));
    let memory = tree_memory(app.id());
    let _ = app.kill();
    let _ = app.wait();
    first_page.map(|_| (cold_start, memory))
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

/// Memory of a process tree, summed over its processes.
#[derive(Default)]
struct TreeMemory {
    pss: u64,
    rss: u64,
    /// "name N MB" per process, by PSS.
    per_process: Vec<String>,
    /// PSS of libLLVM's mappings, summed (Mesa's software renderer links it).
    llvm_pss: u64,
}

/// PSS and RSS of `root` and all its descendants, from /proc.
fn tree_memory(root: u32) -> TreeMemory {
    let mut memory = TreeMemory::default();
    for pid in descendants(root) {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let (Some(pss), Some(rss)) = (kb_field(&rollup, "Pss:"), kb_field(&rollup, "Rss:")) else { continue };
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        memory.per_process.push(format!("{} {:.0} MB", name.trim(), mb(pss * 1024)));
        memory.pss += pss * 1024;
        memory.rss += rss * 1024;
        memory.llvm_pss += library_pss(pid, "/libLLVM") * 1024;
    }
    memory
}

/// PSS in kB of the mappings of `pid` whose path contains `library`, from /proc/PID/smaps.
fn library_pss(pid: u32, library: &str) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut in_library = false;
    let mut total = 0;
    for line in smaps.lines() {
        if let Some(pss) = line.strip_prefix("Pss:") {
            if in_library {
                total += pss.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
            }
        } else if line.split_whitespace().next().is_some_and(|first| !first.ends_with(':')) {
            // A mapping's header line ("start-end perms offset dev inode [path]"), not a "Field: value" one.
            in_library = line.contains(library);
        }
    }
    total
}

/// `root` and every process below it.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(ppid) = kb_field(&status, "PPid:") {
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
    tree
}

/// The number after `name` in a /proc "Name:   123 kB" listing.
fn kb_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
}
