//! The terminal dashboard (ratatui): a read-only view of what the sensor
//! sees. The analysis thread publishes [`Snapshot`]s at a fixed rate over a
//! bounded channel that drops the oldest when the UI lags ([`publish`]), so
//! a slow terminal never slows the sensor; the UI thread owns the [`App`]
//! state and draws it (`impl Widget for &App`, one module per tab).

pub mod app;
pub mod conduits;
pub mod marks;
pub mod publish;
pub mod snapshot;
pub mod terminal;
pub mod theme;
pub mod view;

pub use app::{App, Tab};
pub use marks::{MarkStore, Marks};
pub use publish::{Cadence, Counters, SnapshotPublisher, Update, channel};
pub use snapshot::{Phase, Snapshot};
pub use terminal::{Exit, run};
pub use theme::Theme;
