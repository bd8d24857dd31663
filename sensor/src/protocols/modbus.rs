//! Modbus/TCP (MBAP + PDU). STUB: being written; the signatures are the contract.

use super::{Direction, Emitter, Probe, StreamParser};
use crate::event::{Value, Visitor};

pub const PORT: u16 = 502;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModbusFields {
    pub transaction_id: u16,
    pub unit_id: u8,
}

impl ModbusFields {
    pub fn visit(&self, v: &mut dyn Visitor) {
        v.field("transaction_id", Value::U64(self.transaction_id.into()));
        v.field("unit_id", Value::U64(self.unit_id.into()));
    }
}

pub fn probe(data: &[u8], _direction: Direction, _on_known_port: bool) -> Probe {
    if data.len() < 8 {
        return Probe::NeedMore;
    }
    if data[2] == 0 && data[3] == 0 {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

#[derive(Debug, Default)]
pub struct ModbusParser {}

impl ModbusParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl StreamParser for ModbusParser {
    fn parse(&mut self, data: &[u8], _out: &mut Emitter<'_>) -> usize {
        data.len()
    }
    fn gap(&mut self, _dir: Direction) {}
}
