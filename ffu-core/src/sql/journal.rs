//! The journal: a progress ledger that lets an upgrade stopped at any point resume with no
//! step done twice and none lost.
//!
//! Three tables, created by [`journal_ddl`]:
//! - `ffu_run` (`run_id`, `checksum`, `created`): the run and the checksum of its plan
//!   (FNV-1a 64 of the plan's compact JSON, see [`plan_checksum`]);
//! - `ffu_step` (`run_id`, `step_id`, `position`, `state`, `attempts`, `host`, `started_at`,
//!   `finished_at`): one row per plan step; `state` is `pending`, `running`, `done` or
//!   `failed`; times are Unix milliseconds;
//! - `ffu_lock` (`lock_id`, `owner`, `expires_at`): the runner that holds the journal;
//!
//! and, beside them (created when the journal opens, so older journals gain them),
//! `ffu_step_error` (`run_id`, `step_id`, `message`): a failed step's error text (see
//! `journal/runner.rs`); and `ffu_plan` (`run_id`, `document`): the plan's compact JSON, so
//! that a runner needs only the database ([`Journal::open_stored`], [`Journal::plan`]). A
//! journal made before `ffu_plan` existed gains its plan the next time it is opened with
//! the plan.
//!
//! Every transition is one transaction (`BEGIN IMMEDIATE` on SQLite), so a runner killed
//! at any instant leaves the journal as it was before or after the transition, never in
//! between.
//!
//! **Contract of steps**: a step found `running` when a runner asks for the next one was
//! interrupted (its runner died, or was killed, during the step); [`Journal::next`] gives
//! it again, with one more attempt. Steps must therefore be idempotent or resumable, which
//! is what `db sync` (alembic and sqlalchemy-migrate only apply what is missing) and
//! `online_data_migrations` (batches until nothing is left) guarantee.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_query::{
    ColumnDef, DeleteStatement, Expr, ExprTrait, Index, InsertStatement, LockType,
    MysqlQueryBuilder, Order, PostgresQueryBuilder, Query, SelectStatement, SqliteQueryBuilder,
    Table, TableCreateStatement, UpdateStatement,
};

use super::{
    execute, fnv1a64, query, transaction, Backend, Connection, SqlValue, SqliteConnection,
};
use crate::error::{Error, Result};
use crate::plan::Plan;

mod runner;
pub use runner::Start;

const RUN: &str = "ffu_run";
pub(super) const STEP: &str = "ffu_step";
const LOCK: &str = "ffu_lock";
const PLAN: &str = "ffu_plan";
/// The journal holds one run; its id.
const RUN_ID: i64 = 1;
/// The one lock row.
const LOCK_ID: i64 = 1;

/// The state of a step in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepState {
    /// Not started.
    Pending,
    /// Started and not finished (or its runner died during it).
    Running,
    /// Finished successfully.
    Done,
    /// Finished with a failure; [`Journal::next`] gives it again.
    Failed,
}

impl StepState {
    /// The state's name as stored: `pending`, `running`, `done`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<StepState> {
        Some(match text {
            "pending" => StepState::Pending,
            "running" => StepState::Running,
            "done" => StepState::Done,
            "failed" => StepState::Failed,
            _ => return None,
        })
    }
}

/// How many steps are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Not started.
    pub pending: usize,
    /// Started, not finished.
    pub running: usize,
    /// Finished.
    pub done: usize,
    /// Failed.
    pub failed: usize,
}

impl Counts {
    /// The counts of `steps`.
    pub fn of(steps: &[StepRecord]) -> Counts {
        let mut counts = Counts::default();
        for step in steps {
            match step.state {
                StepState::Pending => counts.pending += 1,
                StepState::Running => counts.running += 1,
                StepState::Done => counts.done += 1,
                StepState::Failed => counts.failed += 1,
            }
        }
        counts
    }

    /// All steps.
    pub fn total(&self) -> usize {
        self.pending + self.running + self.done + self.failed
    }
}

/// One step's row of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepRecord {
    /// The plan step's id.
    pub id: String,
    /// Its position in the plan, from 0.
    pub position: usize,
    /// Its state.
    pub state: StepState,
    /// How many times [`Journal::next`] has given it.
    pub attempts: u32,
    /// The host it runs on, for plans per host.
    pub host: Option<String>,
    /// When its last attempt started (Unix milliseconds).
    pub started_at: Option<i64>,
    /// When it finished (Unix milliseconds).
    pub finished_at: Option<i64>,
}

/// The plan's checksum: FNV-1a 64 of its compact JSON ([`Plan::to_json`]), as 16 hex digits.
pub fn plan_checksum(plan: &Plan) -> String {
    format!("{:016x}", fnv1a64(plan.to_json().as_bytes()))
}

