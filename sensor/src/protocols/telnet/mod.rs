//! Telnet (port 23): option negotiation, the server's banner and login
//! dialogue, best effort.
//!
//! Telnet has no messages; the events are what a login looks like:
//!
//! - `negotiation`: the option commands (IAC WILL/WONT/DO/DONT, and
//!   sub-negotiations) found in one delivered chunk of a direction, counted,
//!   with the first option codes;
//! - `banner`: the server's first non-empty line, which often names the
//!   device (it becomes the server's `identity.product` unless it is a prompt);
//! - `login_prompt` / `password_prompt`: the server asks for a user name
//!   (`login:`, `Username:`, `User Name:`, `user:`) or a password
//!   (`Password:`, `passwd:`);
//! - `login`: the next line the client types after a login prompt: the user
//!   name, in clear;
//! - `password`: the next line after a password prompt, as a secret;
//! - `login_failed`: a server line reporting a failed login after a password
//!   was typed (`Login incorrect`, `Access denied`, `failed`, `invalid`).
//!
//! Text is assembled into lines per direction (at most [`MAX_LINE`] bytes
//! kept; backspace and delete honoured, as clients send one key per segment).

#[cfg(test)]
mod tests;

use super::text::{self, bounded, contains_ignore_case};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Identity, Pdu, Protocol, Visitor};

pub const PORT: u16 = 23;

/// Bytes of a line kept.
pub const MAX_LINE: usize = 256;
/// Option codes listed per negotiation event.
pub const MAX_OPTIONS: usize = 16;
/// Bytes of one sub-negotiation accepted before it is flagged.
const MAX_SUBNEGOTIATION: usize = 1024;

const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// IAC followed by a byte that is not a command (below 240).
    pub const INVALID_COMMAND: &str = "invalid_command";
    /// A sub-negotiation longer than 1 KiB.
    pub const SUBNEGOTIATION_TOO_LONG: &str = "subnegotiation_too_long";
    /// A line longer than 256 bytes (cut).
    pub const LINE_TOO_LONG: &str = "line_too_long";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[INVALID_COMMAND, SUBNEGOTIATION_TOO_LONG, LINE_TOO_LONG];
}
use anomaly::*;

/// Every `function` name Telnet events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    vec![
        "banner",
        "login",
        "login_failed",
        "login_prompt",
        "negotiation",
        "password",
        "password_prompt",
    ]
}

/// Telnet fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TelnetFields {
    /// Negotiation: option commands in the chunk.
    pub negotiations: Option<u32>,
    /// Negotiation: the option codes, the first [`MAX_OPTIONS`] (Wireshark `telnet.cmd_option`… ).
    pub options: Vec<u8>,
    /// Banner: the server's first non-empty line.
    pub banner: Option<String>,
    /// Prompts: the prompt text.
    pub prompt: Option<String>,
    /// Login: the user name typed; login_failed: the user name tried.
    pub user: Option<String>,
    pub password_present: Option<bool>,
    /// Password: the line typed, as a secret.
    pub password: Option<String>,
    /// Login_failed: the server's message.
    pub message: Option<String>,
}

impl TelnetFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        use text::{b, s, secret, u, u_list};
        u(v, "negotiations", self.negotiations);
        u_list(v, "options", &self.options);
        s(v, "banner", self.banner.as_deref());
        s(v, "prompt", self.prompt.as_deref());
        s(v, "user", self.user.as_deref());
        b(v, "password_present", self.password_present);
        secret(v, "password", self.password.as_deref());
        s(v, "message", self.message.as_deref());
    }
}

/// Where a direction is in the IAC grammar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Iac {
    #[default]
    Data,
    /// After IAC.
    Command,
    /// After IAC WILL/WONT/DO/DONT.
    Option,
    /// Inside a sub-negotiation, having read this many bytes.
    Sub(usize),
    /// IAC inside a sub-negotiation.
    SubEscape(usize),
}

#[derive(Debug, Default)]
struct Side {
    iac: Iac,
    /// The line being assembled.
    line: Vec<u8>,
    /// The current line overflowed [`MAX_LINE`].
    long_line: bool,
    /// The previous data byte was CR (a following LF or NUL belongs to it).
    after_cr: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaiting {
    User,
    Password,
}

/// Per-connection Telnet state.
#[derive(Debug, Default)]
pub struct TelnetParser {
    sides: [Side; 2],
    /// What the client's next line answers.
    awaiting: Option<Awaiting>,
    /// How much of the server's current line was there when its last prompt
    /// was reported: a server that does not echo the user name puts the
    /// password prompt on the same line, after it.
    prompt_reported: Option<usize>,
    banner_done: bool,
    /// The user name last typed, and whether a password followed it.
    user: Option<String>,
    password_sent: bool,
}

/// What one delivered chunk held besides text.
#[derive(Default)]
struct Chunk {
    negotiations: u32,
    options: Vec<u8>,
    anomalies: Anomalies,
}

impl TelnetParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn emit(
        &self,
        f: TelnetFields,
        a: Anomalies,
        function: &'static str,
        identity: Option<Box<Identity>>,
        out: &mut Emitter<'_>,
    ) {
        out.emit(Pdu {
            protocol: Protocol::Telnet,
            is_response: out.direction() == Direction::ToClient,
            function_code: None,
            function,
            class: FunctionClass::Session,
            anomalies: a,
            fields: Fields::Telnet(Box::new(f)),
            identity,
        });
    }

