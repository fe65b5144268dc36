//! Child processes for `cargo xtask bench`: giosg-mock servers that die with us, and one-shot
//! commands measured with `wait4` (wall time, user + system CPU time, peak RSS), each under a
//! watchdog so that no run can hang the benchmark.
// libc: killing, reaping with rusage, and the clock tick rate; nothing else is unsafe here.
#![allow(unsafe_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What one run of a command cost.
#[derive(Clone, Copy, Debug)]
pub(super) struct Usage {
    /// Seconds from spawn to reaped.
    pub wall: f64,
    /// User + system CPU seconds of the child.
    pub cpu: f64,
    /// Peak resident set size of the child, in MiB.
    pub rss_mib: f64,
}

/// Runs `cmd` to completion (stdin null; stderr to `log`, whose tail goes into the error if it
/// fails), killing it after `timeout`.
pub(super) fn measure(cmd: &mut Command, log: &Path, timeout: Duration) -> Result<Usage, String> {
    measure_exit(cmd, log, timeout, 0)
}

/// [`measure`], for a command that must end with the exit code `code` (a refusal measured on
/// purpose).
pub(super) fn measure_exit(
    cmd: &mut Command,
    log: &Path,
    timeout: Duration,
    code: i32,
) -> Result<Usage, String> {
    let name = format!("{:?}", cmd.get_program());
    let err_file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    cmd.stdin(Stdio::null()).stderr(err_file);
    let start = Instant::now();
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let (done, watch) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = watch.recv_timeout(timeout) {
            // Our own child, not yet reaped (the main thread is still in wait4).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        } else {
            false
        }
    });
    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut reaped = -1;
    for _ in 0..1000 {
        reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped != -1 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
        {
            break;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    // Already reaped: dropping the handle only closes our ends of its pipes.
    drop(child);
    if reaped != pid {
        return Err(format!(
            "wait4 on {name}: {}",
            std::io::Error::last_os_error()
        ));
    }
    if killed {
        return Err(format!("{name} took longer than {timeout:?}; killed"));
    }
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == code;
    if !exited_ok {
        return Err(format!(
            "{name} failed (wait status {status:#x}): {}",
            tail(log)
        ));
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Usage {
        wall,
        cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        rss_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}

/// The last lines of a log file.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let len = f.metadata().map_or(0, |m| m.len());
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(2000)));
        let _ = f.read_to_string(&mut text);
    }
    text.trim().to_owned()
}

/// A `giosg-mock` process on 127.0.0.1, killed when dropped.
pub(super) struct Mock {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The organisation it serves.
    pub org: String,
    /// Chats served.
    pub chats: usize,
    /// Seconds from spawn to serving (generating the chats included).
    pub startup: f64,
}

impl Mock {
    /// Starts `giosg-mock --chats N --seed S --token T [--latency-ms MS]` and waits (at most
    /// `timeout`) until it says where it listens. With `requests_log`, it also runs with
    /// `--log-requests`, its stderr going to that file (one line per request handled).
    pub(super) fn start(
        bin: &Path,
        chats: usize,
        seed: u64,
        token: &str,
        latency_ms: Option<u64>,
        requests_log: Option<&Path>,
        timeout: Duration,
    ) -> Result<Mock, String> {
        let args = [
            "--chats".to_owned(),
            chats.to_string(),
            "--seed".to_owned(),
            seed.to_string(),
        ];
        Self::start_serving(bin, &args, chats, token, latency_ms, requests_log, timeout)
    }

    /// Starts `giosg-mock --chats N --seed S --encrypted-share 1`: every room encrypted for the
    /// test key; see [`Mock::start`].
    pub(super) fn start_encrypted(
        bin: &Path,
        chats: usize,
        seed: u64,
        token: &str,
        timeout: Duration,
    ) -> Result<Mock, String> {
        let args = [
            "--chats".to_owned(),
            chats.to_string(),
            "--seed".to_owned(),
            seed.to_string(),
            "--encrypted-share".to_owned(),
            "1".to_owned(),
        ];
        Self::start_serving(bin, &args, chats, token, None, None, timeout)
    }