fn tables(backend: Backend) -> [TableCreateStatement; 3] {
    let mut step_id = ColumnDef::new("step_id");
    if backend == Backend::Mysql {
        // MySQL compares text case- and accent-insensitively by default, and ignores
        // trailing spaces even in binary collations (PAD SPACE); step ids are compared
        // byte for byte ("Step", "step" and "step " are three steps). VARBINARY compares
        // bytes; 1,020 bytes hold 255 characters of UTF-8. Drivers return it as bytes.
        step_id.custom(sea_query::Alias::new("varbinary(1020)"));
    } else {
        step_id.string_len(255);
    }
    step_id.not_null();
    [
        Table::create()
            .table(RUN)
            .if_not_exists()
            .col(
                ColumnDef::new("run_id")
                    .big_integer()
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new("checksum").string_len(64).not_null())
            .col(ColumnDef::new("created").big_integer().not_null())
            .to_owned(),
        Table::create()
            .table(STEP)
            .if_not_exists()
            .col(ColumnDef::new("run_id").big_integer().not_null())
            .col(step_id)
            .col(ColumnDef::new("position").integer().not_null())
            .col(ColumnDef::new("state").string_len(16).not_null())
            .col(ColumnDef::new("attempts").integer().not_null().default(0))
            .col(ColumnDef::new("host").string_len(255).null())
            .col(ColumnDef::new("started_at").big_integer().null())
            .col(ColumnDef::new("finished_at").big_integer().null())
            .primary_key(Index::create().col("run_id").col("step_id"))
            .index(
                Index::create()
                    .name("ffu_step_position")
                    .unique()
                    .col("run_id")
                    .col("position"),
            )
            .to_owned(),
        Table::create()
            .table(LOCK)
            .if_not_exists()
            .col(ColumnDef::new("lock_id").integer().not_null().primary_key())
            .col(ColumnDef::new("owner").string_len(255).not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .to_owned(),
    ]
}

/// The journal's DDL for `backend`: `CREATE TABLE IF NOT EXISTS` for `ffu_run`, `ffu_step`
/// and `ffu_lock`.
///
/// Then the index that finds the next step without reading the steps already done
/// (`CREATE INDEX IF NOT EXISTS`; MySQL has no `IF NOT EXISTS` there, so its form fails,
/// harmlessly, when the index exists).
pub(crate) fn journal_ddl(backend: Backend) -> Vec<String> {
    let mut index = Index::create()
        .name("ffu_step_state")
        .table(STEP)
        .col("run_id")
        .col("state")
        .col("position")
        .to_owned();
    if backend != Backend::Mysql {
        index.if_not_exists();
    }
    let mut ddl: Vec<String> = tables(backend)
        .iter()
        .map(|table| match backend {
            Backend::Sqlite => table.to_string(SqliteQueryBuilder),
            Backend::Postgres => table.to_string(PostgresQueryBuilder),
            Backend::Mysql => table.to_string(MysqlQueryBuilder),
        })
        .collect();
    ddl.push(match backend {
        Backend::Sqlite => index.to_string(SqliteQueryBuilder),
        Backend::Postgres => index.to_string(PostgresQueryBuilder),
        Backend::Mysql => index.to_string(MysqlQueryBuilder),
    });
    ddl
}

/// The journal's statements (besides the DDL) for `backend`, with placeholders for their
/// values, each with its name: what [`Journal`] executes through a [`Connection`], in one
/// transaction per transition (`next` = `lock_run`, `select_lock`, `delete_lock`,
/// `select_first_in_state` for running, then pending and failed when nothing runs,
/// `claim_step`, `insert_lock`;
/// `done`/`fail` = `lock_run`, `select_step_state`, `finish_step`, `delete_lock`).
///
/// Only the tests read them (to pin the SQL per backend); the journal builds each statement
/// where it runs it.
#[cfg(test)]
fn journal_statements(backend: Backend) -> Vec<(&'static str, String)> {
    vec![
        ("select_run", backend.build(&select_run()).0),
        ("lock_run", backend.build(&lock_run_for(backend)).0),
        ("insert_run", backend.build(&insert_run("", 0)).0),
        (
            "insert_step",
            backend.build(&insert_steps(&[(0, "", None)])).0,
        ),
        ("select_lock", backend.build(&select_lock()).0),
        ("delete_lock", backend.build(&delete_lock()).0),
        ("insert_lock", backend.build(&insert_lock("", 0)).0),
        ("select_first_in_state", backend.build(&first_in("")).0),
        ("claim_step", backend.build(&claim("", 0)).0),
        ("select_step_state", backend.build(&select_state("")).0),
        (
            "finish_step",
            backend.build(&finish_step("", StepState::Done, 0)).0,
        ),
        ("select_steps", backend.build(&select_steps()).0),
    ]
}

fn select_run() -> SelectStatement {
    Query::select()
        .column("checksum")
        .from(RUN)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .to_owned()
}

fn insert_run(checksum: &str, now: i64) -> InsertStatement {
    Query::insert()
        .into_table(RUN)
        .columns(["run_id", "checksum", "created"])
        .values_panic([RUN_ID.into(), checksum.into(), now.into()])
        .to_owned()
}

/// One insert of several steps: (position, id, host).
fn insert_steps(steps: &[(i64, &str, Option<&str>)]) -> InsertStatement {
    let mut insert = Query::insert()
        .into_table(STEP)
        .columns(["run_id", "step_id", "position", "state", "attempts", "host"])
        .to_owned();
    for (position, id, host) in steps {
        insert.values_panic([
            RUN_ID.into(),
            (*id).into(),
            (*position).into(),
            StepState::Pending.as_str().into(),
            0i64.into(),
            host.map(str::to_owned).into(),
        ]);
    }
    insert
}

/// `CREATE TABLE IF NOT EXISTS ffu_plan`: the plan's compact JSON, one row per run.
fn plan_table_ddl(backend: Backend) -> String {
    let mut document = ColumnDef::new("document");
    if backend == Backend::Mysql {
        // MySQL's TEXT holds 64 KiB; a plan of many hosts is megabytes.
        document.custom(sea_query::Alias::new("longtext"));
    } else {
        document.text();
    }
    document.not_null();
    let table = Table::create()
        .table(PLAN)
        .if_not_exists()
        .col(
            ColumnDef::new("run_id")
                .big_integer()
                .not_null()
                .primary_key(),
        )
        .col(document)
        .to_owned();
    match backend {
        Backend::Sqlite => table.to_string(SqliteQueryBuilder),
        Backend::Postgres => table.to_string(PostgresQueryBuilder),
        Backend::Mysql => table.to_string(MysqlQueryBuilder),
    }
}

fn select_plan() -> SelectStatement {
    Query::select()
        .column("document")
        .from(PLAN)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .to_owned()
}

fn insert_plan(document: &str) -> InsertStatement {
    Query::insert()
        .into_table(PLAN)
        .columns(["run_id", "document"])
        .values_panic([RUN_ID.into(), document.into()])
        .to_owned()
}

fn delete_plan() -> DeleteStatement {
    Query::delete()
        .from_table(PLAN)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .to_owned()
}

fn select_lock() -> SelectStatement {
    Query::select()
        .columns(["owner", "expires_at"])
        .from(LOCK)
        .and_where(Expr::col("lock_id").eq(LOCK_ID))
        .to_owned()
}

fn delete_lock() -> DeleteStatement {
    Query::delete()
        .from_table(LOCK)
        .and_where(Expr::col("lock_id").eq(LOCK_ID))
        .to_owned()
}

fn insert_lock(owner: &str, expires_at: i64) -> InsertStatement {
    Query::insert()
        .into_table(LOCK)
        .columns(["lock_id", "owner", "expires_at"])
        .values_panic([LOCK_ID.into(), owner.into(), expires_at.into()])
        .to_owned()
}

/// The first step in plan order in `state`.
///
/// One state per query, so that the `(run_id, state, position)` index answers it at once:
/// with `state IN (...)` SQLite walks the steps in position order instead, past every step
/// already done, which made each transition cost in proportion to the steps done.
fn first_in(state: &str) -> SelectStatement {
    Query::select()
        .columns(["step_id", "position", "attempts"])
        .from(STEP)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .and_where(Expr::col("state").eq(state))
        .order_by("position", Order::Asc)
        .limit(1)
        .to_owned()
}

fn select_state(step: &str) -> SelectStatement {
    Query::select()
        .column("state")
        .from(STEP)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .and_where(Expr::col("step_id").eq(step))
        .to_owned()
}

fn finish_step(step: &str, to: StepState, now: i64) -> UpdateStatement {
    Query::update()
        .table(STEP)
        .value("state", to.as_str())
        .value("finished_at", now)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .and_where(Expr::col("step_id").eq(step))
        .to_owned()
}

fn select_steps() -> SelectStatement {
    Query::select()
        .columns([
            "step_id",
            "position",
            "state",
            "attempts",
            "host",
            "started_at",
            "finished_at",
        ])
        .from(STEP)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .order_by("position", Order::Asc)
        .to_owned()
}

fn claim(step: &str, now: i64) -> UpdateStatement {
    Query::update()
        .table(STEP)
        .value("state", StepState::Running.as_str())
        .value("attempts", Expr::col("attempts").add(1))
        .value("started_at", now)
        .value("finished_at", Option::<i64>::None)
        .and_where(Expr::col("run_id").eq(RUN_ID))
        .and_where(Expr::col("step_id").eq(step))
        .to_owned()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The run's row, locked for the rest of the transaction on PostgreSQL and MySQL: every
/// transition takes it first, so that transitions of two runners happen one after the
/// other (SQLite's `BEGIN IMMEDIATE` does the same for the whole file).
fn lock_run() -> SelectStatement {
    select_run().lock(LockType::Update).to_owned()
}

/// Reads the one value of the first row of `rows` as text.
fn text(rows: &[Vec<SqlValue>], column: usize) -> Option<&str> {
    rows.first()?.get(column)?.as_str()
}

/// A journal for one plan, on any [`Connection`]: the embedded SQLite by default
/// ([`Journal::open_sqlite`]), or a connection of the caller's ([`Journal::open`]).
pub struct Journal {
    conn: Box<dyn Connection + Send>,
    checksum: String,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("target", &self.conn.target())
            .field("backend", &self.conn.backend())
            .field("checksum", &self.checksum)
            .finish()
    }
}

impl Journal {
    /// Opens (creating if needed) the SQLite journal at `path` for `plan`; see
    /// [`Journal::open`].
    ///
    /// # Errors
    /// As [`Journal::open`].
    pub fn open_sqlite(path: &Path, plan: &Plan) -> Result<Journal> {
        Journal::open(Box::new(SqliteConnection::open(path)?), plan)
    }

    /// Opens the journal on `conn` for `plan`: creates the tables if needed and, the
    /// first time, records the run and its steps (all pending).
    ///
    /// # Errors
    /// [`Error::JournalMismatch`] when the journal was made for another plan (another
    /// checksum); [`Error::Database`] when the database cannot be read or written.
    pub fn open(mut conn: Box<dyn Connection + Send>, plan: &Plan) -> Result<Journal> {
        let document = plan.to_json();
        let checksum = format!("{:016x}", fnv1a64(document.as_bytes()));
        let backend = conn.backend();
        create_tables(conn.as_mut())?;
        transaction(conn.as_mut(), |conn| {
            let target = conn.target().to_owned();
            let recorded = query(conn, &lock_run_for(backend))?;
            match text(&recorded, 0) {
                Some(recorded) if recorded != checksum => Err(Error::JournalMismatch {
                    target,
                    journal: recorded.to_owned(),
                    plan: checksum.clone(),
                }),
                Some(_) => {
                    // A journal made before it kept its plan gains it now.
                    let kept = Query::select()
                        .column("run_id")
                        .from(PLAN)
                        .and_where(Expr::col("run_id").eq(RUN_ID))
                        .to_owned();
                    if query(conn, &kept)?.is_empty() {
                        execute(conn, &insert_plan(&document))?;
                        tracing::debug!("{target}: the journal keeps its plan from now on");
                    }
                    Ok(())
                }
                None => {
                    execute(conn, &insert_run(&checksum, now_ms()))?;
                    let rows: Vec<(i64, &str, Option<&str>)> = plan
                        .steps
                        .iter()
                        .enumerate()
                        .map(|(i, step)| {
                            let position = i64::try_from(i).unwrap_or(i64::MAX);
                            (position, step.id.as_str(), step.host.as_deref())
                        })
                        .collect();
                    for chunk in rows.chunks(500) {
                        execute(conn, &insert_steps(chunk))?;
                    }
                    // A plan left over from an earlier journal in the same tables.
                    execute(conn, &delete_plan())?;
                    execute(conn, &insert_plan(&document))?;
                    tracing::debug!("{target}: new journal for plan {checksum}");
                    Ok(())
                }
            }
        })?;
        Ok(Journal { conn, checksum })
    }

    /// Opens the journal on `conn` without a plan: the one it keeps
    /// ([`Journal::plan`]). The journal must exist (made by [`Journal::open`]).
    ///
    /// # Errors
    /// [`Error::JournalPlan`] when `conn` holds no journal; [`Error::Database`].
    pub fn open_stored(mut conn: Box<dyn Connection + Send>) -> Result<Journal> {
        create_tables(conn.as_mut())?;
        let checksum = transaction(conn.as_mut(), |conn| {
            let recorded = query(conn, &select_run())?;
            text(&recorded, 0).map(str::to_owned).ok_or_else(|| Error::JournalPlan {
                target: conn.target().to_owned(),
                message: "holds no journal; create it with its plan first (`ffu journal init --plan PLAN.json`, or `Journal(conn, plan)`)".to_owned(),
            })
        })?;
        Ok(Journal { conn, checksum })
    }

    /// [`Journal::open_stored`] on the SQLite file at `path`, which must exist.
    ///
    /// # Errors
    /// [`Error::JournalPlan`] when there is no such file or no journal in it;
    /// [`Error::Database`].
    pub fn open_sqlite_stored(path: &Path) -> Result<Journal> {
        if !path.exists() {
            return Err(Error::JournalPlan {
                target: path.display().to_string(),
                message: "no such journal; create it with its plan first (`ffu journal init --plan PLAN.json`)".to_owned(),
            });
        }
        Journal::open_stored(Box::new(SqliteConnection::open(path)?))
    }

    /// The plan the journal keeps.
    ///
    /// # Errors
    /// [`Error::JournalPlan`] when the journal was made before journals kept their plan
    /// (open it once with the plan, and it keeps it), or when the plan it keeps does not
    /// match its checksum; [`Error::Database`].
    pub fn plan(&mut self) -> Result<Plan> {
        let rows = transaction(self.conn.as_mut(), |conn| query(conn, &select_plan()))?;
        let target = self.conn.target().to_owned();
        let Some(document) = text(&rows, 0) else {
            return Err(Error::JournalPlan {
                target,
                message: "the journal was made before journals kept their plan; give the plan (--plan PLAN.json) once, and the journal keeps it".to_owned(),
            });
        };
        let kept = format!("{:016x}", fnv1a64(document.as_bytes()));
        if kept != self.checksum {
            return Err(Error::JournalPlan {
                target,
                message: format!("the plan the journal keeps has checksum {kept}, not the journal's {}; give the plan (--plan PLAN.json)", self.checksum),
            });
        }
        Plan::from_json(document, &format!("{target} (the journal's plan)"))
    }
}

/// Creates the journal's tables that are missing (DDL outside any transaction: MySQL
/// commits implicitly around DDL anyway).
fn create_tables(conn: &mut (dyn Connection + Send)) -> Result<()> {
    let backend = conn.backend();
    {
        // DDL outside the transaction: MySQL commits implicitly around DDL anyway.
        let ddl = journal_ddl(backend);
        let has_index = match backend {
            // MySQL cannot say CREATE INDEX IF NOT EXISTS: look first.
            Backend::Mysql => !query(&mut *conn, &mysql_index_query())?.is_empty(),
            _ => false,
        };
        for statement in &ddl[..ddl.len() - usize::from(has_index)] {
            conn.execute(statement, &[])?;
        }
        conn.execute(&runner::error_table_ddl(backend), &[])?;
        conn.execute(&plan_table_ddl(backend), &[])?;
        Ok(())
    }
}

impl Journal {
    /// The recovery plan of `plan` (the journal's plan) from where this run stands
    /// ([`crate::recovery::recovery_plan`]); `restore_command` as
    /// [`crate::recovery::RecoveryOptions::restore_command`]; `file` names the plan in
    /// errors.
    ///
    /// # Errors
    /// As [`Journal::steps`] and [`crate::recovery::recovery_plan`].
    pub fn recovery_plan(
        &mut self,
        catalog: &crate::Catalog,
        plan: &Plan,
        restore_command: Option<&str>,
        file: &str,
    ) -> Result<Plan> {
        let mut states = vec![StepState::Pending; plan.steps.len()];
        for record in self.steps()? {
            if let Some(state) = states.get_mut(record.position) {
                *state = record.state;
            }
        }
        crate::recovery::recovery_plan(
            catalog,
            plan,
            &states,
            &crate::recovery::RecoveryOptions {
                restore_command,
                checksum: &self.checksum,
                file,
            },
        )
    }

    /// The checksum of the journal's plan.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// What the journal's connection reaches (a path, or the caller's description).
    pub fn target(&self) -> &str {
        self.conn.target()
    }

    /// Takes the lock for `owner` (for `lock_ttl`) and gives the next step to run, marked
    /// running with one more attempt: a step left `running` (its runner died during it) if
    /// there is one, else the first `pending` or `failed` step in plan order. `None` when
    /// every step is done (the lock is then released).
    ///
    /// A lock held by another owner past its expiry is taken over, with a warning naming
    /// the old owner.
    ///
    /// # Errors
    /// [`Error::JournalLocked`] when another owner holds the lock and it has not expired;
    /// [`Error::Database`].
    pub fn next(&mut self, owner: &str, lock_ttl: Duration) -> Result<Option<String>> {
        let ttl = i64::try_from(lock_ttl.as_millis()).unwrap_or(i64::MAX);
        transaction(self.conn.as_mut(), |conn| {
            let target = conn.target().to_owned();
            query(conn, &lock_run_for(conn.backend()))?;
            let now = now_ms();
            let held = query(conn, &select_lock())?;
            let expires_at = held.first().and_then(|row| row.get(1)?.as_i64());
            if let (Some(holder), Some(expires_at)) = (text(&held, 0), expires_at) {
                if holder != owner {
                    if expires_at > now {
                        return Err(Error::JournalLocked {
                            target,
                            owner: holder.to_owned(),
                            expires_in_s: (expires_at - now + 999) / 1000,
                        });
                    }
                    tracing::warn!(
                        "{target}: taking over the journal lock of {holder:?}, expired {} s ago",
                        (now - expires_at) / 1000
                    );
                }
            }
            execute(conn, &delete_lock())?;
            // A step left running first; else the earlier of the first pending and the first
            // failed step.
            let mut found = query(conn, &first_in(StepState::Running.as_str()))?;
            let interrupted = !found.is_empty();
            if !interrupted {
                let position = |rows: &[Vec<SqlValue>]| {
                    rows.first()
                        .and_then(|row| row.get(1)?.as_i64())
                        .unwrap_or(i64::MAX)
                };
                let pending = query(conn, &first_in(StepState::Pending.as_str()))?;
                let failed = query(conn, &first_in(StepState::Failed.as_str()))?;
                found = if position(&failed) < position(&pending) {
                    failed
                } else {
                    pending
                };
            }
            let Some(step) = text(&found, 0).map(str::to_owned) else {
                return Ok(None);
            };
            if interrupted {
                let attempts = found[0].get(2).and_then(SqlValue::as_i64).unwrap_or(0);
                tracing::warn!(
                    "{target}: step {step:?} was running when its runner stopped; giving it again (attempt {})",
                    attempts + 1
                );
            }
            execute(conn, &claim(&step, now))?;
            execute(conn, &insert_lock(owner, now.saturating_add(ttl)))?;
            Ok(Some(step))
        })
    }

    /// Marks a running step done and releases the lock. Marking a step that is already
    /// done again changes nothing (a runner killed after `done` committed may repeat it).
    /// The lock is not checked here: give `next` a lock time longer than any step, so that
    /// no other runner takes over a step that is still running.
    ///
    /// # Errors
    /// [`Error::JournalStep`] when the step is unknown or not running; [`Error::Database`].
    pub fn done(&mut self, step: &str) -> Result<()> {
        self.finish(step, StepState::Done)
    }

    /// Marks a running step failed and releases the lock; [`Journal::next`] gives it again.
    ///
    /// # Errors
    /// [`Error::JournalStep`] when the step is unknown or not running; [`Error::Database`].
    pub fn fail(&mut self, step: &str) -> Result<()> {
        self.finish(step, StepState::Failed)
    }

    fn finish(&mut self, step: &str, to: StepState) -> Result<()> {
        transaction(self.conn.as_mut(), |conn| {
            let target = conn.target().to_owned();
            query(conn, &lock_run_for(conn.backend()))?;
            let states = query(conn, &select_state(step))?;
            let bad = |message: String| Error::JournalStep {
                target: target.clone(),
                step: step.to_owned(),
                message,
            };
            let Some(state) = text(&states, 0) else {
                return Err(bad("the journal's plan has no such step".to_owned()));
            };
            let state =
                StepState::parse(state).ok_or_else(|| bad(format!("unknown state {state:?}")))?;
            if state == to {
                tracing::debug!("{target}: step {step:?} is already {}", to.as_str());
                return Ok(());
            }
            if state != StepState::Running {
                return Err(bad(format!(
                    "it is {}, not running; take it with `next` first",
                    state.as_str()
                )));
            }
            execute(conn, &finish_step(step, to, now_ms()))?;
            execute(conn, &delete_lock())?;
            Ok(())
        })
    }

    /// Every step's row, in plan order.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn steps(&mut self) -> Result<Vec<StepRecord>> {
        let target = self.conn.target().to_owned();
        let rows = transaction(self.conn.as_mut(), |conn| query(conn, &select_steps()))?;
        rows.iter()
            .map(|row| {
                let int = |column: usize| row.get(column).and_then(SqlValue::as_i64);
                let state = row
                    .get(2)
                    .and_then(SqlValue::as_str)
                    .and_then(StepState::parse);
                let (Some(id), Some(position), Some(state), Some(attempts)) = (
                    row.first().and_then(SqlValue::as_str),
                    int(1),
                    state,
                    int(3),
                ) else {
                    return Err(Error::Database {
                        target: target.clone(),
                        message: format!("unexpected row in {STEP}: {row:?}"),
                        source: None,
                    });
                };
                Ok(StepRecord {
                    id: id.to_owned(),
                    position: usize::try_from(position).unwrap_or(0),
                    state,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    host: row.get(4).and_then(SqlValue::as_str).map(str::to_owned),
                    started_at: int(5),
                    finished_at: int(6),
                })
            })
            .collect()
    }

    /// How many steps are in each state.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn status(&mut self) -> Result<Counts> {
        Ok(Counts::of(&self.steps()?))
    }
}

