//! The export configuration (`--config otsensor.toml`, schema in
//! `docs/export.md`): the sensor's id and its sinks. Every mistake is
//! reported with file:line:column and a reason before anything starts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// What a sink is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Alerts,
    Assets,
    Events,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Alerts, Kind::Assets, Kind::Events];

    /// The last part of the topic or subject.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Alerts => "alerts",
            Kind::Assets => "assets",
            Kind::Events => "events",
        }
    }

    pub fn from_index(index: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(index)).copied()
    }

    pub fn index(self) -> u8 {
        self as u8
    }
}

/// How a syslog sink writes alerts (other records are JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertFormat {
    Cef,
    Leef,
    Json,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyslogTransport {
    Udp,
    Tcp,
    Tls,
}

/// Files for a TLS connection, resolved against the configuration's folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// Certificates (PEM) to trust instead of none: a sink with TLS and no
    /// `ca` cannot check its server and is refused.
    pub ca: Option<PathBuf>,
    /// Client certificate chain and key (PEM), for brokers that authenticate clients so.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The name to check the server's certificate against (default: the URL's host).
    pub server_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Syslog {
    pub transport: SyslogTransport,
    pub host: String,
    pub port: u16,
    pub format: AlertFormat,
    /// RFC 5424 APP-NAME.
    pub app_name: String,
    /// Syslog facility number (0–23).
    pub facility: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MqttVersion {
    V311,
    V5,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mqtt {
    pub host: String,
    pub port: u16,
    pub version: MqttVersion,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The topic's first part (`<prefix>/<sensor_id>/alerts`).
    pub topic_prefix: String,
    /// 1 or 2. Either way delivery is at least once across outages (see `export::mqtt`).
    pub qos: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nats {
    /// Servers of one cluster, tried in turn.
    pub urls: Vec<String>,
    pub stream: String,
    /// Copies the stream keeps, when the sensor creates it.
    pub replicas: usize,
    /// The subject's first part (`<prefix>.<sensor_id>.alerts`).
    pub subject_prefix: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Syslog(Syslog),
    Mqtt(Mqtt),
    Nats(Nats),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sink {
    /// Unique within the file; names the spool folder.
    pub name: String,
    pub target: Target,
    pub tls: Option<Tls>,
    pub kinds: Vec<Kind>,
    /// Bytes the on-disk spool may hold; beyond, records are counted and dropped.
    pub spool_max_bytes: u64,
    /// Longest wait for one connection attempt or acknowledgement.
    pub timeout: Duration,
}

impl Sink {
    pub fn wants(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub sensor_id: String,
    /// Each sink spools into `<spool_dir>/<sink name>/`.
    pub spool_dir: PathBuf,
    /// How long the end of a replay waits for sinks to deliver what is queued.
    pub drain_timeout: Duration,
    pub sinks: Vec<Sink>,
}

/// One mistake in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// All the mistakes found, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ConfigError::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

const DEFAULT_SPOOL_MB: u64 = 64;
const DEFAULT_TIMEOUT_SECS: u64 = 5;
const DEFAULT_DRAIN_SECS: u64 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    sensor_id: Option<Spanned<String>>,
    spool_dir: Option<Spanned<String>>,
    drain_timeout_secs: Option<Spanned<u64>>,
    #[serde(default)]
    sink: Vec<Spanned<SinkSpec>>,
}

/// Every setting of every sink type; which apply to which type is checked after.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SinkSpec {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    urls: Option<Spanned<Vec<String>>>,
    records: Option<Spanned<Vec<String>>>,
    spool_max_mb: Option<Spanned<u64>>,
    timeout_secs: Option<Spanned<u64>>,
    tls: Option<Spanned<TlsSpec>>,
    // syslog
    format: Option<Spanned<String>>,
    app_name: Option<Spanned<String>>,
    facility: Option<Spanned<u64>>,
    // mqtt
    version: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    topic_prefix: Option<Spanned<String>>,
    qos: Option<Spanned<u64>>,
    // mqtt and nats
    username: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    // nats
    stream: Option<Spanned<String>>,
    replicas: Option<Spanned<u64>>,
    subject_prefix: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsSpec {
    ca: Option<Spanned<String>>,
    cert: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    server_name: Option<Spanned<String>>,
}

/// Reads and checks the configuration file at `path`.
pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: name.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
        }])
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&name, &text, base)
}

