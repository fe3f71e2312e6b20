//! Everything the end-to-end test needs around the app: a private X server (Xvfb), a private
//! D-Bus session bus, tauri-driver + WebKitWebDriver, and a WebDriver session on the real app.
//! Missing tools make the test FAIL with what to install — never pass silently.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A child process killed (by its own pid) when dropped.
pub struct Proc {
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// How it ended, when it has.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn spawn(name: &'static str, cmd: &mut Command) -> anyhow::Result<Proc> {
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start {name}"))?;
        Ok(Proc { child })
    }
}

/// Find a program in PATH (or in `extra` dirs); fail with `install` as the fix.
pub fn require_tool(name: &str, extra: &[PathBuf], install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(extra.iter().cloned())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    match found {
        Some(p) => p,
        None => {
            panic!("the e2e test needs `{name}`, which is not installed. Install it: {install}")
        }
    }
}

pub struct Tools {
    pub xvfb: PathBuf,
    pub dbus_daemon: PathBuf,
    pub tauri_driver: PathBuf,
    pub webkit_driver: PathBuf,
}

pub fn tools() -> Tools {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|p| vec![p.join("bin")])
        .unwrap_or_default();
    Tools {
        xvfb: require_tool("Xvfb", &[], "`apt-get install xvfb`"),
        dbus_daemon: require_tool("dbus-daemon", &[], "`apt-get install dbus` (dbus-daemon)"),
        tauri_driver: require_tool(
            "tauri-driver",
            &cargo_bin,
            "`cargo install tauri-driver --locked`",
        ),
        webkit_driver: require_tool(
            "WebKitWebDriver",
            &[],
            "`apt-get install webkit2gtk-driver` (WebKitWebDriver)",
        ),
    }
}

/// The titles of the named windows on X `display` (`xwininfo`, from x11-utils): what a taskbar
/// shows for the app.
pub fn window_titles(display: &str) -> Vec<String> {
    let out = Command::new("xwininfo")
        .args(["-root", "-tree", "-display", display])
        .output()
        .expect("xwininfo (apt-get install x11-utils)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let start = line.find('"')? + 1;
            let len = line[start..].find('"')?;
            Some(line[start..start + len].to_string())
        })
        .collect()
}

/// A private X display: `Xvfb :N`.
pub fn start_xvfb(xvfb: &Path) -> anyhow::Result<(Proc, String)> {
    for n in 90..140 {
        reclaim_stale_display(n);
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        if let Some(proc) = xvfb_on(xvfb, n)? {
            return Ok((proc, format!(":{n}")));
        }
    }
    bail!("Xvfb did not start on any display :90..:139")
}

/// Xvfb on display `display` (":N") again, after the one there ended.
pub fn restart_xvfb(xvfb: &Path, display: &str) -> anyhow::Result<Proc> {
    let n: u32 = display.trim_start_matches(':').parse()?;
    reclaim_stale_display(n);
    xvfb_on(xvfb, n)?.with_context(|| format!("Xvfb did not start again on {display}"))
}

