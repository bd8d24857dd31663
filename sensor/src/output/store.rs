//! The persistent store (`--db FILE`): the inventory and its history in
//! SQLite, so that replays and live runs against the same file add up to one
//! inventory. Writes happen in one transaction per run, in WAL mode: a crash
//! loses at most the run in progress, never what was committed.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::analysis::inventory::{Change, Host, Inventory, MacInfo, format_mac, parse_mac};
use crate::analysis::policy::baseline::SavedBaseline;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: hosts and MAC bindings as the inventory keeps them, and the history of changes.
    "CREATE TABLE hosts (key TEXT PRIMARY KEY, state TEXT NOT NULL);
     CREATE TABLE macs (mac TEXT PRIMARY KEY, state TEXT NOT NULL);
     CREATE TABLE changes (
         id INTEGER PRIMARY KEY,
         host TEXT NOT NULL,
         kind TEXT NOT NULL,
         ts TEXT NOT NULL,
         packet INTEGER NOT NULL,
         detail TEXT NOT NULL,
         run INTEGER NOT NULL
     );
     CREATE INDEX changes_by_host ON changes (host);
     CREATE TABLE runs (id INTEGER PRIMARY KEY, captures TEXT NOT NULL, packets INTEGER NOT NULL);",
    // 2: the learned baseline (one row, JSON).
    "CREATE TABLE baseline (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{path}: was written by a newer otsensor (schema {found}, this one knows up to {known})"
    )]
    TooNew {
        path: String,
        found: i64,
        known: usize,
    },
    #[error("{path}: corrupt {what}: {reason}")]
    Corrupt {
        path: String,
        what: String,
        reason: String,
    },
}

pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let name = path.display().to_string();
        let sqlite = |source| StoreError::Sqlite {
            path: name.clone(),
            source,
        };
        let mut conn = Connection::open(path).map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sqlite)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                path: name,
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let tx = conn.transaction().map_err(sqlite)?;
        for (n, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration).map_err(sqlite)?;
            tx.pragma_update(None, "user_version", n as i64 + 1)
                .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)?;
        Ok(Store { conn, path: name })
    }

    /// The inventory as it was left by earlier runs.
    pub fn load_inventory(&self) -> Result<Inventory, StoreError> {
        let mut hosts = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT key, state FROM hosts ORDER BY rowid")
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sqlite(e))?;
        for row in rows {
            let (key, state) = row.map_err(|e| self.sqlite(e))?;
            let host: Host =
                serde_json::from_str(&state).map_err(|e| self.corrupt(format!("host {key}"), e))?;
            hosts.push(host);
        }
        let mut macs = Vec::new();
        let mut stmt = self
            .conn
            .prepare("SELECT mac, state FROM macs")
            .map_err(|e| self.sqlite(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sqlite(e))?;
        for row in rows {
            let (mac, state) = row.map_err(|e| self.sqlite(e))?;
            let address =
                parse_mac(&mac).ok_or_else(|| self.corrupt("MAC address".into(), &mac))?;
            let info: MacInfo =
                serde_json::from_str(&state).map_err(|e| self.corrupt(format!("MAC {mac}"), e))?;
            macs.push((address, info));
        }
        Ok(Inventory::restore(hosts, macs))
    }

    /// Saves the inventory and this run's changes, in one transaction.
    pub fn save(
        &mut self,
        inventory: &Inventory,
        changes: &[Change],
        captures: &[String],
        packets: u64,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sqlite = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sqlite)?;
        tx.execute(
            "INSERT INTO runs (captures, packets) VALUES (?1, ?2)",
            params![captures.join("\n"), packets as i64],
        )
        .map_err(sqlite)?;
        let run = tx.last_insert_rowid();
        let (hosts, macs) = inventory.snapshot();
        {
            let mut upsert = tx
                .prepare("INSERT INTO hosts (key, state) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET state = ?2")
                .map_err(sqlite)?;
            for host in hosts {
                let state = serde_json::to_string(host).expect("hosts serialise");
                upsert
                    .execute(params![host.key().to_string(), state])
                    .map_err(sqlite)?;
            }
            let mut upsert = tx
                .prepare("INSERT INTO macs (mac, state) VALUES (?1, ?2) ON CONFLICT (mac) DO UPDATE SET state = ?2")
                .map_err(sqlite)?;
            for (mac, info) in macs {
                let state = serde_json::to_string(info).expect("MAC bindings serialise");
                upsert
                    .execute(params![format_mac(&mac), state])
                    .map_err(sqlite)?;
            }
            let mut insert = tx
                .prepare("INSERT INTO changes (host, kind, ts, packet, detail, run) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(sqlite)?;
            for change in changes {
                let kind = serde_json::to_value(change.kind).expect("kinds serialise");
                insert
                    .execute(params![
                        change.host.to_string(),
                        kind.as_str().unwrap_or_default(),
                        change.seen.ts.to_string(),
                        change.seen.packet as i64,
                        change.detail,
                        run
                    ])
                    .map_err(sqlite)?;
            }
        }
        tx.commit().map_err(sqlite)
    }

    /// The baseline learned by earlier runs, if any.
    pub fn load_baseline(&self) -> Result<Option<SavedBaseline>, StoreError> {
        let state: Option<String> = self
            .conn
            .query_row("SELECT state FROM baseline WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(e))?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| self.corrupt("baseline".into(), e)))
            .transpose()
    }

    /// Keeps `baseline` in place of the one stored.
    pub fn save_baseline(&mut self, baseline: &SavedBaseline) -> Result<(), StoreError> {
        let state = serde_json::to_string(baseline).expect("baselines serialise");
        self.conn
            .execute(
                "INSERT INTO baseline (id, state) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET state = ?1",
                params![state],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }

    /// Runs recorded so far.
    pub fn runs(&self) -> Result<u64, StoreError> {
        let count: Option<i64> = self
            .conn
            .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite(e))?;
        Ok(count.unwrap_or(0) as u64)
    }

    fn sqlite(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, what: String, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            what,
            reason: reason.to_string(),
        }
    }
}
