//! Least privilege for live capture: once the sockets are open and the
//! prefilter attached, the process becomes an unprivileged user and keeps
//! no capability; stop signals only raise a flag that the pipeline polls.

use std::ffi::CString;
use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by SIGINT or SIGTERM.
static STOP_SIGNAL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP_SIGNAL.store(true, Ordering::Relaxed);
}

/// SIGINT and SIGTERM end the capture cleanly (outputs written, prefilter detached).
pub fn catch_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs an async-signal-safe handler (one atomic store).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

pub fn stop_requested() -> bool {
    STOP_SIGNAL.load(Ordering::Relaxed)
}

/// Set by SIGHUP: re-read the policy.
static RELOAD_SIGNAL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_reload_signal(_: libc::c_int) {
    RELOAD_SIGNAL.store(true, Ordering::Relaxed);
}

/// SIGHUP asks for the policy to be re-read (instead of ending the process).
pub fn catch_reload_signal() {
    // SAFETY: installs an async-signal-safe handler (one atomic store).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_reload_signal as *const () as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGHUP, &action, std::ptr::null_mut());
    }
}

/// Whether SIGHUP arrived since the last call.
pub fn take_reload_request() -> bool {
    RELOAD_SIGNAL.swap(false, Ordering::Relaxed)
}

/// Who the process runs as after [`drop_privileges`].
pub struct Dropped {
    pub user: String,
}

/// The user to become after opening the sockets: `--user`, else `nobody`
/// when running as root, else none (the process stays who it is). Only
/// root can become another user: `--user` naming someone else is refused
/// otherwise, before anything is opened.
pub fn capture_user(user: Option<&str>) -> Result<Option<String>, String> {
    // SAFETY: plain getter.
    let euid = unsafe { libc::geteuid() };
    match user {
        None if euid == 0 => Ok(Some("nobody".into())),
        None => Ok(None),
        Some(name) => {
            let (uid, _) = lookup_user(name)?;
            if euid != 0 && uid != euid {
                return Err(format!(
                    "--user {name}: becoming another user needs root, and otsensor runs as \
                     uid {euid}: leave --user out (it drops its capabilities all the same), \
                     or start it as root"
                ));
            }
            Ok(Some(name.to_string()))
        }
    }
}

/// Becomes `user` (when it is not who the process is already) and drops
/// every capability; `None` keeps the current user. Must run before any
/// thread starts: a capability set belongs to a thread, so one started
/// earlier would keep its own.
pub fn drop_privileges(user: Option<&str>) -> Result<Dropped, String> {
    let threads = fs::read_dir("/proc/self/task").map_or(1, |tasks| tasks.count());
    if threads > 1 {
        return Err(format!(
            "dropping privileges with {threads} threads running: each would keep its own capabilities"
        ));
    }
    // SAFETY: plain getters.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let dropped = match user {
        Some(name) => {
            let (to_uid, to_gid) = lookup_user(name)?;
            if (to_uid, to_gid) != (euid, egid) {
                // SAFETY: plain syscalls, on the only thread.
                unsafe {
                    if libc::setgroups(0, std::ptr::null()) != 0 {
                        return Err(format!("dropping supplementary groups: {}", last_error()));
                    }
                    if libc::setgid(to_gid) != 0 {
                        return Err(format!("becoming group {to_gid}: {}", last_error()));
                    }
                    if libc::setuid(to_uid) != 0 {
                        return Err(format!("becoming user {name}: {}", last_error()));
                    }
                }
            }
            Dropped {
                user: name.to_string(),
            }
        }
        None => Dropped {
            user: format!("uid {euid}"),
        },
    };
    // Becoming another user cleared them already; staying (or `--user root`) did not.
    clear_capabilities()?;
    // SAFETY: plain prctl; no new privileges through exec from here on.
    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    match effective_capabilities() {
        Some(0) => Ok(dropped),
        Some(caps) => Err(format!(
            "capabilities still held after dropping privileges: {caps:#x}"
        )),
        None => Ok(dropped),
    }
}

/// Gives `dir` and everything in it to `user`, so that the process can
/// still write there (a sink's spool makes new files as it goes) after
/// becoming that user.
pub fn hand_over(dir: &std::path::Path, user: &str) -> Result<(), String> {
    let (uid, gid) = lookup_user(user)?;
    chown_tree(dir, uid, gid)
}

fn chown_tree(path: &std::path::Path, uid: u32, gid: u32) -> Result<(), String> {
    let fail =
        |e: std::io::Error| format!("{}: giving it to the capture user: {e}", path.display());
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(fail)?;
    if fs::symlink_metadata(path).map_err(fail)?.is_dir() {
        for entry in fs::read_dir(path).map_err(fail)? {
            chown_tree(&entry.map_err(fail)?.path(), uid, gid)?;
        }
    }
    Ok(())
}

fn lookup_user(name: &str) -> Result<(u32, u32), String> {
    let c_name = CString::new(name).map_err(|_| format!("bad user name {name:?}"))?;
    // SAFETY: getpwnam returns a pointer to static storage or null; read at once.
    let entry = unsafe { libc::getpwnam(c_name.as_ptr()) };
    if entry.is_null() {
        return Err(format!("--user {name}: no such user"));
    }
    // SAFETY: non-null entry from getpwnam.
    Ok(unsafe { ((*entry).pw_uid, (*entry).pw_gid) })
}

/// Clears the permitted, effective and inheritable sets of this thread
/// (the ambient set follows), for a process given capabilities with setcap
/// or started as root that stays root.
fn clear_capabilities() -> Result<(), String> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data::default(); 2];
    // SAFETY: capset with a v3 header and two data words, as the kernel expects.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc != 0 {
        return Err(format!("dropping capabilities: {}", last_error()));
    }
    Ok(())
}

/// CapEff from /proc/self/status.
fn effective_capabilities() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.split_whitespace().nth(1)?, 16).ok()
}

fn last_error() -> std::io::Error {
    std::io::Error::last_os_error()
}
