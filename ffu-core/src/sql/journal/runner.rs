//! The journal for runners that run steps in an order of their own (an execution engine,
//! DESIGN §9), and the operator's controls.
//!
//! An engine such as `ansible-playbook` holds the journal's lock for its whole run
//! ([`Journal::lock`]), claims the very step it is about to run ([`Journal::start`]: it is
//! `done` already, or it is marked running) and records the outcome without giving the
//! lock up ([`Journal::finish_keeping_lock`]), since other hosts of the same run are still
//! at work. Whether a lock's holder is still alive is the caller's to say (`alive`): a
//! runner killed outright leaves its lock behind, and a new run on the same machine may
//! take it over at once instead of waiting for it to expire.
//!
//! A failed step's error text is kept in `ffu_step_error` (`run_id`, `step_id`, `message`),
//! a table added beside the three of the journal, so that journals made before it still
//! open.

use std::time::Duration;

use sea_query::{
    ColumnDef, Expr, ExprTrait, Index, MysqlQueryBuilder, PostgresQueryBuilder, Query,
    SqliteQueryBuilder, Table,
};

use super::{
    claim, delete_lock, finish_step, insert_lock, now_ms, select_lock, select_state, text, Journal,
    StepState, RUN_ID,
};
use crate::error::{Error, Result};
use crate::sql::{execute, query, transaction, Backend, Connection, SqlValue};

const ERROR: &str = "ffu_step_error";
/// The longest error text kept, in characters: the end of a long output says most.
const MAX_ERROR_CHARS: usize = 4000;

/// What [`Journal::start`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The step is marked running (this is its `attempt`-th attempt): run it.
    Run {
        /// From 1.
        attempt: u32,
    },
    /// The step is done already: skip it.
    Done,
}

/// `CREATE TABLE IF NOT EXISTS ffu_step_error`.
pub(super) fn error_table_ddl(backend: Backend) -> String {
    let mut step_id = ColumnDef::new("step_id");
    if backend == Backend::Mysql {
        // As in ffu_step: step ids compare byte for byte.
        step_id.custom(sea_query::Alias::new("varbinary(1020)"));
    } else {
        step_id.string_len(255);
    }
    step_id.not_null();
    let table = Table::create()
        .table(ERROR)
        .if_not_exists()
        .col(ColumnDef::new("run_id").big_integer().not_null())
        .col(step_id)
        .col(ColumnDef::new("message").text().not_null())
        .primary_key(Index::create().col("run_id").col("step_id"))
        .to_owned();
    match backend {
        Backend::Sqlite => table.to_string(SqliteQueryBuilder),
        Backend::Postgres => table.to_string(PostgresQueryBuilder),
        Backend::Mysql => table.to_string(MysqlQueryBuilder),
    }
}

/// Takes the lock for `owner` until `ttl` from now: free, expired, already `owner`'s, or
/// held by a runner that is not `alive` any more (taken over with a warning).
fn take_lock<C: Connection + ?Sized>(
    conn: &mut C,
    owner: &str,
    ttl: Duration,
    alive: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let now = now_ms();
    let held = query(conn, &select_lock())?;
    let expires_at = held.first().and_then(|row| row.get(1)?.as_i64());
    if let (Some(holder), Some(expires_at)) = (text(&held, 0), expires_at) {
        if holder != owner {
            let target = conn.target().to_owned();
            if expires_at > now && alive(holder) {
                return Err(Error::JournalLocked {
                    target,
                    owner: holder.to_owned(),
                    expires_in_s: (expires_at - now + 999) / 1000,
                });
            }
            tracing::warn!(
                "{target}: taking over the journal lock of {holder:?}, which is no longer running"
            );
        }
    }
    execute(conn, &delete_lock())?;
    let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    execute(conn, &insert_lock(owner, now.saturating_add(ttl)))?;
    Ok(())
}

/// The state of `step`, or the error naming it when the journal's plan has no such step.
fn state_of<C: Connection + ?Sized>(conn: &mut C, step: &str) -> Result<(StepState, u32)> {
    let rows = query(conn, &select_state(step).column("attempts").to_owned())?;
    let bad = |message: String| Error::JournalStep {
        target: conn.target().to_owned(),
        step: step.to_owned(),
        message,
    };
    let Some(name) = text(&rows, 0) else {
        return Err(bad("the journal's plan has no such step".to_owned()));
    };
    let state = StepState::parse(name).ok_or_else(|| bad(format!("unknown state {name:?}")))?;
    let attempts = rows[0].get(1).and_then(SqlValue::as_i64).unwrap_or(0);
    Ok((state, u32::try_from(attempts).unwrap_or(u32::MAX)))
}

