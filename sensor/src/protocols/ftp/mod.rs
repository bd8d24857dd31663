//! FTP control connections (port 21, and elsewhere a `220` greeting that
//! names FTP).
//!
//! **One event per command line** from the client and **one per reply**
//! from the server (a multi-line reply, `123-` … `123 `, is one event on the
//! packet that completes it). Replies are paired with commands in order;
//! preliminary replies (1xx) leave the command waiting for its final reply.
//! The greeting (`220 ProFTPD 1.3.5 Server`) gives the server's `identity`.
//! After `AUTH TLS` is accepted (234) the connection is encrypted and no
//! longer decoded. Data connections are not decoded.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use super::text::{self, bounded};
use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Anomalies, Fields, FunctionClass, Identity, Pdu, Protocol, Visitor};

pub const PORT: u16 = 21;

/// Longest line read; a longer one is reported and skipped.
pub const MAX_LINE: usize = 2048;
/// Bytes kept of arguments and reply text.
pub const MAX_TEXT: usize = 256;
/// Commands awaiting their reply.
pub const MAX_PENDING: usize = 64;

/// Stable anomaly names of this decoder.
pub mod anomaly {
    /// A client line that is not a command (a verb of 3–4 letters).
    pub const INVALID_COMMAND: &str = "invalid_command";
    /// A server line that is not a reply (three digits, then space or dash).
    pub const INVALID_REPLY: &str = "invalid_reply";
    /// A line longer than 2 KiB.
    pub const LINE_TOO_LONG: &str = "line_too_long";
    /// A command not in RFC 959 and its extensions.
    pub const UNKNOWN_COMMAND: &str = "unknown_command";
    /// A reply with no command waiting for it (other than the greeting).
    pub const REPLY_WITHOUT_COMMAND: &str = "reply_without_command";
    /// More than 64 commands unanswered: the oldest was forgotten.
    pub const PENDING_TABLE_FULL: &str = "pending_table_full";

    /// Every anomaly name, for rule validation.
    pub const ALL: &[&str] = &[
        INVALID_COMMAND,
        INVALID_REPLY,
        LINE_TOO_LONG,
        UNKNOWN_COMMAND,
        REPLY_WITHOUT_COMMAND,
        PENDING_TABLE_FULL,
    ];
}
use anomaly::*;

/// Commands: verb, `function`, class. Transfers that fetch are reads; those
/// that store, delete, rename or create are writes (SITE runs server-specific
/// commands, often CHMOD: a write); login, transfer parameters and navigation
/// are session; SYST, FEAT and HELP describe the server: discovery.
const COMMANDS: &[(&str, &str, FunctionClass)] = &[
    ("USER", "user", FunctionClass::Session),
    ("PASS", "pass", FunctionClass::Session),
    ("ACCT", "acct", FunctionClass::Session),
    ("QUIT", "quit", FunctionClass::Session),
    ("REIN", "rein", FunctionClass::Session),
    ("AUTH", "auth", FunctionClass::Session),
    ("PBSZ", "pbsz", FunctionClass::Session),
    ("PROT", "prot", FunctionClass::Session),
    ("CCC", "ccc", FunctionClass::Session),
    ("TYPE", "type", FunctionClass::Session),
    ("MODE", "mode", FunctionClass::Session),
    ("STRU", "stru", FunctionClass::Session),
    ("PASV", "pasv", FunctionClass::Session),
    ("EPSV", "epsv", FunctionClass::Session),
    ("PORT", "port", FunctionClass::Session),
    ("EPRT", "eprt", FunctionClass::Session),
    ("CWD", "cwd", FunctionClass::Session),
    ("XCWD", "xcwd", FunctionClass::Session),
    ("CDUP", "cdup", FunctionClass::Session),
    ("XCUP", "xcup", FunctionClass::Session),
    ("PWD", "pwd", FunctionClass::Session),
    ("XPWD", "xpwd", FunctionClass::Session),
    ("REST", "rest", FunctionClass::Session),
    ("ABOR", "abor", FunctionClass::Session),
    ("NOOP", "noop", FunctionClass::Session),
    ("OPTS", "opts", FunctionClass::Session),
    ("ALLO", "allo", FunctionClass::Session),
    ("LANG", "lang", FunctionClass::Session),
    ("HOST", "host", FunctionClass::Session),
    ("CLNT", "clnt", FunctionClass::Session),
    ("SYST", "syst", FunctionClass::Discovery),
    ("FEAT", "feat", FunctionClass::Discovery),
    ("HELP", "help", FunctionClass::Discovery),
    ("RETR", "retr", FunctionClass::Read),
    ("LIST", "list", FunctionClass::Read),
    ("NLST", "nlst", FunctionClass::Read),
    ("MLSD", "mlsd", FunctionClass::Read),
    ("MLST", "mlst", FunctionClass::Read),
    ("SIZE", "size", FunctionClass::Read),
    ("MDTM", "mdtm", FunctionClass::Read),
    ("STAT", "stat", FunctionClass::Read),
    ("STOR", "stor", FunctionClass::Write),
    ("STOU", "stou", FunctionClass::Write),
    ("APPE", "appe", FunctionClass::Write),
    ("DELE", "dele", FunctionClass::Write),
    ("RNFR", "rnfr", FunctionClass::Write),
    ("RNTO", "rnto", FunctionClass::Write),
    ("MKD", "mkd", FunctionClass::Write),
    ("XMKD", "xmkd", FunctionClass::Write),
    ("RMD", "rmd", FunctionClass::Write),
    ("XRMD", "xrmd", FunctionClass::Write),
    ("SITE", "site", FunctionClass::Write),
    ("MFMT", "mfmt", FunctionClass::Write),
];