/// Checks the configuration `text` (named `file` in messages); relative paths
/// are taken from `base`.
pub fn parse(file: &str, text: &str, base: &Path) -> Result<Config, ConfigErrors> {
    let mut checker = Checker {
        file,
        text,
        base,
        errors: Vec::new(),
    };
    let spec = match toml::from_str::<FileSpec>(text) {
        Ok(spec) => spec,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            checker.error(at, e.message().trim_end().to_string());
            return Err(ConfigErrors(checker.errors));
        }
    };
    let sensor_id = match &spec.sensor_id {
        Some(id) => {
            checker.sensor_id(id);
            id.get_ref().clone()
        }
        None => {
            checker.error(
                0,
                "missing `sensor_id`: every record names its sensor".into(),
            );
            String::new()
        }
    };
    let spool_dir = spec
        .spool_dir
        .as_ref()
        .map_or_else(|| base.join("otsensor-spool"), |d| base.join(d.get_ref()));
    let drain_timeout = Duration::from_secs(
        spec.drain_timeout_secs
            .as_ref()
            .map_or(DEFAULT_DRAIN_SECS, |d| *d.get_ref()),
    );
    let mut sinks: Vec<Sink> = Vec::new();
    for (index, spec) in spec.sink.iter().enumerate() {
        if let Some(sink) = checker.sink(index, spec, &sensor_id) {
            if let Some(name) = spec.get_ref().name.as_ref()
                && sinks.iter().any(|s| s.name == sink.name)
            {
                checker.at(
                    name,
                    format!("another sink is already named `{}`", sink.name),
                );
                continue;
            }
            sinks.push(sink);
        }
    }
    if checker.errors.is_empty() {
        Ok(Config {
            sensor_id,
            spool_dir,
            drain_timeout,
            sinks,
        })
    } else {
        checker.errors.sort_by_key(|e| (e.line, e.column));
        Err(ConfigErrors(checker.errors))
    }
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    base: &'a Path,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, at: usize, message: String) {
        let before = &self.text[..at.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            column,
            message,
        });
    }

    fn at<T>(&mut self, value: &Spanned<T>, message: String) {
        self.error(value.span().start, message);
    }

    fn sensor_id(&mut self, id: &Spanned<String>) {
        let text = id.get_ref();
        let fine = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !fine {
            self.at(
                id,
                format!(
                    "sensor_id `{text}` must be 1 to 64 letters, digits, `-` or `_` (it is part of MQTT topics and NATS subjects)"
                ),
            );
        }
    }

    fn sink(&mut self, index: usize, spanned: &Spanned<SinkSpec>, sensor_id: &str) -> Option<Sink> {
        let spec = spanned.get_ref();
        let before = self.errors.len();
        let Some(kind) = &spec.kind else {
            self.at(
                spanned,
                "sink without `type` (one of: syslog, mqtt, nats)".into(),
            );
            return None;
        };
        let type_name = kind.get_ref().as_str();
        let allowed: &[&str] = match type_name {
            "syslog" => &["format", "app_name", "facility", "url"],
            "mqtt" => &[
                "version",
                "qos",
                "client_id",
                "topic_prefix",
                "username",
                "password",
                "url",
            ],
            "nats" => &[
                "stream",
                "replicas",
                "subject_prefix",
                "username",
                "password",
                "url",
                "urls",
            ],
            other => {
                self.at(
                    kind,
                    format!("unknown sink type `{other}` (known: syslog, mqtt, nats)"),
                );
                return None;
            }
        };
        for (key, span) in spec.specific() {
            if !allowed.contains(&key) {
                self.error(
                    span,
                    format!("`{key}` is not a setting of a {type_name} sink"),
                );
            }
        }
        let name = spec.name.as_ref().map_or_else(
            || format!("{type_name}-{}", index + 1),
            |n| n.get_ref().clone(),
        );
        if let Some(n) = &spec.name
            && (name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            self.at(
                n,
                format!("sink name `{name}` must be letters, digits, `-` or `_` (it names the spool folder)"),
            );
        }
        let kinds = self.kinds(spec);
        let tls_spec = spec.tls.as_ref();
        let target = match type_name {
            "syslog" => self.syslog(spanned),
            "mqtt" => self.mqtt(spanned, sensor_id),
            _ => self.nats(spanned),
        };
        let wants_tls = match &target {
            Some(Target::Syslog(s)) => s.transport == SyslogTransport::Tls,
            Some(Target::Mqtt(_)) | Some(Target::Nats(_)) => {
                // mqtts:// and tls:// URLs, or a [sink.tls] table.
                self.url_is_tls(spec) || tls_spec.is_some()
            }
            None => false,
        };
        let tls = match tls_spec {
            Some(t) => Some(self.tls(t)),
            None if wants_tls => {
                self.at(
                    spanned,
                    "a TLS sink needs a [sink.tls] table with `ca` (the certificates to trust)"
                        .into(),
                );
                None
            }
            None => None,
        };
        if let (Some(t), Some(Target::Syslog(s))) = (tls_spec, &target)
            && s.transport != SyslogTransport::Tls
        {
            self.at(
                t,
                "TLS settings on a syslog sink whose URL is not tls://".into(),
            );
        }
        let spool_max_bytes = spec
            .spool_max_mb
            .as_ref()
            .map_or(DEFAULT_SPOOL_MB, |m| *m.get_ref())
            .saturating_mul(1 << 20);
        if let Some(mb) = &spec.spool_max_mb
            && *mb.get_ref() == 0
        {
            self.at(mb, "spool_max_mb must be at least 1".into());
        }
        let timeout = Duration::from_secs(
            spec.timeout_secs
                .as_ref()
                .map_or(DEFAULT_TIMEOUT_SECS, |t| (*t.get_ref()).max(1)),
        );
        if self.errors.len() > before {
            return None;
        }
        Some(Sink {
            name,
            target: target?,
            tls,
            kinds,
            spool_max_bytes,
            timeout,
        })
    }

    fn kinds(&mut self, spec: &SinkSpec) -> Vec<Kind> {
        let Some(records) = &spec.records else {
            return vec![Kind::Alerts, Kind::Assets];
        };
        let mut kinds = Vec::new();
        for name in records.get_ref() {
            match Kind::ALL.iter().find(|k| k.name() == name) {
                Some(kind) if !kinds.contains(kind) => kinds.push(*kind),
                Some(_) => {}
                None => {
                    let at = self.within(records, name);
                    self.error(
                        at,
                        format!("unknown record kind `{name}` (known: alerts, assets, events)"),
                    );
                }
            }
        }
        if kinds.is_empty() && records.get_ref().is_empty() {
            self.at(
                records,
                "`records` is empty: the sink would get nothing".into(),
            );
        }
        kinds
    }

    /// Where `needle` is within a list's span (items share the list's span).
    fn within<T>(&self, list: &Spanned<T>, needle: &str) -> usize {
        let span = list.span();
        let found = self
            .text
            .get(span.clone())
            .and_then(|t| t.find(&format!("\"{needle}\"")).or_else(|| t.find(needle)));
        span.start + found.unwrap_or(0)
    }

    fn url_is_tls(&self, spec: &SinkSpec) -> bool {
        let mut urls: Vec<&str> = Vec::new();
        if let Some(u) = &spec.url {
            urls.push(u.get_ref());
        }
        if let Some(list) = &spec.urls {
            urls.extend(list.get_ref().iter().map(String::as_str));
        }
        urls.iter().any(|u| {
            u.starts_with("mqtts://") || u.starts_with("tls://") || u.starts_with("ssl://")
        })
    }

    /// The URL of a sink, parsed, with its scheme among `schemes` and a host.
    fn url(
        &mut self,
        spanned: &Spanned<SinkSpec>,
        schemes: &[&str],
    ) -> Option<(String, String, Option<u16>)> {
        let Some(url) = &spanned.get_ref().url else {
            self.at(
                spanned,
                format!("sink without `url` ({}://HOST:PORT)", schemes[0]),
            );
            return None;
        };
        self.parse_url(url, url.get_ref(), self.within(url, url.get_ref()), schemes)
    }

    fn parse_url(
        &mut self,
        _spanned: &Spanned<impl Sized>,
        text: &str,
        at: usize,
        schemes: &[&str],
    ) -> Option<(String, String, Option<u16>)> {
        let parsed = match url::Url::parse(text) {
            Ok(u) => u,
            Err(e) => {
                self.error(at, format!("bad URL `{text}`: {e}"));
                return None;
            }
        };
        if !schemes.contains(&parsed.scheme()) {
            self.error(
                at,
                format!(
                    "bad URL `{text}`: scheme `{}` is not one of {}",
                    parsed.scheme(),
                    schemes.join(", ")
                ),
            );
            return None;
        }
        let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
            self.error(at, format!("bad URL `{text}`: no host"));
            return None;
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            self.error(
                at,
                format!("bad URL `{text}`: a sink URL has no path or query"),
            );
            return None;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Some((parsed.scheme().to_string(), host, parsed.port()))
    }

    fn syslog(&mut self, spanned: &Spanned<SinkSpec>) -> Option<Target> {
        let spec = spanned.get_ref();
        let url = self.url(spanned, &["udp", "tcp", "tls"]);
        let format = match spec.format.as_ref().map(|f| (f, f.get_ref().as_str())) {
            None | Some((_, "cef")) => AlertFormat::Cef,
            Some((_, "leef")) => AlertFormat::Leef,
            Some((_, "json")) => AlertFormat::Json,
            Some((f, other)) => {
                self.at(
                    f,
                    format!("unknown syslog format `{other}` (known: cef, leef, json)"),
                );
                AlertFormat::Cef
            }
        };
        let facility = spec.facility.as_ref().map_or(16, |f| *f.get_ref());
        if facility > 23 {
            let f = spec.facility.as_ref().expect("checked");
            self.at(f, format!("syslog facility {facility} is not 0 to 23"));
        }
        let app_name = spec
            .app_name
            .as_ref()
            .map_or_else(|| "otsensor".to_string(), |a| a.get_ref().clone());
        if let Some(a) = &spec.app_name
            && (app_name.is_empty()
                || app_name.len() > 48
                || !app_name.bytes().all(|b| (33..=126).contains(&b)))
        {
            self.at(
                a,
                "app_name must be 1 to 48 printable ASCII characters without spaces (RFC 5424)"
                    .into(),
            );
        }
        let (scheme, host, port) = url?;
        let transport = match scheme.as_str() {
            "udp" => SyslogTransport::Udp,
            "tcp" => SyslogTransport::Tcp,
            _ => SyslogTransport::Tls,
        };
        let default_port = if transport == SyslogTransport::Tls {
            6514
        } else {
            514
        };
        Some(Target::Syslog(Syslog {
            transport,
            host,
            port: port.unwrap_or(default_port),
            format,
            app_name,
            facility: facility.min(23) as u8,
        }))
    }

    fn mqtt(&mut self, spanned: &Spanned<SinkSpec>, sensor_id: &str) -> Option<Target> {
        let spec = spanned.get_ref();
        let url = self.url(spanned, &["mqtt", "mqtts", "tcp", "ssl"]);
        let version = match spec.version.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "3.1.1" | "4")) => MqttVersion::V311,
            Some((_, "5" | "5.0")) => MqttVersion::V5,
            Some((v, other)) => {
                self.at(
                    v,
                    format!("unknown MQTT version `{other}` (known: 3.1.1, 5)"),
                );
                MqttVersion::V311
            }
        };
        let (username, password) = self.credentials(spanned);
        let topic_prefix = self.prefix(spec.topic_prefix.as_ref(), "otsensor", &['/', '+', '#']);
        let qos = spec.qos.as_ref().map_or(1, |q| *q.get_ref());
        if let Some(q) = &spec.qos
            && !(1..=2).contains(&qos)
        {
            self.at(
                q,
                format!("qos {qos} is not 1 or 2 (records are never sent at most once)"),
            );
        }
        let (scheme, host, port) = url?;
        let tls = matches!(scheme.as_str(), "mqtts" | "ssl") || spec.tls.is_some();
        Some(Target::Mqtt(Mqtt {
            host,
            port: port.unwrap_or(if tls { 8883 } else { 1883 }),
            version,
            client_id: spec
                .client_id
                .as_ref()
                .map_or_else(|| format!("otsensor-{sensor_id}"), |c| c.get_ref().clone()),
            username,
            password,
            topic_prefix,
            qos: qos.clamp(1, 2) as u8,
        }))
    }

    fn nats(&mut self, spanned: &Spanned<SinkSpec>) -> Option<Target> {
        let spec = spanned.get_ref();
        let mut urls = Vec::new();
        let schemes = ["nats", "tls"];
        match (&spec.url, &spec.urls) {
            (Some(url), None) => {
                let at = self.within(url, url.get_ref());
                if self.parse_url(url, url.get_ref(), at, &schemes).is_some() {
                    urls.push(url.get_ref().clone());
                }
            }
            (None, Some(list)) if !list.get_ref().is_empty() => {
                for url in list.get_ref() {
                    let at = self.within(list, url);
                    if self.parse_url(list, url, at, &schemes).is_some() {
                        urls.push(url.clone());
                    }
                }
            }
            (Some(url), Some(_)) => {
                self.at(url, "give `url` or `urls`, not both".into());
            }
            _ => {
                self.at(
                    spanned,
                    "sink without `url` (nats://HOST:PORT) or `urls`".into(),
                );
            }
        }
        let stream = spec
            .stream
            .as_ref()
            .map_or_else(|| "OTSENSOR".to_string(), |s| s.get_ref().clone());
        if let Some(s) = &spec.stream
            && (stream.is_empty()
                || !stream
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            self.at(
                s,
                format!("stream name `{stream}` must be letters, digits, `-` or `_`"),
            );
        }
        let replicas = spec.replicas.as_ref().map_or(1, |r| *r.get_ref());
        if let Some(r) = &spec.replicas
            && !(1..=5).contains(&replicas)
        {
            self.at(
                r,
                format!("replicas {replicas} is not 1 to 5 (JetStream's limit)"),
            );
        }
        let subject_prefix = self.prefix(
            spec.subject_prefix.as_ref(),
            "otsensor",
            &['.', '*', '>', ' '],
        );
        let (username, password) = self.credentials(spanned);
        if urls.is_empty() {
            return None;
        }
        Some(Target::Nats(Nats {
            urls,
            stream,
            replicas: replicas.clamp(1, 5) as usize,
            subject_prefix,
            username,
            password,
        }))
    }

    fn credentials(&mut self, spanned: &Spanned<SinkSpec>) -> (Option<String>, Option<String>) {
        let spec = spanned.get_ref();
        let username = spec.username.as_ref().map(|u| u.get_ref().clone());
        let password = spec.password.as_ref().map(|p| p.get_ref().clone());
        if let (None, Some(p)) = (&username, &spec.password) {
            self.at(p, "`password` without `username`".into());
        }
        (username, password)
    }

    fn prefix(&mut self, spec: Option<&Spanned<String>>, default: &str, banned: &[char]) -> String {
        let Some(prefix) = spec else {
            return default.to_string();
        };
        let text = prefix.get_ref();
        if text.is_empty() || text.contains(banned) {
            self.at(
                prefix,
                format!(
                    "prefix `{text}` must be non-empty without any of {}",
                    banned
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            );
        }
        text.clone()
    }

    fn tls(&mut self, spanned: &Spanned<TlsSpec>) -> Tls {
        let spec = spanned.get_ref();
        let mut file = |value: &Option<Spanned<String>>, what: &str| {
            let value = value.as_ref()?;
            let path = self.base.join(value.get_ref());
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => Some(path),
                Ok(_) => {
                    self.at(
                        value,
                        format!("TLS {what} `{}` is not a file", path.display()),
                    );
                    None
                }
                Err(e) => {
                    self.at(
                        value,
                        format!("TLS {what} `{}` cannot be read: {e}", path.display()),
                    );
                    None
                }
            }
        };
        let tls = Tls {
            ca: file(&spec.ca, "CA file"),
            cert: file(&spec.cert, "certificate file"),
            key: file(&spec.key, "key file"),
            server_name: spec.server_name.as_ref().map(|s| s.get_ref().clone()),
        };
        if spec.ca.is_none() {
            self.at(
                spanned,
                "[sink.tls] needs `ca`: the certificates that sign the server's".into(),
            );
        }
        match (&spec.cert, &spec.key) {
            (Some(c), None) => self.at(c, "`cert` without `key`".into()),
            (None, Some(k)) => self.at(k, "`key` without `cert`".into()),
            _ => {}
        }
        tls
    }
}

impl SinkSpec {
    /// The type-specific settings present, with where they are.
    fn specific(&self) -> Vec<(&'static str, usize)> {
        fn at<T>(v: &Option<Spanned<T>>) -> Option<usize> {
            v.as_ref().map(|s| s.span().start)
        }
        [
            ("format", at(&self.format)),
            ("app_name", at(&self.app_name)),
            ("facility", at(&self.facility)),
            ("version", at(&self.version)),
            ("client_id", at(&self.client_id)),
            ("topic_prefix", at(&self.topic_prefix)),
            ("qos", at(&self.qos)),
            ("username", at(&self.username)),
            ("password", at(&self.password)),
            ("stream", at(&self.stream)),
            ("replicas", at(&self.replicas)),
            ("subject_prefix", at(&self.subject_prefix)),
            ("urls", at(&self.urls)),
        ]
        .into_iter()
        .filter_map(|(k, at)| at.map(|a| (k, a)))
        .collect()
    }
}