fn set_error<C: Connection + ?Sized>(
    conn: &mut C,
    step: &str,
    message: Option<&str>,
) -> Result<()> {
    execute(
        conn,
        &Query::delete()
            .from_table(ERROR)
            .and_where(Expr::col("run_id").eq(RUN_ID))
            .and_where(Expr::col("step_id").eq(step))
            .to_owned(),
    )?;
    if let Some(message) = message {
        let kept: String = if message.chars().count() > MAX_ERROR_CHARS {
            let skip = message.chars().count() - MAX_ERROR_CHARS;
            format!("...{}", message.chars().skip(skip).collect::<String>())
        } else {
            message.to_owned()
        };
        execute(
            conn,
            &Query::insert()
                .into_table(ERROR)
                .columns(["run_id", "step_id", "message"])
                .values_panic([RUN_ID.into(), step.into(), kept.into()])
                .to_owned(),
        )?;
    }
    Ok(())
}

impl Journal {
    /// Takes the journal's lock for `owner`'s whole run (see the module doc); `alive` says
    /// whether another holder still runs.
    ///
    /// # Errors
    /// [`Error::JournalLocked`] when a live runner holds it; [`Error::Database`].
    pub fn lock(&mut self, owner: &str, ttl: Duration, alive: &dyn Fn(&str) -> bool) -> Result<()> {
        transaction(self.conn.as_mut(), |conn| {
            query(conn, &super::lock_run_for(conn.backend()))?;
            take_lock(conn, owner, ttl, alive)
        })
    }

    /// Releases the lock: `owner`'s only (`Some`), or whoever holds it (`None`: an operator
    /// breaking a dead runner's lock). Returns who held it.
    ///
    /// # Errors
    /// [`Error::JournalLocked`] when another owner holds it and `owner` is given;
    /// [`Error::Database`].
    pub fn unlock(&mut self, owner: Option<&str>) -> Result<Option<String>> {
        transaction(self.conn.as_mut(), |conn| {
            query(conn, &super::lock_run_for(conn.backend()))?;
            let held = query(conn, &select_lock())?;
            let holder = text(&held, 0).map(str::to_owned);
            if let (Some(owner), Some(holder)) = (owner, &holder) {
                if owner != holder {
                    let expires_at = held[0].get(1).and_then(SqlValue::as_i64).unwrap_or(0);
                    return Err(Error::JournalLocked {
                        target: conn.target().to_owned(),
                        owner: holder.clone(),
                        expires_in_s: Ord::max((expires_at - now_ms() + 999) / 1000, 0),
                    });
                }
            }
            execute(conn, &delete_lock())?;
            Ok(holder)
        })
    }

    /// Claims `step` for `owner` (taking or keeping the lock, as [`Journal::lock`]): a step
    /// already done is [`Start::Done`]; any other (pending, failed, or left running by a
    /// runner that died) is marked running on `host`, with one more attempt.
    ///
    /// # Errors
    /// [`Error::JournalLocked`]; [`Error::JournalStep`] for an unknown step, or one that
    /// has had `max_attempts` attempts already (reset it to try again); [`Error::Database`].
    pub fn start(
        &mut self,
        step: &str,
        host: Option<&str>,
        owner: &str,
        ttl: Duration,
        alive: &dyn Fn(&str) -> bool,
        max_attempts: Option<u32>,
    ) -> Result<Start> {
        transaction(self.conn.as_mut(), |conn| {
            query(conn, &super::lock_run_for(conn.backend()))?;
            take_lock(conn, owner, ttl, alive)?;
            let (state, attempts) = state_of(conn, step)?;
            if state == StepState::Done {
                return Ok(Start::Done);
            }
            if let Some(max) = max_attempts.filter(|&max| attempts >= max) {
                return Err(Error::JournalStep {
                    target: conn.target().to_owned(),
                    step: step.to_owned(),
                    message: format!("it has had {attempts} attempts, the limit is {max}; `ffu journal reset` it to try again"),
                });
            }
            if state == StepState::Running {
                tracing::warn!("step {step:?} was running when its runner stopped; running it again (attempt {})", attempts + 1);
            }
            let mut claim = claim(step, now_ms());
            if let Some(host) = host {
                claim.value("host", host);
            }
            execute(conn, &claim)?;
            Ok(Start::Run {
                attempt: attempts + 1,
            })
        })
    }