/// The run's row: locked on the backends with row locks, plain on SQLite (whose
/// transaction already holds the file's write lock).
fn lock_run_for(backend: Backend) -> SelectStatement {
    match backend {
        Backend::Sqlite => select_run(),
        _ => lock_run(),
    }
}

/// Whether the journal's `ffu_step_state` index exists, on MySQL.
fn mysql_index_query() -> SelectStatement {
    Query::select()
        .column("index_name")
        .from(("information_schema", "statistics"))
        .and_where(Expr::col("table_schema").eq(Expr::cust("DATABASE()")))
        .and_where(Expr::col("table_name").eq(STEP))
        .and_where(Expr::col("index_name").eq("ffu_step_state"))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Policy, Step, StepKind};

    fn plan(ids: &[&str]) -> Plan {
        let steps = ids
            .iter()
            .map(|id| Step::new((*id).to_owned(), 0, StepKind::Precheck, String::new()))
            .collect();
        Plan::new("t", "a", "b", Policy::default(), vec![], vec![], steps)
    }

    /// A database path for one test, with its journal files (`-wal`, `-shm`): removed before,
    /// and again when the test is done with it.
    fn temp(name: &str) -> TempDb {
        let path = std::env::temp_dir().join(format!("ffu-unit-{}-{name}.db", std::process::id()));
        let db = TempDb(path);
        db.remove();
        db
    }

    struct TempDb(std::path::PathBuf);

    impl TempDb {
        fn remove(&self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    impl std::ops::Deref for TempDb {
        type Target = std::path::Path;

        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            self.remove();
        }
    }

    #[test]
    fn claim_sql_per_backend() {
        let stmt = claim("", 0);
        assert_eq!(
            Backend::Sqlite.build(&stmt).0,
            r#"UPDATE "ffu_step" SET "state" = ?, "attempts" = "attempts" + ?, "started_at" = ?, "finished_at" = ? WHERE "run_id" = ? AND "step_id" = ?"#
        );
        assert_eq!(
            Backend::Postgres.build(&stmt).0,
            r#"UPDATE "ffu_step" SET "state" = $1, "attempts" = "attempts" + $2, "started_at" = $3, "finished_at" = $4 WHERE "run_id" = $5 AND "step_id" = $6"#
        );
        assert_eq!(
            Backend::Mysql.build(&stmt).0,
            "UPDATE `ffu_step` SET `state` = ?, `attempts` = `attempts` + ?, `started_at` = ?, `finished_at` = ? WHERE `run_id` = ? AND `step_id` = ?"
        );
    }

    #[test]
    fn run_row_is_locked_where_rows_lock() {
        assert_eq!(
            Backend::Postgres.build(&lock_run_for(Backend::Postgres)).0,
            r#"SELECT "checksum" FROM "ffu_run" WHERE "run_id" = $1 FOR UPDATE"#
        );
        assert_eq!(
            Backend::Mysql.build(&lock_run_for(Backend::Mysql)).0,
            "SELECT `checksum` FROM `ffu_run` WHERE `run_id` = ? FOR UPDATE"
        );
        assert_eq!(
            Backend::Sqlite.build(&lock_run_for(Backend::Sqlite)).0,
            r#"SELECT "checksum" FROM "ffu_run" WHERE "run_id" = ?"#
        );
    }

    #[test]
    fn statements_per_backend() {
        for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
            let statements = journal_statements(backend);
            assert_eq!(statements.len(), 12);
            assert!(statements.iter().all(|(_, sql)| !sql.contains("''")));
        }
        assert_eq!(
            journal_statements(Backend::Postgres)[7].1,
            r#"SELECT "step_id", "position", "attempts" FROM "ffu_step" WHERE "run_id" = $1 AND "state" = $2 ORDER BY "position" ASC LIMIT $3"#
        );
    }

    #[test]
    fn ddl_per_backend() {
        assert_eq!(
            journal_ddl(Backend::Mysql)[3],
            "CREATE INDEX `ffu_step_state` ON `ffu_step` (`run_id`, `state`, `position`)"
        );
        assert_eq!(
            journal_ddl(Backend::Sqlite)[3],
            r#"CREATE INDEX IF NOT EXISTS "ffu_step_state" ON "ffu_step" ("run_id", "state", "position")"#
        );
        let sqlite = journal_ddl(Backend::Sqlite);
        assert_eq!(
            sqlite[2],
            r#"CREATE TABLE IF NOT EXISTS "ffu_lock" ( "lock_id" integer NOT NULL PRIMARY KEY, "owner" varchar(255) NOT NULL, "expires_at" integer NOT NULL )"#
        );
        assert_eq!(
            journal_ddl(Backend::Postgres)[2],
            r#"CREATE TABLE IF NOT EXISTS "ffu_lock" ( "lock_id" integer NOT NULL PRIMARY KEY, "owner" varchar(255) NOT NULL, "expires_at" bigint NOT NULL )"#
        );
        let mysql_step = &journal_ddl(Backend::Mysql)[1];
        assert!(
            mysql_step.contains("`step_id` varbinary(1020) NOT NULL"),
            "{mysql_step}"
        );
        assert!(journal_ddl(Backend::Postgres)[1].contains(r#""step_id" varchar(255) NOT NULL"#));
        assert_eq!(
            journal_ddl(Backend::Mysql)[2],
            "CREATE TABLE IF NOT EXISTS `ffu_lock` ( `lock_id` int NOT NULL PRIMARY KEY, `owner` varchar(255) NOT NULL, `expires_at` bigint NOT NULL )"
        );
    }

    #[test]
    fn plan_table_per_backend() {
        assert_eq!(
            plan_table_ddl(Backend::Mysql),
            "CREATE TABLE IF NOT EXISTS `ffu_plan` ( `run_id` bigint NOT NULL PRIMARY KEY, `document` longtext NOT NULL )"
        );
        assert_eq!(
            plan_table_ddl(Backend::Postgres),
            r#"CREATE TABLE IF NOT EXISTS "ffu_plan" ( "run_id" bigint NOT NULL PRIMARY KEY, "document" text NOT NULL )"#
        );
    }

    #[test]
    fn the_journal_keeps_its_plan() {
        let path = temp("keeps");
        let p = plan(&["s1", "s2"]);
        assert!(matches!(
            Journal::open_sqlite_stored(&path),
            Err(Error::JournalPlan { .. })
        ));
        Journal::open_sqlite(&path, &p).unwrap();
        let mut stored = Journal::open_sqlite_stored(&path).unwrap();
        assert_eq!(stored.checksum(), plan_checksum(&p));
        assert_eq!(stored.plan().unwrap().to_json(), p.to_json());
        assert_eq!(
            stored
                .next("me", Duration::from_secs(60))
                .unwrap()
                .as_deref(),
            Some("s1")
        );
    }

    #[test]
    fn hostile_values_are_quoted_in_text() {
        let text = Backend::Mysql.text(&claim("x'; DROP TABLE ffu_run; --", 7));
        assert!(text.contains(r"'x\'; DROP TABLE ffu_run; --'"), "{text}");
        let text = Backend::Postgres.text(&claim("x'; DROP TABLE ffu_run; --", 7));
        assert!(text.contains(r"E'x\'; DROP TABLE ffu_run; --'"), "{text}");
    }

    #[test]
    fn hostile_step_ids_round_trip() {
        let path = temp("hostile");
        let ids = ["a'b;c", "\"; DROP TABLE ffu_step; --", "ok"];
        let mut journal = Journal::open_sqlite(&path, &plan(&ids)).unwrap();
        for id in ids {
            assert_eq!(
                journal
                    .next("me", Duration::from_secs(60))
                    .unwrap()
                    .as_deref(),
                Some(id)
            );
            journal.done(id).unwrap();
        }
        assert_eq!(journal.next("me", Duration::from_secs(60)).unwrap(), None);
        let steps = journal.steps().unwrap();
        assert_eq!(steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ids);
        assert!(steps
            .iter()
            .all(|s| s.state == StepState::Done && s.attempts == 1));
    }

    #[test]
    fn transitions_locks_and_mismatch() {
        let path = temp("transitions");
        let p = plan(&["s1", "s2"]);
        let mut journal = Journal::open_sqlite(&path, &p).unwrap();
        assert!(matches!(journal.done("s1"), Err(Error::JournalStep { .. })));
        assert_eq!(
            journal
                .next("a", Duration::from_secs(60))
                .unwrap()
                .as_deref(),
            Some("s1")
        );
        // Another owner is kept out while the lock holds.
        let mut other = Journal::open_sqlite(&path, &p).unwrap();
        let locked = other.next("b", Duration::from_secs(60)).unwrap_err();
        assert!(locked.to_string().contains("\"a\""), "{locked}");
        // The same owner restarting gets the interrupted step again.
        assert_eq!(
            journal
                .next("a", Duration::from_millis(0))
                .unwrap()
                .as_deref(),
            Some("s1")
        );
        // The lock expired at once: b takes it over and gets s1 a third time.
        assert_eq!(
            other.next("b", Duration::from_secs(60)).unwrap().as_deref(),
            Some("s1")
        );
        other.fail("s1").unwrap();
        assert_eq!(
            other.status().unwrap(),
            Counts {
                pending: 1,
                running: 0,
                done: 0,
                failed: 1
            }
        );
        assert_eq!(
            other.next("b", Duration::from_secs(60)).unwrap().as_deref(),
            Some("s1")
        );
        other.done("s1").unwrap();
        other.done("s1").unwrap();
        assert_eq!(other.steps().unwrap()[0].attempts, 4);
        // A different plan is refused, naming both checksums.
        let changed = plan(&["s1", "s2", "s3"]);
        let err = Journal::open_sqlite(&path, &changed).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&plan_checksum(&p)) && message.contains(&plan_checksum(&changed)));
    }
}