/// The `function` name and class of a command verb (upper case).
pub fn command_function(verb: &str) -> Option<(&'static str, FunctionClass)> {
    COMMANDS
        .iter()
        .find(|(v, _, _)| *v == verb)
        .map(|&(_, f, c)| (f, c))
}

/// Every `function` name FTP events carry, for rule validation.
pub fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = COMMANDS.iter().map(|(_, f, _)| *f).collect();
    names.extend(["unknown_command", "greeting", "reply", "invalid"]);
    names.sort_unstable();
    names
}

/// FTP fields of one event. Absent values are not written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FtpFields {
    /// Command verb, upper case (Wireshark `ftp.request.command`).
    pub command: Option<String>,
    /// Command argument, first 256 bytes; never for PASS (Wireshark `ftp.request.arg`).
    pub argument: Option<String>,
    /// USER: the user name, in clear (it identifies).
    pub user: Option<String>,
    pub password_present: Option<bool>,
    /// PASS: the password, as a secret.
    pub password: Option<String>,
    /// Reply code (Wireshark `ftp.response.code`).
    pub reply_code: Option<u16>,
    /// Reply text of the first line (Wireshark `ftp.response.arg`).
    pub reply_text: Option<String>,
    /// Lines of a multi-line reply.
    pub reply_lines: Option<u32>,
    /// On replies: the command answered, and its packet.
    pub request_command: Option<String>,
    pub request_packet: Option<u64>,
}

impl FtpFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        use text::{b, s, secret, u};
        s(v, "command", self.command.as_deref());
        s(v, "argument", self.argument.as_deref());
        s(v, "user", self.user.as_deref());
        b(v, "password_present", self.password_present);
        secret(v, "password", self.password.as_deref());
        u(v, "reply_code", self.reply_code);
        s(v, "reply_text", self.reply_text.as_deref());
        u(v, "reply_lines", self.reply_lines);
        s(v, "request_command", self.request_command.as_deref());
        u(v, "request_packet", self.request_packet);
    }
}

/// What a greeting says about the server: its text, without the brackets
/// some servers put around it (`(vsFTPd 3.0.3)`).
pub fn greeting_identity(text: &str) -> Option<Box<Identity>> {
    let product = text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    (!product.is_empty()).then(|| {
        Box::new(Identity {
            product: Some(bounded(product.as_bytes(), 128)),
            ..Identity::default()
        })
    })
}

/// A command awaiting its final reply.
#[derive(Clone, Debug)]
struct Pending {
    verb: String,
    function: &'static str,
    class: FunctionClass,
    packet: u64,
}