    /// Records the outcome of a running step, keeping the lock (the run goes on): `Done`,
    /// or `Failed` with its error text. Recording a step's state again changes nothing.
    ///
    /// # Errors
    /// [`Error::JournalStep`] when the step is unknown or not running; [`Error::Database`].
    pub fn finish_keeping_lock(
        &mut self,
        step: &str,
        to: StepState,
        error: Option<&str>,
    ) -> Result<()> {
        transaction(self.conn.as_mut(), |conn| {
            query(conn, &super::lock_run_for(conn.backend()))?;
            let (state, _) = state_of(conn, step)?;
            if state == to {
                return Ok(());
            }
            if state != StepState::Running {
                return Err(Error::JournalStep {
                    target: conn.target().to_owned(),
                    step: step.to_owned(),
                    message: format!(
                        "it is {}, not running; claim it with `start` first",
                        state.as_str()
                    ),
                });
            }
            execute(conn, &finish_step(step, to, now_ms()))?;
            set_error(conn, step, error.filter(|_| to == StepState::Failed))
        })
    }

    /// An operator's decision on `step`, whatever its state: `Done` (done by hand, or to
    /// skip), or `Pending` (reset: run again, with no attempt counted).
    ///
    /// # Errors
    /// [`Error::JournalStep`] for an unknown step or another state; [`Error::Database`].
    pub fn set_state(&mut self, step: &str, to: StepState) -> Result<StepState> {
        transaction(self.conn.as_mut(), |conn| {
            query(conn, &super::lock_run_for(conn.backend()))?;
            let (before, _) = state_of(conn, step)?;
            let update = match to {
                StepState::Done => finish_step(step, to, now_ms()),
                // Each column once: PostgreSQL refuses a column assigned twice.
                StepState::Pending => Query::update()
                    .table(super::STEP)
                    .value("state", to.as_str())
                    .value("attempts", 0)
                    .value("started_at", Option::<i64>::None)
                    .value("finished_at", Option::<i64>::None)
                    .and_where(Expr::col("run_id").eq(RUN_ID))
                    .and_where(Expr::col("step_id").eq(step))
                    .to_owned(),
                _ => {
                    return Err(Error::JournalStep {
                        target: conn.target().to_owned(),
                        step: step.to_owned(),
                        message: format!(
                            "an operator sets a step done or pending, not {}",
                            to.as_str()
                        ),
                    })
                }
            };
            execute(conn, &update)?;
            set_error(conn, step, None)?;
            Ok(before)
        })
    }

    /// The error text of every failed step that has one, by step id.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn errors(&mut self) -> Result<std::collections::BTreeMap<String, String>> {
        let rows = transaction(self.conn.as_mut(), |conn| {
            query(
                conn,
                &Query::select()
                    .columns(["step_id", "message"])
                    .from(ERROR)
                    .and_where(Expr::col("run_id").eq(RUN_ID))
                    .to_owned(),
            )
        })?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some((
                    row.first()?.as_str()?.to_owned(),
                    row.get(1)?.as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    /// Claims up to `max` steps under one lock (`ffu journal next --max N`): the step
    /// [`Journal::next`] gives, then the steps after it that may run at the same time: not
    /// done, and every step they require done (their `requires`, and the plan's order as
    /// the planner's chain reads it, for plans written without complete `requires`),
    /// so that a batch of 50 hosts is one claim. `plan` is the journal's plan
    /// ([`Journal::plan`]). Empty when every step is done.
    ///
    /// The search stops at the first step not done outside a batch: everything after it
    /// waits for it.
    ///
    /// # Errors
    /// As [`Journal::next`].
    pub fn next_many(
        &mut self,
        owner: &str,
        ttl: Duration,
        max: usize,
        plan: &crate::plan::Plan,
    ) -> Result<Vec<String>> {
        let Some(first) = self.next(owner, ttl)? else {
            return Ok(Vec::new());
        };
        let position: rustc_hash::FxHashMap<&str, usize> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| (step.id.as_str(), index))
            .collect();
        let Some(&first_at) = position.get(first.as_str()) else {
            return Ok(vec![first]);
        };
        if max <= 1 || plan.steps[first_at].batch.is_none() {
            return Ok(vec![first]);
        }
        let chain = crate::plan::chain::Chain::of_steps(&plan.steps);
        let mut claimed = vec![first];
        transaction(self.conn.as_mut(), |conn| {
            query(conn, &super::lock_run_for(conn.backend()))?;
            // `next` took the lock; another runner may have taken an expired one since.
            take_lock(conn, owner, ttl, &|_| true)?;
            let done = Progress::read(conn, first_at, max)?;
            let now = now_ms();
            for (at, id, state) in &done.window {
                if claimed.len() >= max {
                    break;
                }
                let Some(step) = plan.steps.get(*at) else {
                    break;
                };
                if *state == StepState::Done || step.id != *id {
                    continue;
                }
                let ready = step
                    .requires
                    .iter()
                    .filter_map(|required| position.get(required.as_str()).copied())
                    .chain(chain.waits(*at).iter().map(|&other| other as usize))
                    .all(|required| done.is_done(required));
                if ready {
                    execute(conn, &claim(id, now))?;
                    claimed.push(id.clone());
                }
                if step.batch.is_none() {
                    break;
                }
            }
            Ok(())
        })?;
        Ok(claimed)
    }

    /// Who holds the lock now, and until when (Unix milliseconds).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn lock_holder(&mut self) -> Result<Option<(String, i64)>> {
        let held = transaction(self.conn.as_mut(), |conn| query(conn, &select_lock()))?;
        Ok(text(&held, 0).map(|owner| {
            let until = held[0].get(1).and_then(SqlValue::as_i64).unwrap_or(0);
            (owner.to_owned(), until)
        }))
    }
}