    /// A complete line of text from `direction`.
    fn line(&mut self, line: &[u8], long: bool, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        if long {
            a.add(LINE_TOO_LONG);
        }
        let text = bounded(text::trim(line), MAX_LINE);
        if out.direction() == Direction::ToServer {
            match self.awaiting.take() {
                Some(Awaiting::User) => {
                    self.user = Some(text.clone());
                    self.password_sent = false;
                    let f = TelnetFields {
                        user: Some(text),
                        ..TelnetFields::default()
                    };
                    self.emit(f, a, "login", None, out);
                }
                Some(Awaiting::Password) => {
                    self.password_sent = true;
                    let f = TelnetFields {
                        user: self.user.clone(),
                        password_present: Some(true),
                        password: Some(text),
                        ..TelnetFields::default()
                    };
                    self.emit(f, a, "password", None, out);
                }
                None => {}
            }
            return;
        }
        self.prompt_reported = None;
        if text.is_empty() {
            return;
        }
        if !self.banner_done {
            self.banner_done = true;
            let identity = (prompt_kind(text.as_bytes()).is_none()).then(|| {
                Box::new(Identity {
                    product: Some(bounded(text.as_bytes(), 128)),
                    ..Identity::default()
                })
            });
            let f = TelnetFields {
                banner: Some(text.clone()),
                ..TelnetFields::default()
            };
            self.emit(f, a, "banner", identity, out);
            return;
        }
        let failure = [&b"incorrect"[..], b"failed", b"denied", b"invalid"]
            .iter()
            .any(|w| contains_ignore_case(text.as_bytes(), w));
        if self.password_sent && failure {
            self.password_sent = false;
            let f = TelnetFields {
                user: self.user.clone(),
                message: Some(text),
                ..TelnetFields::default()
            };
            self.emit(f, a, "login_failed", None, out);
        }
    }

    /// After a server chunk: a prompt waiting on the current line.
    fn prompt(&mut self, out: &mut Emitter<'_>) {
        let d = Direction::ToClient.index();
        let line = &self.sides[d].line;
        let fresh = line
            .get(self.prompt_reported.unwrap_or(0)..)
            .unwrap_or_default();
        let Some(kind) = prompt_kind(fresh) else {
            return;
        };
        let prompt = bounded(text::trim(fresh), MAX_LINE);
        self.prompt_reported = Some(line.len());
        self.awaiting = Some(kind);
        if kind == Awaiting::User {
            self.password_sent = false;
        }
        let f = TelnetFields {
            prompt: Some(prompt),
            ..TelnetFields::default()
        };
        let function = match kind {
            Awaiting::User => "login_prompt",
            Awaiting::Password => "password_prompt",
        };
        self.emit(f, Anomalies::new(), function, None, out);
    }

    /// One data byte of text.
    fn text_byte(&mut self, b: u8, out: &mut Emitter<'_>) {
        let d = out.direction().index();
        let after_cr = std::mem::replace(&mut self.sides[d].after_cr, b == b'\r');
        match b {
            b'\r' | b'\n' => {
                if b == b'\n' && after_cr {
                    return;
                }
                let line = std::mem::take(&mut self.sides[d].line);
                let long = std::mem::take(&mut self.sides[d].long_line);
                self.line(&line, long, out);
                self.sides[d].line = line;
                self.sides[d].line.clear();
            }
            0 => {}
            0x08 | 0x7f => {
                self.sides[d].line.pop();
            }
            _ => {
                let side = &mut self.sides[d];
                if side.line.len() < MAX_LINE {
                    side.line.push(b);
                } else {
                    side.long_line = true;
                }
            }
        }
    }
}

