//! Consistency checks and row counts, for tests and the kill-9 test: the
//! invariants every committed ingest keeps.

use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::placement::counts;
use crate::query::store::LATEST_FIRST;
use crate::schema;

impl Fleet {
    /// Checks the invariants every committed ingest keeps; returns what
    /// breaks them (empty: consistent). Each snapshot has exactly its
    /// `function_count` function rows and (schema 2) one device row per
    /// device; (schema 3) `placement` holds what the latest snapshots
    /// give; each host's latest snapshot is its newest.
    pub fn verify(&mut self) -> Result<Vec<String>, FleetError> {
        let mut problems = Vec::new();
        for r in self
            .db
            .query(
                "SELECT s.id AS id, s.function_count AS want,
                        (SELECT COUNT(*) FROM functions f WHERE f.snapshot_id = s.id) AS have
                 FROM snapshots s",
                &[],
            )?
            .iter()
        {
            if r.int("want")? != r.int("have")? {
                problems.push(format!(
                    "snapshot {} has {} of its {} functions",
                    r.int("id")?,
                    r.int("have")?,
                    r.int("want")?
                ));
            }
        }
        if self.version >= 2 {
            self.verify_units(&mut problems)?;
        }
        if self.version >= 3 {
            self.verify_placement(&mut problems)?;
        }
        self.verify_latest(&mut problems)?;
        Ok(problems)
    }

    fn verify_units(&mut self, problems: &mut Vec<String>) -> Result<(), FleetError> {
        for r in self
            .db
            .query(
                "SELECT s.id AS id,
                        (SELECT COUNT(DISTINCT f.device_key) FROM functions f WHERE f.snapshot_id = s.id) AS want,
                        (SELECT COUNT(*) FROM device_units u WHERE u.snapshot_id = s.id) AS have
                 FROM snapshots s",
                &[],
            )?
            .iter()
        {
            if r.int("want")? != r.int("have")? {
                problems.push(format!(
                    "snapshot {} has {} device rows for {} devices",
                    r.int("id")?,
                    r.int("have")?,
                    r.int("want")?
                ));
            }
        }
        Ok(())
    }

    fn count(&mut self, sql: &str) -> Result<i64, FleetError> {
        self.db
            .query(sql, &[])?
            .first()
            .map_or(Ok(0), |r| r.int("n"))
    }

    fn verify_placement(&mut self, problems: &mut Vec<String>) -> Result<(), FleetError> {
        let want = self.count(&format!(
            "SELECT COUNT(*) AS n FROM ({}) x",
            schema::placement_select("")
        ))?;
        let have = self.count("SELECT COUNT(*) AS n FROM placement")?;
        if want != have {
            problems.push(format!(
                "placement has {have} rows, the latest snapshots give {want}"
            ));
        }
        if self.version >= 6 {
            self.verify_counts(problems)?;
        }
        Ok(())
    }

    /// `placement_counts` holds exactly the rows `placement` gives (the
    /// device lists compared through their counts).
    fn verify_counts(&mut self, problems: &mut Vec<String>) -> Result<(), FleetError> {
        let cols = "vendor, device, n, host_name, host_id, taken_at, vms_known";
        let derived = format!(
            "SELECT {cols} FROM ({}) x",
            counts::select(self.db.dialect(), false)
        );
        let stored = format!("SELECT {cols} FROM placement_counts");
        let extra = self.count(&format!(
            "SELECT COUNT(*) AS n FROM ({stored} EXCEPT {derived}) d"
        ))?;
        let missing = self.count(&format!(
            "SELECT COUNT(*) AS n FROM ({derived} EXCEPT {stored}) d"
        ))?;
        if extra + missing > 0 {
            problems.push(format!(
                "placement_counts has {extra} rows placement does not give, and lacks {missing}"
            ));
        }
        Ok(())
    }

    fn verify_latest(&mut self, problems: &mut Vec<String>) -> Result<(), FleetError> {
        let sql = format!(
            "SELECT h.name AS name, h.latest_snapshot AS latest,
                    (SELECT s.id FROM snapshots s WHERE s.host_id = h.id {LATEST_FIRST} LIMIT 1) AS newest
             FROM hosts h"
        );
        for r in self.db.query(&sql, &[])?.iter() {
            let (latest, newest) = (r.opt_int("latest")?, r.opt_int("newest")?);
            if latest != newest {
                problems.push(format!(
                    "host {} points at snapshot {latest:?}, its newest is {newest:?}",
                    r.text("name")?
                ));
            }
        }
        Ok(())
    }

    /// Row counts per table, for tests and `fleet stats`-like checks.
    pub fn table_counts(&mut self) -> Result<Vec<(String, i64)>, FleetError> {
        let mut out = Vec::new();
        let mut tables = vec!["hosts", "snapshots", "functions"];
        if self.version >= 2 {
            tables.push("device_units");
        }
        if self.version >= 3 {
            tables.push("placement");
        }
        if self.version >= 6 {
            tables.push("placement_counts");
        }
        for t in tables {
            let n = self.count(&format!("SELECT COUNT(*) AS n FROM {t}"))?;
            out.push((t.to_string(), n));
        }
        Ok(out)
    }
}