/// Which steps are done, as far as [`Journal::next_many`] looks: those before the step
/// `next` gave (all done but a few, read by name), and a window of the steps after it.
struct Progress {
    first: usize,
    /// Positions before `first` that are not done (a runner died during them).
    unfinished: rustc_hash::FxHashSet<usize>,
    /// The steps after `first`, in order: position, id, state.
    window: Vec<(usize, String, StepState)>,
}

impl Progress {
    /// Reads the progress around `first` for a claim of up to `max` steps: a batch's steps
    /// come kind by kind (every host's stop, then every host's install, ...), so the
    /// window holds several times `max`.
    fn read<C: Connection + ?Sized>(conn: &mut C, first: usize, max: usize) -> Result<Progress> {
        let first_position = i64::try_from(first).unwrap_or(i64::MAX);
        let rows = |conn: &mut C, before: bool, limit: Option<u64>| {
            let mut select = Query::select();
            select
                .columns(["position", "step_id", "state"])
                .from(super::STEP)
                .and_where(Expr::col("run_id").eq(RUN_ID));
            if before {
                select
                    .and_where(Expr::col("position").lt(first_position))
                    .and_where(Expr::col("state").ne(StepState::Done.as_str()));
            } else {
                select.and_where(Expr::col("position").gt(first_position));
            }
            select.order_by("position", sea_query::Order::Asc);
            if let Some(limit) = limit {
                select.limit(limit);
            }
            query(conn, &select)
        };
        let parse = |row: &Vec<SqlValue>| {
            let at = usize::try_from(row.first()?.as_i64()?).ok()?;
            let id = row.get(1)?.as_str()?.to_owned();
            let state = StepState::parse(row.get(2)?.as_str()?)?;
            Some((at, id, state))
        };
        let unfinished = rows(conn, true, None)?
            .iter()
            .filter_map(|row| parse(row).map(|(at, _, _)| at))
            .collect();
        let limit = u64::try_from(max.saturating_mul(8).saturating_add(64)).unwrap_or(u64::MAX);
        let window = rows(conn, false, Some(limit))?
            .iter()
            .filter_map(parse)
            .collect();
        Ok(Progress {
            first,
            unfinished,
            window,
        })
    }