/// A multi-line reply being read.
#[derive(Clone, Debug)]
struct Multiline {
    code: u16,
    text: String,
    lines: u32,
}

/// Per-connection FTP state.
#[derive(Debug, Default)]
pub struct FtpParser {
    pending: VecDeque<Pending>,
    multiline: Option<Multiline>,
    greeted: bool,
    /// Skipping the rest of an over-long line, per direction.
    discarding: [bool; 2],
    /// AUTH TLS accepted: nothing more is decoded.
    encrypted: bool,
}

impl FtpParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn emit(
        &self,
        f: FtpFields,
        a: Anomalies,
        (function, class): (&'static str, FunctionClass),
        code: Option<u16>,
        identity: Option<Box<Identity>>,
        out: &mut Emitter<'_>,
    ) {
        out.emit(Pdu {
            protocol: Protocol::Ftp,
            is_response: out.direction() == Direction::ToClient,
            function_code: code.map(u32::from),
            function,
            class,
            anomalies: a,
            fields: Fields::Ftp(Box::new(f)),
            identity,
        });
    }

    fn invalid(&self, reason: &'static str, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        a.add(reason);
        let f = FtpFields::default();
        self.emit(f, a, ("invalid", FunctionClass::Other), None, None, out);
    }

    fn command(&mut self, line: &[u8], out: &mut Emitter<'_>) {
        let line = text::trim(line);
        if line.is_empty() {
            return;
        }
        let (verb, argument) = match line.iter().position(|&b| b == b' ') {
            Some(at) => (
                line.get(..at).unwrap_or_default(),
                Some(text::trim(line.get(at + 1..).unwrap_or_default())),
            ),
            None => (line, None),
        };
        if !(3..=4).contains(&verb.len()) || !verb.iter().all(u8::is_ascii_alphabetic) {
            self.invalid(INVALID_COMMAND, out);
            return;
        }
        let verb = String::from_utf8_lossy(verb).to_ascii_uppercase();
        let mut a = Anomalies::new();
        let (function, class) = command_function(&verb).unwrap_or_else(|| {
            a.add(UNKNOWN_COMMAND);
            ("unknown_command", FunctionClass::Other)
        });
        let mut f = FtpFields {
            command: Some(verb.clone()),
            ..FtpFields::default()
        };
        match verb.as_str() {
            "PASS" => {
                f.password_present = Some(true);
                f.password = argument.map(|p| bounded(p, MAX_TEXT));
            }
            "USER" => {
                let user = argument.map(|u| bounded(u, MAX_TEXT));
                f.user.clone_from(&user);
                f.argument = user;
            }
            _ => f.argument = argument.map(|s| bounded(s, MAX_TEXT)),
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            a.add(PENDING_TABLE_FULL);
        }
        self.pending.push_back(Pending {
            verb,
            function,
            class,
            packet: out.header().packet,
        });
        self.emit(f, a, (function, class), None, None, out);
    }

    fn reply_line(&mut self, line: &[u8], out: &mut Emitter<'_>) {
        let code = line
            .get(..3)
            .filter(|c| c.iter().all(u8::is_ascii_digit))
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse::<u16>().ok());
        let sep = line.get(3).copied();
        let text = line.get(4..).unwrap_or_default();
        if let Some(m) = &mut self.multiline
            && (code != Some(m.code) || sep != Some(b' '))
        {
            m.lines = m.lines.saturating_add(1);
            return;
        }
        if let Some(m) = self.multiline.take() {
            self.reply(m.code, m.text, m.lines + 1, out);
            return;
        }
        match (code, sep) {
            (Some(code), Some(b'-')) => {
                self.multiline = Some(Multiline {
                    code,
                    text: bounded(text::trim(text), MAX_TEXT),
                    lines: 1,
                });
            }
            (Some(code), Some(b' ') | None) => {
                self.reply(code, bounded(text::trim(text), MAX_TEXT), 1, out);
            }
            _ if text::trim(line).is_empty() => {}
            _ => self.invalid(INVALID_REPLY, out),
        }
    }

    fn reply(&mut self, code: u16, text: String, lines: u32, out: &mut Emitter<'_>) {
        let mut a = Anomalies::new();
        let preliminary = (100..200).contains(&code);
        let command = if preliminary {
            self.pending.front().cloned()
        } else {
            self.pending.pop_front()
        };
        let mut identity = None;
        let (function, class) = match &command {
            Some(c) => (c.function, c.class),
            None if !self.greeted && code == 220 => {
                identity = greeting_identity(&text);
                ("greeting", FunctionClass::Session)
            }
            None => {
                a.add(REPLY_WITHOUT_COMMAND);
                ("reply", FunctionClass::Other)
            }
        };
        self.greeted = true;
        if code == 234 && command.as_ref().is_some_and(|c| c.verb == "AUTH") {
            self.encrypted = true;
        }
        let f = FtpFields {
            reply_code: Some(code),
            reply_text: Some(text),
            reply_lines: (lines > 1).then_some(lines),
            request_command: command.as_ref().map(|c| c.verb.clone()),
            request_packet: command.as_ref().map(|c| c.packet),
            ..FtpFields::default()
        };
        self.emit(f, a, (function, class), Some(code), identity, out);
    }
}

