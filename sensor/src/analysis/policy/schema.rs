//! What policy files say, as written (TOML), with the position of every value
//! that can be wrong so that errors point at it. `docs/rules.md` documents it.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One policy file: any of zones, conduits and rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    #[serde(default)]
    pub zone: Vec<ZoneSpec>,
    #[serde(default)]
    pub conduit: Vec<ConduitSpec>,
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    pub prefilter: Option<PrefilterSpec>,
    #[serde(default)]
    pub asset: Vec<AssetSpec>,
}

/// What the live prefilter must pass beyond the decoders' registered ports.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefilterSpec {
    /// `"tcp/5020=modbus"`, `"udp/20001"`.
    #[serde(default)]
    pub pass_ports: Vec<Spanned<String>>,
}

/// Tags the plant gives an asset, by its IP or MAC address, for conduit
/// writers (`tag:NAME`) and the inventory's output.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetSpec {
    pub ip: Option<Spanned<String>>,
    pub mac: Option<Spanned<String>>,
    pub tags: Spanned<Vec<Spanned<String>>>,
}

/// A security zone (IEC 62443-3-2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    pub macs: Vec<Spanned<String>>,
    /// Target security level, SL-T 1–4.
    pub security_level: Spanned<i64>,
    pub purdue_level: Option<Spanned<i64>>,
}

/// A conduit between two zones and what may cross it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConduitSpec {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub zones: Spanned<Vec<Spanned<String>>>,
    /// The zone whose assets may open connections, or `"either"` (the default).
    pub initiator: Option<Spanned<String>>,
    #[serde(default)]
    pub allow: Vec<AllowSpec>,
}

/// One permitted kind of traffic on a conduit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    pub protocols: Vec<Spanned<String>>,
    /// Function classes allowed (all when absent).
    pub classes: Option<Vec<Spanned<String>>>,
    /// Function codes allowed (all of the classes' when absent).
    pub function_codes: Option<Vec<Spanned<i64>>>,
    /// Who may send write, control, program and firmware requests: IP
    /// addresses, CIDRs, `role:NAME` or `tag:NAME`. Anyone when absent.
    pub writers: Option<Vec<Spanned<String>>>,
}

/// A detection rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub title: Option<Spanned<String>>,
    #[serde(default)]
    pub description: String,
    pub severity: Option<Spanned<String>>,
    /// `false` switches off a rule of the same id loaded earlier (e.g. a default one).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What the rule looks at: `"event"` (the default), `"flow"` or `"asset_change"`.
    pub on: Option<Spanned<String>>,
    #[serde(rename = "match", default)]
    pub matches: MatchSpec,
    /// Exceptions: the rule does not fire when any of these matches.
    pub unless: Option<Unless>,
    /// A match is held for `clear_within` and dropped if an event between the
    /// same two hosts matches this (e.g. unsolicited reporting enabled again).
    pub cleared_by: Option<MatchSpec>,
    pub clear_within: Option<Spanned<String>>,
    /// What one alert stands for: `"function"` (source, destination and
    /// function; the default), `"pair"`, `"src"` or `"dst"`.
    pub alert_per: Option<Spanned<String>>,
    pub threshold: Option<ThresholdSpec>,
    #[serde(default)]
    pub iec62443: Vec<Spanned<String>>,
    #[serde(default)]
    pub mitre: Vec<Spanned<String>>,
}

fn yes() -> bool {
    true
}

/// One exception, or several.
#[derive(Debug)]
pub struct Unless(Vec<MatchSpec>);

impl<'de> Deserialize<'de> for Unless {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // By hand rather than untagged, so that the positions inside survive.
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = Unless;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of conditions or a list of them")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<Unless, M::Error> {
                MatchSpec::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|one| Unless(vec![one]))
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(
                self,
                mut seq: S,
            ) -> Result<Unless, S::Error> {
                let mut all = Vec::new();
                while let Some(one) = seq.next_element::<MatchSpec>()? {
                    all.push(one);
                }
                Ok(Unless(all))
            }
        }
        deserializer.deserialize_any(Either)
    }
}

impl Unless {
    pub fn items(&self) -> &[MatchSpec] {
        &self.0
    }
}

/// Conditions on an event (all must hold). Lists mean "any of".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    pub protocol: Option<OneOrMany<String>>,
    pub function: Option<OneOrMany<String>>,
    pub function_code: Option<OneOrMany<i64>>,
    pub class: Option<OneOrMany<String>>,
    pub is_response: Option<bool>,
    /// Anomaly names, or `"any"`.
    pub anomaly: Option<OneOrMany<String>>,
    /// IP addresses or CIDRs.
    pub src: Option<OneOrMany<String>>,
    pub dst: Option<OneOrMany<String>>,
    /// The server port (TCP or UDP).
    pub dst_port: Option<OneOrMany<i64>>,
    /// Zone names, or `"untrusted"` for addresses outside every zone.
    pub src_zone: Option<OneOrMany<String>>,
    pub dst_zone: Option<OneOrMany<String>>,
    /// Asset roles (`plc`, `hmi`, `engineering_workstation`…).
    pub src_role: Option<OneOrMany<String>>,
    pub dst_role: Option<OneOrMany<String>>,
    /// The event crosses from one zone to another.
    pub cross_zone: Option<bool>,
    /// The event carries a credential (password, community string, token) in the clear.
    pub credentials: Option<bool>,
    /// Protocol-specific fields and the values they must have.
    pub fields: Option<BTreeMap<String, Spanned<toml::Value>>>,
    /// For `on = "asset_change"` rules: change kinds.
    pub change: Option<OneOrMany<String>>,
}

impl MatchSpec {
    /// Whether it puts conditions that only an event's PDU can meet.
    pub fn about_pdus(&self) -> bool {
        self.protocol.is_some()
            || self.function.is_some()
            || self.function_code.is_some()
            || self.class.is_some()
            || self.is_response.is_some()
            || self.anomaly.is_some()
            || self.credentials.is_some()
            || self.fields.is_some()
    }
}

/// Alert only when the match happens `count` times (or, with `distinct`,
/// for `count` different values) within `window`, per `by`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    pub count: Spanned<i64>,
    /// `"30s"`, `"5m"`, `"1h"`.
    pub window: Spanned<String>,
    /// `"src"` (the default), `"dst"`, `"pair"`, `"flow"` or `"conduit"`.
    pub by: Option<Spanned<String>>,
    /// Count different values of: `"dst"`, `"dst_port"`, `"function_code"`, or a protocol field (`"unit_id"`).
    pub distinct: Option<Spanned<String>>,
}

/// A value or a list of values. Items of a list carry the list's position
/// (the loader narrows it down to the item when it reports one).
#[derive(Debug)]
pub struct OneOrMany<T>(Vec<Spanned<T>>);

impl<T> OneOrMany<T> {
    pub fn items(&self) -> Vec<&Spanned<T>> {
        self.0.iter().collect()
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Spans do not survive untagged enums, so take the value with its
        // span first and read the items out of it.
        let value = Spanned::<toml::Value>::deserialize(deserializer)?;
        let span = value.span();
        let items = match value.into_inner() {
            toml::Value::Array(items) => items,
            one => vec![one],
        };
        items
            .into_iter()
            .map(|item| {
                T::deserialize(item)
                    .map(|v| Spanned::new(span.clone(), v))
                    .map_err(serde::de::Error::custom)
            })
            .collect::<Result<_, _>>()
            .map(OneOrMany)
    }
}