    /// Whether the step at `at` is done (a step past the window is taken as not done).
    fn is_done(&self, at: usize) -> bool {
        if at < self.first {
            return !self.unfinished.contains(&at);
        }
        at > self.first
            && self
                .window
                .binary_search_by_key(&at, |(position, _, _)| *position)
                .is_ok_and(|found| self.window[found].2 == StepState::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, Policy, Step, StepKind};

    fn plan(ids: &[(&str, Option<usize>)]) -> Plan {
        let steps = ids
            .iter()
            .map(|(id, batch)| {
                let mut step = Step::new((*id).to_owned(), 0, StepKind::Stop, String::new());
                step.batch = *batch;
                step
            })
            .collect();
        Plan::new("t", "a", "b", Policy::default(), vec![], vec![], steps)
    }

    fn journal(name: &str, plan: &Plan) -> (Journal, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("ffu-runner-{}-{name}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        (Journal::open_sqlite(&path, plan).unwrap(), path)
    }

    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn runs_claim_steps_hold_the_lock_and_dead_runners_lose_it() {
        let p = plan(&[("s1", None), ("s2", None)]);
        let (mut j, path) = journal("claims", &p);
        let alive = |_: &str| true;
        let dead = |_: &str| false;
        j.lock("run-a", TTL, &alive).unwrap();
        assert_eq!(
            j.start("s2", Some("h2"), "run-a", TTL, &alive, None)
                .unwrap(),
            Start::Run { attempt: 1 }
        );
        j.finish_keeping_lock("s2", StepState::Done, None).unwrap();
        // The lock stays with run-a: a live run-b is refused, naming run-a.
        let refused = j.start("s1", None, "run-b", TTL, &alive, None).unwrap_err();
        assert!(refused.to_string().contains("\"run-a\""), "{refused}");
        assert_eq!(j.lock_holder().unwrap().unwrap().0, "run-a");
        // run-a died: run-b takes over; a step done is not run again.
        assert_eq!(
            j.start("s2", None, "run-b", TTL, &dead, None).unwrap(),
            Start::Done
        );
        assert_eq!(
            j.start("s1", Some("h1"), "run-b", TTL, &dead, None)
                .unwrap(),
            Start::Run { attempt: 1 }
        );
        j.finish_keeping_lock("s1", StepState::Failed, Some("exit 3: disk full"))
            .unwrap();
        assert_eq!(j.errors().unwrap()["s1"], "exit 3: disk full");
        // The attempt limit, then an operator's reset clears attempts and the error.
        let limited = j
            .start("s1", None, "run-b", TTL, &dead, Some(1))
            .unwrap_err();
        assert!(limited.to_string().contains("limit is 1"), "{limited}");
        assert_eq!(
            j.set_state("s1", StepState::Pending).unwrap(),
            StepState::Failed
        );
        assert!(j.errors().unwrap().is_empty());
        assert_eq!(
            j.start("s1", None, "run-b", TTL, &dead, Some(1)).unwrap(),
            Start::Run { attempt: 1 }
        );
        // Unlocking another's lock is refused unless forced, which names the holder.
        assert!(j.unlock(Some("run-c")).is_err());
        assert_eq!(j.unlock(None).unwrap().as_deref(), Some("run-b"));
        assert_eq!(
            j.set_state("s1", StepState::Done).unwrap(),
            StepState::Running
        );
        let steps = j.steps().unwrap();
        assert!(steps.iter().all(|s| s.state == StepState::Done));
        assert_eq!(steps[1].host.as_deref(), Some("h2"));
        drop(j);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn next_many_claims_what_may_run_together() {
        let mut p = plan(&[
            ("c", None),
            ("b1", Some(1)),
            ("b2", Some(1)),
            ("b3", Some(1)),
            ("d", Some(2)),
            ("e", None),
        ]);
        // Batch 1 runs on h1 and h2 (b3 is h1's second step); batch 2 on h3.
        for (index, host) in [(1, "h1"), (2, "h2"), (3, "h1"), (4, "h3")] {
            p.steps[index].host = Some(host.to_owned());
        }
        let (mut j, path) = journal("batch", &p);
        assert_eq!(j.next_many("r", TTL, 5, &p).unwrap(), ["c"]);
        j.done("c").unwrap();
        assert_eq!(j.next_many("r", TTL, 5, &p).unwrap(), ["b1", "b2"]);
        j.finish_keeping_lock("b1", StepState::Done, None).unwrap();
        j.finish_keeping_lock("b2", StepState::Done, None).unwrap();
        // d, batch 2's first host, waits for batch 1's first host to finish (b3).
        assert_eq!(j.next_many("r", TTL, 5, &p).unwrap(), ["b3"]);
        j.done("b3").unwrap();
        assert_eq!(j.next_many("r", TTL, 5, &p).unwrap(), ["d"]);
        j.done("d").unwrap();
        assert_eq!(j.next_many("r", TTL, 5, &p).unwrap(), ["e"]);
        j.done("e").unwrap();
        assert!(j.next_many("r", TTL, 5, &p).unwrap().is_empty());
        drop(j);
        let _ = std::fs::remove_file(path);
    }
}