impl StreamParser for FtpParser {
    fn parse(&mut self, data: &[u8], out: &mut Emitter<'_>) -> usize {
        let d = out.direction().index();
        let mut consumed = 0;
        while let Some(rest) = data.get(consumed..).filter(|r| !r.is_empty()) {
            if self.encrypted {
                return data.len();
            }
            let Some((line, used)) = text::line(rest) else {
                if rest.len() > MAX_LINE {
                    if !self.discarding[d] {
                        self.invalid(LINE_TOO_LONG, out);
                    }
                    self.discarding[d] = true;
                    return data.len();
                }
                break;
            };
            consumed += used;
            if std::mem::take(&mut self.discarding[d]) {
                continue;
            }
            if used > MAX_LINE {
                self.invalid(LINE_TOO_LONG, out);
                continue;
            }
            match out.direction() {
                Direction::ToServer => self.command(line, out),
                Direction::ToClient => self.reply_line(line, out),
            }
        }
        consumed
    }

    /// Bytes lost: a partial line or multi-line reply is forgotten; the next
    /// line may be a tail and be reported as invalid.
    fn gap(&mut self, dir: Direction) {
        if dir == Direction::ToClient {
            self.multiline = None;
        }
        self.discarding[dir.index()] = false;
    }
}

/// Recognises FTP: on port 21, a reply line from the server (three digits,
/// then space or dash) or a known command from the client; elsewhere, only a
/// server greeting `220` whose line names FTP (an SMTP greeting is `220` as
/// well). HTTP, SSH, TLS, Modbus, TPKT and DNP3 fail these tests.
pub fn probe(data: &[u8], direction: Direction, on_known_port: bool) -> Probe {
    if data.is_empty() {
        return Probe::NeedMore;
    }
    match direction {
        Direction::ToClient => {
            let digits = data
                .iter()
                .take(3)
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits < data.len().min(3) {
                return Probe::NoMatch;
            }
            let Some(&sep) = data.get(3) else {
                return Probe::NeedMore;
            };
            if sep != b' ' && sep != b'-' {
                return Probe::NoMatch;
            }
            if on_known_port {
                return Probe::Match;
            }
            if !data.starts_with(b"220") {
                return Probe::NoMatch;
            }
            match text::line(data) {
                Some((line, _)) if text::contains_ignore_case(line, b"ftp") => Probe::Match,
                Some(_) => Probe::NoMatch,
                None => Probe::NeedMore,
            }
        }
        Direction::ToServer => {
            if !on_known_port {
                return Probe::NoMatch;
            }
            let verb = data.iter().take_while(|b| b.is_ascii_alphabetic()).count();
            match data.get(verb) {
                None if verb < 5 => Probe::NeedMore,
                Some(b' ' | b'\r' | b'\n') => {
                    let upper = String::from_utf8_lossy(data.get(..verb).unwrap_or_default())
                        .to_ascii_uppercase();
                    if command_function(&upper).is_some() {
                        Probe::Match
                    } else {
                        Probe::NoMatch
                    }
                }
                _ => Probe::NoMatch,
            }
        }
    }
}