/// Xvfb on display `n`, once its socket is there (`None` if it never came). Its messages go to
/// [`xvfb_log`], which a test prints when the server ends under it.
fn xvfb_on(xvfb: &Path, n: u32) -> anyhow::Result<Option<Proc>> {
    let display = format!(":{n}");
    let log = std::fs::File::create(xvfb_log(&display))?;
    let proc = Proc::spawn(
        "Xvfb",
        Command::new(xvfb)
            .args([display.as_str(), "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(log),
    )?;
    let up = wait_for(Duration::from_secs(10), || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists());
    Ok(up.then_some(proc))
}

/// Where the Xvfb of `display` writes its messages.
pub fn xvfb_log(display: &str) -> PathBuf {
    std::env::temp_dir().join(format!("coexist-e2e-xvfb{}-{}.log", display.trim_start_matches(':'), std::process::id()))
}

/// Xvfb killed by [`Proc`]'s drop (SIGKILL) leaves its lock file and socket behind; after ~50
/// runs every display would look taken. A lock whose process is gone is removed (Linux: the
/// pid has no /proc entry); a live one is left alone.
fn reclaim_stale_display(n: u32) {
    let lock = format!("/tmp/.X{n}-lock");
    let Ok(text) = std::fs::read_to_string(&lock) else { return };
    let Ok(pid) = text.trim().parse::<u32>() else { return };
    if !Path::new(&format!("/proc/{pid}")).exists() {
        let _ = std::fs::remove_file(&lock);
        let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
    }
}

/// A private D-Bus session bus; returns its address.
pub fn start_dbus(dbus_daemon: &Path) -> anyhow::Result<(Proc, String)> {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(dbus_daemon);
    cmd.args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut proc = Proc::spawn("dbus-daemon", &mut cmd)?;
    let stdout = proc.child.stdout.take().context("dbus-daemon stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .context("reading the bus address from dbus-daemon")?;
    let address = line.trim().to_string();
    if address.is_empty() {
        bail!("dbus-daemon printed no address");
    }
    Ok((proc, address))
}

/// gnome-keyring's Secret Service on the bus at `bus_address`, its files in `home`, the login
/// keyring created and unlocked (the password goes in on stdin, as a display manager does).
pub fn start_keyring(bus_address: &str, home: &Path) -> anyhow::Result<Proc> {
    use std::io::Write;
    let daemon = require_tool("gnome-keyring-daemon", &[], "`apt-get install gnome-keyring` (scripts/setup.sh does)");
    for sub in ["data", "cache"] {
        std::fs::create_dir_all(home.join(sub))?;
    }
    let mut cmd = Command::new(daemon);
    cmd.args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("GNOME_KEYRING_CONTROL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut proc = Proc::spawn("gnome-keyring-daemon", &mut cmd)?;
    let mut stdin = proc.child.stdin.take().context("gnome-keyring-daemon stdin")?;
    stdin.write_all(b"e2e-login")?;
    drop(stdin);
    let registered = || {
        Command::new("dbus-send")
            .args([&format!("--bus={bus_address}"), "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
            .unwrap_or(false)
    };
    if !wait_for(Duration::from_secs(10), registered) {
        bail!("gnome-keyring-daemon did not offer org.freedesktop.secrets on the test bus");
    }
    Ok(proc)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for(timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// tauri-driver (which starts WebKitWebDriver, which starts the app) with `env` passed down.
pub fn start_tauri_driver(
    tools: &Tools,
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<(Proc, u16)> {
    let port = free_port();
    let native_port = free_port();
    let log_file = std::fs::File::create(log)?;
    let mut cmd = Command::new(&tools.tauri_driver);
    cmd.args([
        "--port",
        &port.to_string(),
        "--native-port",
        &native_port.to_string(),
    ])
    .arg("--native-driver")
    .arg(&tools.webkit_driver)
    // Only what the test says: never a COEXIST_* setting leaking in from the developer's shell.
    .env_remove("COEXIST_BRIDGE_URL")
    .env_remove("COEXIST_TOKEN")
    .env_remove("COEXIST_DATA_DIR")
    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    .stdout(Stdio::from(log_file.try_clone()?))
    .stderr(Stdio::from(log_file));
    let proc = Proc::spawn("tauri-driver", &mut cmd)?;
    if !wait_for(Duration::from_secs(15), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }) {
        bail!(
            "tauri-driver did not listen on port {port}; see {}",
            log.display()
        );
    }
    Ok((proc, port))
}

/// A WebDriver session on the app; the first request is retried while WebKitWebDriver warms up.
pub async fn connect(port: u16, app: &Path) -> anyhow::Result<fantoccini::Client> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app }),
    );
    let mut last = None;
    for _ in 0..20 {
        match fantoccini::ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Ok(client),
            Err(e) => {
                last = Some(e.to_string());
                tokio::time::sleep(Duration::from_millis(750)).await;
            }
        }
    }
    bail!(
        "no WebDriver session on the app after 20 tries: {}",
        last.unwrap_or_default()
    )
}

/// Prints the tauri-driver / app log when the test fails, so a CI failure explains itself.
pub struct LogOnPanic(pub PathBuf);

impl Drop for LogOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- tauri-driver / app log ---\n{}", std::fs::read_to_string(&self.0).unwrap_or_default());
        }
    }
}

/// Where a screenshot named `name` goes: `target/e2e/NAME` (the folder is created).
pub fn screenshot_path(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("e2e");
    std::fs::create_dir_all(&dir).expect("creating target/e2e for screenshots");
    dir.join(name)
}
