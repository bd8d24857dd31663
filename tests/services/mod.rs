//! Services the fleet tests start on loopback: a 3-node NATS JetStream
//! cluster, PostgreSQL, and mosquitto, from Debian's packages. Where a
//! service's programs are missing the test is skipped with the reason,
//! except under CI (`CI` set), where a missing service fails the test.
#![allow(dead_code)] // each test file uses a different subset

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Finds `program` on PATH or in `extra` folders; `None` means skip (or fail under CI).
pub fn program(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/local/sbin"].iter().map(PathBuf::from));
    for pattern in extra {
        // A folder with one `*` (the PostgreSQL version): every match, newest last.
        if let Some((head, tail)) = pattern.split_once('*') {
            let mut found: Vec<PathBuf> = std::fs::read_dir(head)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
                .unwrap_or_default();
            found.sort();
            for dir in found.into_iter().rev() {
                dirs.push(PathBuf::from(format!("{}{tail}", dir.display())));
            }
        } else {
            dirs.push(PathBuf::from(pattern));
        }
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Says why a test cannot run: a skip on a developer's machine, a failure in CI.
pub fn unavailable(what: &str) {
    let message = format!(
        "SKIPPED: {what} is not installed (apt-get install nats-server postgresql mosquitto mosquitto-clients; .ci/run does)"
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// A free TCP port on loopback (free when asked; the services bind it soon
/// after). Taken outside the kernel's ephemeral range, so that no outgoing
/// connection and no `bind(0)` of a test running beside can take a port that
/// a service gives back while it restarts.
pub fn free_port() -> u16 {
    const COUNT: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let first = quiet_ports_start(COUNT);
    // Test processes running at once start at different places.
    let start = std::process::id().wrapping_mul(7919) % COUNT;
    (0..COUNT)
        .map(|_| first + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT)
        .filter_map(|port| u16::try_from(port).ok())
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .unwrap_or_else(|| panic!("no free port on loopback in {first}..{}", first + COUNT))
}

/// The first of `count` ports that the kernel does not hand out on its own:
/// below its ephemeral range (`ip_local_port_range`, 32768–60999 by default)
/// or above it, whichever has room.
fn quiet_ports_start(count: u32) -> u32 {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut bounds = range
        .split_whitespace()
        .filter_map(|n| n.parse::<u32>().ok());
    let (low, high) = (
        bounds.next().unwrap_or(32_768),
        bounds.next().unwrap_or(60_999),
    );
    if low >= 10_000 + count {
        low - count
    } else if high + count < 65_536 {
        high + 1
    } else {
        20_000 // the whole range is ephemeral: nothing better to choose
    }
}

/// Waits (at most `limit`) for `ready`, failing the test with `what` if it never is.
pub fn wait_for(what: &str, limit: Duration, ready: impl FnMut() -> bool) {
    assert!(poll(limit, ready), "gave up waiting for {what}");
}

/// Whether `ready` became true within `limit`.
pub fn poll(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A child process ended (killed) when dropped.
pub struct Service {
    pub name: String,
    child: Option<Child>,
}

impl Service {
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Service {
        let log = std::fs::File::create(log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Service {
            name: name.to_string(),
            child: Some(child),
        }
    }

    /// Ends it at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks it to stop (SIGTERM) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP GET on loopback, for the NATS monitoring endpoints.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.lines().next()?;
    status.contains(" 200 ").then(|| body.to_string())
}

/// One node of a NATS cluster.
pub struct NatsNode {
    pub client_port: u16,
    pub monitor_port: u16,
    pub service: Service,
}

impl NatsNode {
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.client_port)
    }
}

/// Starts a JetStream cluster of `n` nats-server nodes on loopback, and waits
/// until it has elected its meta leader.
pub fn nats_cluster(dir: &Path, n: usize) -> Option<Vec<NatsNode>> {
    let Some(server) = program("nats-server", &[]) else {
        unavailable("nats-server");
        return None;
    };
    let ports: Vec<(u16, u16, u16)> = (0..n)
        .map(|_| (free_port(), free_port(), free_port()))
        .collect();
    let mut nodes = Vec::new();
    for (i, &(client, cluster, monitor)) in ports.iter().enumerate() {
        let routes: Vec<String> = ports
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| format!("\"nats://127.0.0.1:{}\"", p.1))
            .collect();
        let store = dir.join(format!("n{i}"));
        let config = format!(
            "server_name: n{i}\nlisten: 127.0.0.1:{client}\nhttp: 127.0.0.1:{monitor}\n\
             jetstream {{ store_dir: \"{}\" }}\n\
             cluster {{ name: otsensor-test, listen: 127.0.0.1:{cluster}, routes: [{}] }}\n",
            store.display(),
            routes.join(", ")
        );
        let file = dir.join(format!("n{i}.conf"));
        std::fs::write(&file, config).unwrap();
        let service = Service::spawn(
            &format!("nats n{i}"),
            Command::new(&server).arg("-c").arg(&file),
            &dir.join(format!("n{i}.log")),
        );
        nodes.push(NatsNode {
            client_port: client,
            monitor_port: monitor,
            service,
        });
    }
    for node in &nodes {
        wait_for(
            "the NATS cluster's JetStream",
            Duration::from_secs(60),
            || {
                http_get(node.monitor_port, "/jsz").is_some_and(|body| {
                    body.contains("\"meta_cluster\"") && body.contains("\"leader\"")
                })
            },
        );
    }
    Some(nodes)
}

/// A PostgreSQL server in a temporary folder, listening on loopback only.
pub struct Postgres {
    pub url: String,
    pub service: Service,
}

pub fn postgres(dir: &Path) -> Option<Postgres> {
    let folders = ["/usr/lib/postgresql/*/bin"];
    let (Some(initdb), Some(server)) = (program("initdb", &folders), program("postgres", &folders))
    else {
        unavailable("PostgreSQL (initdb, postgres)");
        return None;
    };
    let data = dir.join("pgdata");
    std::fs::create_dir_all(&data).unwrap();
    // PostgreSQL refuses to run as root: run it as the `postgres` user Debian's package made.
    let as_root = unsafe_is_root();
    if as_root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success(), "chown for PostgreSQL failed");
    }
    let command = |program: &Path| {
        if as_root {
            // setpriv runs the program itself (no child in between), so killing it stops the server.
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--clear-groups",
                "--",
            ])
            .arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    let output = command(&initdb)
        .args([
            "-A",
            "trust",
            "-U",
            "otsensor",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port = free_port();
    let service = Service::spawn(
        "postgres",
        command(&server)
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(dir)
            .args(["-c", "fsync=off"]),
        &dir.join("postgres.log"),
    );
    let url = format!("postgresql://otsensor@127.0.0.1:{port}/postgres");
    let psql = program("psql", &folders).expect("psql comes with PostgreSQL");
    wait_for("PostgreSQL", Duration::from_secs(60), || {
        Command::new(&psql)
            .args([&url, "-Atc", "SELECT 1"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    Some(Postgres { url, service })
}

/// Rows of `sql` from PostgreSQL at `url`, fields separated by `|`.
pub fn psql(url: &str, sql: &str) -> Vec<String> {
    let psql = program("psql", &["/usr/lib/postgresql/*/bin"]).expect("psql");
    let output = Command::new(psql)
        .args([url, "-Atc", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn unsafe_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A mosquitto broker on loopback, keeping its sessions and queued messages across restarts.
pub struct Mosquitto {
    pub port: u16,
    config: PathBuf,
    log: PathBuf,
    program: PathBuf,
    pub service: Service,
}

pub fn mosquitto(dir: &Path) -> Option<Mosquitto> {
    let (Some(program), Some(_)) = (program("mosquitto", &[]), program("mosquitto_sub", &[]))
    else {
        unavailable("mosquitto and mosquitto-clients");
        return None;
    };
    let port = free_port();
    let store = dir.join("mosquitto");
    std::fs::create_dir_all(&store).unwrap();
    let user = if unsafe_is_root() { "user root\n" } else { "" };
    let config = dir.join("mosquitto.conf");
    std::fs::write(
        &config,
        format!(
            "{user}listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nmax_queued_messages 100000\n",
            store.display()
        ),
    )
    .unwrap();
    let log = dir.join("mosquitto.log");
    let service = start_mosquitto(&program, &config, &log, port);
    Some(Mosquitto {
        port,
        config,
        log,
        program,
        service,
    })
}

fn start_mosquitto(program: &Path, config: &Path, log: &Path, port: u16) -> Service {
    let service = Service::spawn(
        "mosquitto",
        Command::new(program).arg("-c").arg(config),
        log,
    );
    wait_for("mosquitto", Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    service
}

impl Mosquitto {
    /// Stops the broker cleanly (it saves its sessions) and starts it again.
    pub fn stop(&mut self) {
        self.service.stop();
    }

    pub fn start(&mut self) {
        let log = self.log.with_extension("2.log");
        self.service = start_mosquitto(&self.program, &self.config, &log, self.port);
    }
}
