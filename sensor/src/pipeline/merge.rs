//! Putting the workers' events back into packet order without moving them:
//! each worker's events stay in its own vector, and an index says in which
//! order to read them.

use crate::event::Event;

/// One epoch's events from every worker, readable in packet order.
#[derive(Default)]
pub struct EpochEvents {
    runs: Vec<Vec<Event>>,
    /// `(run << 32) | index` in packet order; empty when the runs, read one
    /// after the other, already are in packet order.
    order: Vec<u64>,
}

impl EpochEvents {
    /// Takes one run of events per worker, each mostly in packet order.
    pub fn new(runs: Vec<Vec<Event>>) -> EpochEvents {
        let mut order = Vec::new();
        if !in_packet_order(&runs) {
            // Sort by (packet, run, position): unique keys, so the order is fully determined.
            let mut keys: Vec<(u64, u64)> = runs
                .iter()
                .enumerate()
                .flat_map(|(r, run)| {
                    run.iter()
                        .enumerate()
                        .map(move |(i, e)| (e.header.seq, (r as u64) << 32 | i as u64))
                })
                .collect();
            keys.sort_unstable();
            order = keys.into_iter().map(|(_, at)| at).collect();
        }
        EpochEvents { runs, order }
    }

    pub fn len(&self) -> usize {
        self.runs.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(Vec::is_empty)
    }

    /// The events in packet order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            epoch: self,
            next: 0,
            run: 0,
        }
    }

    /// Visits the events in packet order, mutably (for analysis that
    /// annotates events with what it learnt from earlier ones).
    pub fn for_each_mut(&mut self, mut visit: impl FnMut(&mut Event)) {
        if self.order.is_empty() {
            self.runs.iter_mut().flatten().for_each(visit);
            return;
        }
        for &at in &self.order {
            visit(&mut self.runs[(at >> 32) as usize][(at & 0xffff_ffff) as usize]);
        }
    }

    /// Gives the vectors back, for reuse.
    pub fn into_runs(self) -> Vec<Vec<Event>> {
        self.runs
    }
}

/// Whether the runs, read one after the other, are in packet order (a plain
/// loop over each run's slice: this runs for every event).
fn in_packet_order(runs: &[Vec<Event>]) -> bool {
    let mut last = 0;
    for run in runs {
        for event in run {
            if event.header.seq < last {
                return false;
            }
            last = event.header.seq;
        }
    }
    true
}

/// Events of an epoch in packet order.
pub struct Iter<'a> {
    epoch: &'a EpochEvents,
    /// Position in `order`, or in the current run when there is no order.
    next: usize,
    run: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Event;

    fn next(&mut self) -> Option<&'a Event> {
        let epoch = self.epoch;
        if !epoch.order.is_empty() {
            let at = *epoch.order.get(self.next)?;
            self.next += 1;
            return Some(&epoch.runs[(at >> 32) as usize][(at & 0xffff_ffff) as usize]);
        }
        loop {
            let run = epoch.runs.get(self.run)?;
            if let Some(event) = run.get(self.next) {
                self.next += 1;
                return Some(event);
            }
            self.run += 1;
            self.next = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, function: &'static str) -> Event {
        let end = std::net::IpAddr::from([10, 0, 0, 1]);
        let mut event = Event::modbus_read_request(seq, end, end);
        event.pdu.function = function;
        event
    }

    fn read(epoch: &EpochEvents) -> Vec<(u64, &'static str)> {
        epoch
            .iter()
            .map(|e| (e.header.seq, e.pdu.function))
            .collect()
    }

    #[test]
    fn runs_are_interleaved_by_packet() {
        let epoch = EpochEvents::new(vec![
            vec![event(1, "a"), event(4, "d"), event(4, "e")],
            vec![event(2, "b"), event(3, "c"), event(9, "f")],
        ]);
        assert_eq!(
            read(&epoch),
            [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (4, "e"), (9, "f")]
        );
        assert_eq!(epoch.len(), 6);
    }

    #[test]
    fn events_released_late_within_a_run_are_put_back_in_place() {
        let epoch = EpochEvents::new(vec![
            vec![event(5, "late"), event(7, "x")],
            vec![event(2, "y")],
        ]);
        assert_eq!(read(&epoch), [(2, "y"), (5, "late"), (7, "x")]);
    }

    #[test]
    fn events_are_visited_mutably_in_packet_order() {
        let mut epoch = EpochEvents::new(vec![
            vec![event(1, "a"), event(4, "d")],
            vec![event(2, "b")],
        ]);
        let mut seen = Vec::new();
        epoch.for_each_mut(|e| {
            seen.push(e.header.seq);
            e.header.flow = e.header.seq * 10;
        });
        assert_eq!(seen, [1, 2, 4]);
        assert_eq!(
            epoch.iter().map(|e| e.header.flow).collect::<Vec<_>>(),
            [10, 20, 40]
        );
    }

    #[test]
    fn runs_already_in_order_are_read_as_they_are() {
        let epoch = EpochEvents::new(vec![vec![event(1, "a")], vec![], vec![event(2, "b")]]);
        assert!(epoch.order.is_empty());
        assert_eq!(read(&epoch), [(1, "a"), (2, "b")]);
        assert!(EpochEvents::new(vec![vec![], vec![]]).is_empty());
    }
}