/// Whether a line is a login or password prompt.
fn prompt_kind(line: &[u8]) -> Option<Awaiting> {
    let line = text::trim(line);
    let body = line
        .strip_suffix(b":")
        .or_else(|| line.strip_suffix(b">"))?;
    let word = text::trim(body);
    let ends = |w: &[u8]| {
        word.len() >= w.len()
            && word
                .get(word.len() - w.len()..)
                .is_some_and(|t| t.eq_ignore_ascii_case(w))
    };
    if ends(b"password") || ends(b"passwd") {
        Some(Awaiting::Password)
    } else if ends(b"login")
        || ends(b"username")
        || ends(b"user name")
        || ends(b"user")
        || ends(b"userid")
    {
        Some(Awaiting::User)
    } else {
        None
    }
}

impl StreamParser for TelnetParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let d = out.direction().index();
        let mut chunk = Chunk::default();
        for &b in data {
            let state = self.sides[d].iac;
            self.sides[d].iac = match state {
                Iac::Data if b == IAC => Iac::Command,
                Iac::Data => {
                    self.text_byte(b, out);
                    Iac::Data
                }
                Iac::Command => match b {
                    IAC => {
                        self.text_byte(b, out);
                        Iac::Data
                    }
                    WILL | WONT | DO | DONT => Iac::Option,
                    SB => {
                        chunk.negotiations += 1;
                        Iac::Sub(0)
                    }
                    0..SE => {
                        chunk.anomalies.add(INVALID_COMMAND);
                        Iac::Data
                    }
                    _ => Iac::Data,
                },
                Iac::Option => {
                    chunk.negotiations += 1;
                    if chunk.options.len() < MAX_OPTIONS {
                        chunk.options.push(b);
                    }
                    Iac::Data
                }
                Iac::Sub(n) => {
                    if n == 0 && chunk.options.len() < MAX_OPTIONS {
                        chunk.options.push(b);
                    }
                    if n == MAX_SUBNEGOTIATION {
                        chunk.anomalies.add(SUBNEGOTIATION_TOO_LONG);
                    }
                    if b == IAC {
                        Iac::SubEscape(n + 1)
                    } else {
                        Iac::Sub(n.saturating_add(1))
                    }
                }
                Iac::SubEscape(n) => match b {
                    SE => Iac::Data,
                    _ => Iac::Sub(n.saturating_add(1)),
                },
            };
        }
        if chunk.negotiations > 0 || !chunk.anomalies.is_empty() {
            let f = TelnetFields {
                negotiations: Some(chunk.negotiations),
                options: chunk.options,
                ..TelnetFields::default()
            };
            self.emit(f, chunk.anomalies, "negotiation", None, out);
        }
        if out.direction() == Direction::ToClient {
            self.prompt(out);
        }
        data.len()
    }

    /// Bytes lost: the partial line and command are forgotten.
    fn gap(&mut self, dir: Direction) {
        let side = &mut self.sides[dir.index()];
        side.iac = Iac::Data;
        side.line.clear();
        side.long_line = false;
        if dir == Direction::ToServer {
            self.awaiting = None;
        }
    }
}

/// Recognises Telnet: option negotiation (IAC followed by WILL, WONT, DO,
/// DONT or SB) anywhere — elsewhere than port 23 at least two negotiations
/// in a row; on port 23 also plain text (a banner or a prompt), unless it
/// starts like HTTP or an SSH identification line. Modbus, TPKT and DNP3
/// bytes are neither negotiation nor text.
pub fn probe(data: &[u8], _direction: Direction, on_known_port: bool) -> Probe {
    if data.first() == Some(&IAC) {
        return negotiation_evidence(data, on_known_port);
    }
    if !on_known_port || data.is_empty() {
        return if data.is_empty() {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    }
    let text = data.iter().all(|&b| {
        matches!(
            b,
            0x20..=0x7e | b'\t' | b'\r' | b'\n' | 0 | IAC | 0x07 | 0x08
        )
    });
    if !text || text::starts_like_http_or_ssh(data) || data.first() == Some(&0) {
        return Probe::NoMatch;
    }
    if data.len() < 5 && !data.contains(&b'\n') {
        return Probe::NeedMore;
    }
    Probe::Match
}

/// Commands at the start of `data`: `Match` when enough are well formed.
fn negotiation_evidence(data: &[u8], on_known_port: bool) -> Probe {
    let needed = if on_known_port { 1 } else { 2 };
    let mut seen = 0;
    let mut at = 0;
    while seen < needed {
        match (data.get(at), data.get(at + 1), data.get(at + 2)) {
            (None, _, _) => return Probe::NeedMore,
            (Some(&IAC), None, _) => return Probe::NeedMore,
            (Some(&IAC), Some(WILL..=DONT), None) => return Probe::NeedMore,
            (Some(&IAC), Some(WILL..=DONT), Some(_)) => at += 3,
            (Some(&IAC), Some(&SB), _) if seen > 0 || on_known_port => return Probe::Match,
            _ => return Probe::NoMatch,
        }
        seen += 1;
    }
    Probe::Match
}
