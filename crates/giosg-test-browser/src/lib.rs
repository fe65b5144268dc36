//! Headless Chromium for giosg-rs's tests, driven through the DevTools protocol over a pipe
//! (`--remote-debugging-pipe`: commands on the browser's file descriptor 3, answers and events
//! on 4, each message JSON ended by a NUL byte), so no WebSocket client is needed.
//!
//! [`Browser::open_offline`] opens a file with the network switched off and gathers what a
//! test asserts: console errors, exceptions, every request the page attempted, dialogs.
//! When no Chromium can be had, the test fails saying how to install one: it is never skipped.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How to provide a browser, said when none can be had.
const HOW: &str = "Chromium is needed for these tests: install it (Debian: apt-get install chromium; .ci/run does), or set GIOSG_TEST_CHROMIUM to a Chromium or Chrome binary";

/// The longest a page may take to load, or the browser to answer, before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// A headless Chromium, killed when dropped.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    to: std::io::PipeWriter,
    from: mpsc::Receiver<Value>,
    next: u64,
    session: Option<String>,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

/// What a page did while it loaded.
#[derive(Debug, Default)]
pub struct Visit {
    /// The URL of every request the page attempted (the document itself included).
    pub requests: Vec<String>,
    /// Console messages at error level, exceptions and log errors.
    pub errors: Vec<String>,
    /// Dialogs the page opened (`alert`, `confirm`, ...).
    pub dialogs: Vec<String>,
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GIOSG_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    let names = ["chromium", "chromium-browser", "google-chrome", "chrome"];
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            for name in names {
                if dir.join(name).is_file() {
                    return dir.join(name);
                }
            }
        }
    }
    panic!("{HOW}")
}

impl Browser {
    /// Starts a headless Chromium with a profile of its own and a page to drive.
    pub fn launch() -> Browser {
        let profile = tempfile::tempdir().expect("a profile directory");
        let (child_reads, to) = std::io::pipe().expect("a pipe");
        let (from_child, child_writes) = std::io::pipe().expect("a pipe");
        let mut command = Command::new(binary());
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--mute-audio",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        {
            use std::os::fd::AsRawFd;
            use std::os::unix::process::CommandExt;
            let (reads, writes) = (child_reads.as_raw_fd(), child_writes.as_raw_fd());
            // SAFETY: only dup2, which is async-signal-safe, runs between fork and exec.
            #[allow(unsafe_code)]
            unsafe {
                command.pre_exec(move || {
                    if libc::dup2(reads, 3) < 0 || libc::dup2(writes, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Chromium: {e}. {HOW}"));
        drop((child_reads, child_writes));
        let (tx, from) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_child);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(message) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(message).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        let mut browser = Browser {
            child,
            to,
            from,
            next: 0,
            session: None,
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target").to_owned();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = Some(
            attached["sessionId"]
                .as_str()
                .expect("a session")
                .to_owned(),
        );
        browser
    }

    /// Sends a command (to the page once attached) and waits for its answer; events met
    /// meanwhile are kept in [`Browser::events`]. Panics on an error answer.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("JSON");
        bytes.push(0);
        self.to.write_all(&bytes).expect("Chromium reads its pipe");
        loop {
            let message = self
                .from
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("Chromium did not answer {method} in {PATIENCE:?}"));
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    panic!("Chromium refused {method}: {error}");
                }
                return message["result"].clone();
            }
            self.events.push(message);
        }
    }

    /// Waits for the event `method`, keeping the others.
    pub fn wait_for(&mut self, method: &str) -> Value {
        if let Some(found) = self.events.iter().find(|e| e["method"] == json!(method)) {
            return found.clone();
        }
        loop {
            let message = self
                .from
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no {method} from Chromium in {PATIENCE:?}"));
            let hit = message["method"] == json!(method);
            self.events.push(message.clone());
            if hit {
                return message;
            }
        }
    }

    /// Opens `file` with the network switched off, waits until it has loaded, and says what
    /// it did.
    pub fn open_offline(&mut self, file: &Path) -> Visit {
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            self.call(domain, json!({}));
        }
        self.call(
            "Network.emulateNetworkConditions",
            json!({"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        );
        let url = format!(
            "file://{}",
            file.canonicalize().expect("the file").display()
        );
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for("Page.loadEventFired");
        // Everything the page did up to now has been said: a round trip flushes the events.
        self.call("Runtime.evaluate", json!({"expression": "1"}));
        let mut visit = Visit::default();
        for event in &self.events {
            let params = &event["params"];
            match event["method"].as_str().unwrap_or_default() {
                "Network.requestWillBeSent" => visit.requests.push(
                    params["request"]["url"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ),
                "Runtime.consoleAPICalled" if params["type"] == json!("error") => {
                    visit.errors.push(params["args"].to_string())
                }
                "Runtime.exceptionThrown" => visit.errors.push(params.to_string()),
                "Log.entryAdded" if params["entry"]["level"] == json!("error") => {
                    visit.errors.push(params["entry"]["text"].to_string())
                }
                "Page.javascriptDialogOpening" => visit.dialogs.push(params["message"].to_string()),
                _ => {}
            }
        }
        visit
    }

    /// Evaluates `expression` in the page and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let answer = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(e) = answer.get("exceptionDetails") {
            panic!("{expression} threw: {e}");
        }
        answer["result"]["value"].clone()
    }

    /// Sets the window's width in CSS pixels (a phone is 390), the page laid out again.
    pub fn width(&mut self, width: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}),
        );
    }

    /// A PNG of the whole page, written to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        use base64::Engine;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("image data"))
            .expect("base64");
        std::fs::write(path, png).expect("the screenshot is written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
