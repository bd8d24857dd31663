//! The real terminal: raw mode, the alternate screen and mouse reporting on
//! the way in, all undone on the way out — on return, on panic and on
//! SIGTERM/SIGHUP — and the loop that feeds keys and snapshots to the app.

use std::fs::File;
use std::io::{self, IsTerminal, Stdout, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::app::App;
use super::publish::Update;

/// How the dashboard ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The operator quit.
    Quit,
    /// A signal asked the process to stop (its number).
    Signal(i32),
}

/// Longest wait for a key before looking at snapshots and signals again.
const POLL: Duration = Duration::from_millis(50);
/// Most frames drawn per second.
const FRAME: Duration = Duration::from_millis(100);

/// Puts the terminal back as it was; safe to call more than once.
fn restore() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Restores the terminal when dropped (the normal way out and unwinding).
struct Session {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    /// Where keys come from: stdin, or the controlling terminal when stdin
    /// is not one (as crossterm chooses).
    input: RawFd,
    _tty: Option<File>,
}

impl Session {
    fn start() -> io::Result<Session> {
        let (input, tty) = if io::stdin().is_terminal() {
            (io::stdin().as_raw_fd(), None)
        } else {
            let tty = File::open("/dev/tty")?;
            (tty.as_raw_fd(), Some(tty))
        };
        install_panic_hook();
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        let terminal = match Terminal::new(CrosstermBackend::new(out)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(Session {
            terminal,
            input,
            _tty: tty,
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
        let _ = self.terminal.show_cursor();
    }
}

/// A panic anywhere restores the terminal before the message is printed,
/// so that the message is readable and the shell usable.
fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// SIGTERM, SIGHUP and SIGINT set a flag the loop looks at (raw mode turns
/// Ctrl-C into a key, but `kill -INT` still arrives as a signal).
fn watch_signals() -> io::Result<Arc<AtomicUsize>> {
    let flag = Arc::new(AtomicUsize::new(0));
    for signal in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ] {
        signal_hook::flag::register_usize(signal, flag.clone(), signal as usize)?;
    }
    Ok(flag)
}

/// Whether the terminal's input is gone: its window closed or the SSH
/// session dropped.
fn hung_up(input: RawFd, timeout: Duration) -> bool {
    let mut fds = [libc::pollfd {
        fd: input,
        events: libc::POLLIN,
        revents: 0,
    }];
    let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd, alive for the duration of the call.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, millis) };
    // A signal (EINTR) is not a hang-up: the loop looks at signals next.
    ready > 0 && fds[0].revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// Runs the dashboard in the terminal until the operator quits or a signal
/// arrives, taking snapshots and notices from `updates` as they come.
pub fn run(app: &mut App, updates: &Receiver<Update>) -> io::Result<Exit> {
    let signals = watch_signals()?;
    let mut session = Session::start()?;
    let mut last_draw: Option<Instant> = None;
    let mut connected = true;
    loop {
        let signal = signals.load(Ordering::Relaxed);
        if signal != 0 {
            return Ok(Exit::Signal(signal as i32));
        }
        while connected {
            match updates.try_recv() {
                Ok(update) => app.update(update),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => connected = false,
            }
        }
        let frame_due = last_draw.is_none_or(|t| t.elapsed() >= FRAME);
        if app.dirty && frame_due {
            session
                .terminal
                .draw(|frame| frame.render_widget(&*app, frame.area()))?;
            app.dirty = false;
            last_draw = Some(Instant::now());
        }
        // Wait for keys here rather than in crossterm, whose reader spins on
        // a terminal that hung up instead of reporting it; then take what
        // crossterm has (keys, and resizes, which it learns by signal).
        if hung_up(session.input, POLL) {
            return Ok(Exit::Signal(libc::SIGHUP));
        }
        if event::poll(Duration::ZERO)? {
            let event = event::read()?;
            app.event(&event);
            // Answer keys at once rather than at the next frame.
            last_draw = None;
        }
        if app.quit {
            return Ok(Exit::Quit);
        }
    }
}
