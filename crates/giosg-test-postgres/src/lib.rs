//! Throwaway PostgreSQL clusters for giosg-rs's tests and benchmarks.
//!
//! A test gets a real server, never a mock: [`url`] is a cluster shared by the test binary
//! (the system's `initdb` and `pg_ctl`, found on `PATH` or under `/usr/lib/postgresql/*/bin`,
//! on a free loopback port with trust authentication, run as an unprivileged user when the
//! tests run as root, and removed when the binary exits), or the server that
//! `GIOSG_TEST_POSTGRES_URL` names. Each test works in a schema of its own ([`schema`]), so
//! tests share the server without seeing each other. A [`Cluster`] is a private one, for a
//! test that stops and starts its server or needs TLS.
//!
//! When no server can be had, the test fails with a message saying how to provide one: it is
//! never skipped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

pub use postgres;

/// How to provide a server, said when none can be had.
const HOW: &str = "PostgreSQL is needed for these tests: install the server (Debian: apt-get install postgresql) so that initdb and pg_ctl are on PATH or under /usr/lib/postgresql/*/bin, or set GIOSG_TEST_POSTGRES_URL to a server where the tests may create schemas, roles and databases";

/// The shared server's URL (`postgres://postgres@127.0.0.1:PORT/postgres`, or
/// `GIOSG_TEST_POSTGRES_URL`). Panics, saying how to provide one, when none can be had.
pub fn url() -> String {
    if let Ok(url) = std::env::var("GIOSG_TEST_POSTGRES_URL") {
        if !url.is_empty() {
            return url;
        }
    }
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let cluster = Cluster::start();
            let url = cluster.url();
            *AT_EXIT.lock().unwrap_or_else(|p| p.into_inner()) = Some(cluster);
            // SAFETY: registers a function without arguments that only stops the cluster.
            #[allow(unsafe_code)]
            unsafe {
                libc::atexit(stop_shared);
            }
            url
        })
        .clone()
}

static AT_EXIT: Mutex<Option<Cluster>> = Mutex::new(None);

extern "C" fn stop_shared() {
    if let Ok(mut shared) = AT_EXIT.lock() {
        drop(shared.take());
    }
}

/// A schema name no other test of any binary uses (`prefix` and a number of this process's).
pub fn schema(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A client of the server at `url`, without TLS.
pub fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"))
}

/// A private PostgreSQL cluster: its own data directory and port, stopped and removed when
/// dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    user: Option<(u32, u32)>,
    tls: bool,
}

impl Cluster {
    /// Creates and starts a cluster.
    pub fn start() -> Cluster {
        Self::create(false)
    }

    /// Creates and starts a cluster that offers TLS with a self-signed certificate for
    /// `localhost` (made by the `openssl` command; see [`Cluster::certificate`]).
    pub fn start_with_tls() -> Cluster {
        Self::create(true)
    }

    fn create(tls: bool) -> Cluster {
        let bin = binaries().unwrap_or_else(|| panic!("{HOW}"));
        let dir = tempfile::Builder::new()
            .prefix("giosg-test-postgres-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a directory for the test cluster: {e}"));
        let user = server_user();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("cannot give the cluster's directory to its user: {e}"));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free loopback port: {e}"));
        let cluster = Cluster {
            dir,
            port,
            bin,
            user,
            tls,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        if tls {
            cluster.make_certificate();
        }
        cluster.resume();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The certificate of the authority that issued the server's (PEM), to trust with
    /// `sslrootcert`. The server's is issued for `localhost` only (not `127.0.0.1`).
    pub fn certificate(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A test authority and the server's certificate issued by it, made with `openssl`.
    fn make_certificate(&self) {
        let dir = self.dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        std::fs::write(dir.join("server.ext"), "subjectAltName=DNS:localhost\n").expect("ext");
        let steps: [Vec<&str>; 3] = [
            [
                &["req", "-x509"][..],
                &ec,
                &["-days", "2", "-subj", "/CN=giosg test authority"],
            ]
            .concat()
            .into_iter()
            .chain(["-keyout", "ca.key", "-out", "ca.crt"])
            .collect(),
            [&["req"][..], &ec, &["-subj", "/CN=localhost"]]
                .concat()
                .into_iter()
                .chain(["-keyout", "server.key", "-out", "server.csr"])
                .collect(),
            vec![
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ],
        ];
        for args in steps {
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(dir)
                .output()
                .unwrap_or_else(|e| {
                    panic!("the openssl command makes the test server's certificate: {e}")
                });
            assert!(
                out.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for file in ["server.key", "server.crt"] {
            let file = dir.join(file);
            if let Some((uid, gid)) = self.user {
                std::os::unix::fs::chown(&file, Some(uid), Some(gid)).expect("chown");
            }
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }

    /// The URL of the cluster's `postgres` database as its superuser `postgres` on
    /// 127.0.0.1.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (fast shutdown: sessions are ended) and waits until it has stopped.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w"]);
    }

    /// Starts the server again (or for the first time) and waits until it accepts
    /// connections.
    pub fn resume(&self) {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        if self.tls {
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                self.dir.path().join("server.crt").display(),
                self.dir.path().join("server.key").display()
            ));
        }
        let log = self.dir.path().join("server.log");
        let ok = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "120",
            "-l",
            &log.display().to_string(),
            "-o",
            &options,
        ]);
        if !ok {
            panic!(
                "the test cluster did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> bool {
        let mut all = vec!["-D".to_owned(), self.data().display().to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.command("pg_ctl", &all)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program, args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}. {HOW}"));
        assert!(
            out.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.args(args).current_dir(self.dir.path());
        command.stdout(std::process::Stdio::null());
        if let Some((uid, gid)) = self.user {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid).env_remove("HOME");
        }
        command
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Immediate: nothing of a throwaway cluster needs to be kept.
        self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }
}

/// The directory of `pg_ctl` and `initdb`: on `PATH`, else the newest under
/// `/usr/lib/postgresql/*/bin`.
fn binaries() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("pg_ctl").is_file() && dir.join("initdb").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has(d)) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// The user the server runs as when the tests run as root (PostgreSQL refuses root):
/// `postgres`, else `nobody`.
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    #[allow(unsafe_code)]
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return None;
    }
    for name in [c"postgres", c"nobody"] {
        // SAFETY: a NUL-terminated name; the record is read at once, before another call.
        #[allow(unsafe_code)]
        let found = unsafe {
            let pw = libc::getpwnam(name.as_ptr());
            (!pw.is_null()).then(|| ((*pw).pw_uid, (*pw).pw_gid))
        };
        if found.is_some() {
            return found;
        }
    }
    panic!("the tests run as root and there is no user postgres or nobody to run the test server as. {HOW}")
}