    /// Starts `giosg-mock --fixture-file PATH` serving `chats` chats; see [`Mock::start`].
    pub(super) fn start_fixture(
        bin: &Path,
        fixture: &Path,
        chats: usize,
        token: &str,
        requests_log: Option<&Path>,
        timeout: Duration,
    ) -> Result<Mock, String> {
        let args = ["--fixture-file".to_owned(), fixture.display().to_string()];
        Self::start_serving(bin, &args, chats, token, None, requests_log, timeout)
    }

    fn start_serving(
        bin: &Path,
        data: &[String],
        chats: usize,
        token: &str,
        latency_ms: Option<u64>,
        requests_log: Option<&Path>,
        timeout: Duration,
    ) -> Result<Mock, String> {
        let mut cmd = Command::new(bin);
        cmd.args(data)
            .args(["--token", token])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(ms) = latency_ms {
            cmd.args(["--latency-ms", &ms.to_string()]);
        }
        if let Some(log) = requests_log {
            let file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
            cmd.arg("--log-requests").stderr(file);
        }
        // Should this process die without dropping the mock (a SIGKILL), the mock goes too.
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Reads the four lines the mock prints once it serves, then ends (EOF or enough).
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for _ in 0..4 {
                match lines.next() {
                    Some(Ok(line)) => {
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                    _ => return,
                }
            }
        });
        let mut mock = Mock {
            child,
            base_url: String::new(),
            org: String::new(),
            chats,
            startup: 0.0,
        };
        let deadline = start + timeout;
        for _ in 0..4 {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).map_err(|_| {
                format!("giosg-mock --chats {chats} did not start within {timeout:?}")
            })?;
            if let Some((key, value)) = line.split_once(char::is_whitespace) {
                match key {
                    "base_url" => mock.base_url = value.trim().to_owned(),
                    "org" => mock.org = value.trim().to_owned(),
                    _ => {}
                }
            }
        }
        if mock.base_url.is_empty() || mock.org.is_empty() {
            return Err("giosg-mock did not print its base URL and org".to_owned());
        }
        mock.startup = start.elapsed().as_secs_f64();
        Ok(mock)
    }

    /// The process id.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size now, in MiB (from /proc).
    pub(super) fn rss_mib(&self) -> f64 {
        proc_status_kib(self.pid(), "VmRSS:") as f64 / 1024.0
    }

    /// User + system CPU seconds used so far (from /proc).
    pub(super) fn cpu(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name, which ends with the last ')': state is field 3,
        // utime and stime are fields 14 and 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        (ticks(11) + ticks(12)) / hz
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` line of /proc/PID/status, in KiB (0 if missing).
fn proc_status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Lines (newline bytes) and size of a file.
pub(super) fn count_lines(path: &Path) -> Result<(u64, u64), String> {
    let mut f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut bytes) = (0u64, 0u64);
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok((lines, bytes));
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// Removes a file if it exists.
pub(super) fn remove(path: &PathBuf) {
    let _ = std::fs::remove_file(path);
    // An export's state file beside it, if any.
    let mut state = path.clone().into_os_string();
    state.push(".giosg-state");
    let _ = std::fs::remove_file(state);
}

/// Checks that a JSON Lines file holds `n` chats, each exactly once.
pub(super) fn check_exactly_once(path: &Path, n: usize) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    // Line by line: this process forks the next measured child, which would inherit (and
    // report in its `ru_maxrss`) a large heap of ours.
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut ids = std::collections::HashSet::with_capacity(n);
    let mut lines = 0usize;
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        let chat: Id = serde_json::from_str(&line)
            .map_err(|e| format!("{}: line {}: {e}", path.display(), lines + 1))?;
        ids.insert(chat.id);
        lines += 1;
    }
    if lines != n || ids.len() != n {
        return Err(format!(
            "{}: {lines} lines, {} distinct chats, {n} expected",
            path.display(),
            ids.len()
        ));
    }
    Ok(())
}
