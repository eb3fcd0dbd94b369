//! The background jobs of this server, in one registry type: registry imports
//! (`pages::transfer::Import`) and monitoring re-screening runs (`pages::monitoring::Run`).
//!
//! A job is started on behalf of an account, gets an id, runs on a task or a blocking thread,
//! reports its progress through its kind's own counters (read by its status page without a
//! lock) and ends with an outcome, which its page shows until the job is forgotten. What kinds
//! differ in is a [`Kind`]: which jobs may not run side by side ([`OneAtATime`]), how long
//! finished ones are kept ([`Retention`]), and the outcome. `AppState` holds one [`Jobs`] per
//! kind. Nothing is persisted: a restart forgets the jobs (an import's or a run's effect is in
//! the database and its audit trail).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use zhenxing_core::china_time::now_stored;
use zhenxing_store::accounts::Account;

/// Which jobs of a kind may not run at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneAtATime {
    /// One per account: its next waits until its last has ended.
    PerAccount,
    /// One on the server, whoever started it.
    PerServer,
}

/// How long finished jobs are kept for their pages. Checked when a job starts.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Forgotten this long after they finished; `None`: until newer ones push them out.
    pub keep_for: Option<Duration>,
    /// The newest finished jobs kept beside the one starting.
    pub keep_finished: usize,
}

/// A kind of background job: the job's own data (its parameters and its progress counters,
/// which the worker updates) and what it ends with.
pub trait Kind: Send + Sync + 'static {
    type Outcome: Send + Sync + 'static;
    const ONE_AT_A_TIME: OneAtATime;
    const RETENTION: Retention;
}

/// The jobs of one kind: running and recently finished, by id.
pub struct Jobs<K: Kind> {
    jobs: Mutex<HashMap<String, Arc<Job<K>>>>,
}

impl<K: Kind> Default for Jobs<K> {
    fn default() -> Self {
        Jobs {
            jobs: Mutex::new(HashMap::new()),
        }
    }
}

/// One job, as its status page reads it.
pub struct Job<K: Kind> {
    /// Random and unguessable: it names the job in its page's address.
    pub id: String,
    /// The account that started it: its id (whose jobs these are) and name (who, in words).
    pub owner: i64,
    pub started_by: String,
    /// When it started, as stored (UTC; `china_time_text` shows it).
    pub started_at: String,
    pub started: Instant,
    /// The kind's parameters and progress.
    pub work: K,
    finished: OnceLock<(Instant, K::Outcome)>,
}

/// For logs and test failures: which job, not its work.
impl<K: Kind> std::fmt::Debug for Job<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("started_at", &self.started_at)
            .field("done", &self.is_done())
            .finish_non_exhaustive()
    }
}

/// A poisoned lock is still used: the map stays consistent (every change to it is one call).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<K: Kind> Jobs<K> {
    /// Registers a job for `account` and returns it; or, when one that may not run beside it
    /// is running, that one, and nothing is registered. Forgets finished jobs past the kind's
    /// [`Retention`].
    pub fn start(&self, account: &Account, work: K) -> Result<Arc<Job<K>>, Arc<Job<K>>> {
        let mut jobs = lock(&self.jobs);
        if let Some(running) = jobs.values().find(|j| {
            !j.is_done()
                && match K::ONE_AT_A_TIME {
                    OneAtATime::PerAccount => j.owner == account.id,
                    OneAtATime::PerServer => true,
                }
        }) {
            return Err(running.clone());
        }
        let retention = K::RETENTION;
        if let Some(keep_for) = retention.keep_for {
            jobs.retain(|_, j| j.finished_at().is_none_or(|t| t.elapsed() < keep_for));
        }
        let mut finished: Vec<(Instant, String)> = jobs
            .values()
            .filter_map(|j| j.finished_at().map(|t| (t, j.id.clone())))
            .collect();
        if finished.len() > retention.keep_finished {
            finished.sort();
            for (_, id) in &finished[..finished.len() - retention.keep_finished] {
                jobs.remove(id);
            }
        }
        let job = Arc::new(Job {
            id: zhenxing_store::credentials::random_token()[..32].to_owned(),
            owner: account.id,
            started_by: account.name.clone(),
            started_at: now_stored(),
            started: Instant::now(),
            work,
            finished: OnceLock::new(),
        });
        jobs.insert(job.id.clone(), job.clone());
        Ok(job)
    }

    /// The job `id` if `owner` started it: someone else's answers like one that does not exist.
    pub fn owned(&self, id: &str, owner: i64) -> Option<Arc<Job<K>>> {
        lock(&self.jobs)
            .get(id)
            .filter(|j| j.owner == owner)
            .cloned()
    }

    /// The jobs `owner` started, the newest first.
    pub fn owned_by(&self, owner: i64) -> Vec<Arc<Job<K>>> {
        let mut jobs: Vec<Arc<Job<K>>> = lock(&self.jobs)
            .values()
            .filter(|j| j.owner == owner)
            .cloned()
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.started));
        jobs
    }

    /// The job running on the server, whoever started it: for a kind that runs one at a time
    /// on the server, whose state every account allowed to start one sees.
    pub fn running(&self) -> Option<Arc<Job<K>>> {
        lock(&self.jobs).values().find(|j| !j.is_done()).cloned()
    }

    /// The job that finished last, whoever started it (as [`Jobs::running`]).
    pub fn last_finished(&self) -> Option<Arc<Job<K>>> {
        lock(&self.jobs)
            .values()
            .filter_map(|j| j.finished_at().map(|t| (t, j)))
            .max_by_key(|(t, _)| *t)
            .map(|(_, j)| j.clone())
    }
}

impl<K: Kind> Job<K> {
    /// Records how the job ended; its page shows it from now on. Only the first call counts.
    pub fn finish(&self, outcome: K::Outcome) {
        let _ = self.finished.set((Instant::now(), outcome));
    }

    pub fn is_done(&self) -> bool {
        self.finished.get().is_some()
    }

    /// How it ended, once it has.
    pub fn outcome(&self) -> Option<&K::Outcome> {
        self.finished.get().map(|(_, outcome)| outcome)
    }

    fn finished_at(&self) -> Option<Instant> {
        self.finished.get().map(|(t, _)| *t)
    }

    /// How long it ran, or has been running.
    pub fn elapsed(&self) -> Duration {
        match self.finished_at() {
            Some(t) => t.duration_since(self.started),
            None => self.started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use zhenxing_core::{DivisionCode, Lang, Role};

    struct PerAccount;
    impl Kind for PerAccount {
        type Outcome = u32;
        const ONE_AT_A_TIME: OneAtATime = OneAtATime::PerAccount;
        const RETENTION: Retention = Retention {
            keep_for: None,
            keep_finished: 2,
        };
    }

    struct PerServer;
    impl Kind for PerServer {
        type Outcome = u32;
        const ONE_AT_A_TIME: OneAtATime = OneAtATime::PerServer;
        const RETENTION: Retention = Retention {
            keep_for: None,
            keep_finished: 1,
        };
    }

    fn account(id: i64) -> Account {
        Account {
            id,
            name: format!("account{id}"),
            role: Role::CountyOfficer,
            division: DivisionCode::parse("500101000000").unwrap(),
            lang: Lang::En,
            disabled: false,
            locked_until: None,
            created_at: now_stored(),
            must_change_password: false,
            factor_enrolled: false,
            password_changed_at: now_stored(),
        }
    }

    #[test]
    fn one_per_account_and_only_the_owner_sees_it() {
        let jobs = Jobs::<PerAccount>::default();
        let (a, b) = (account(1), account(2));
        let first = jobs.start(&a, PerAccount).unwrap();
        assert_eq!(first.id.len(), 32);
        let refused = jobs.start(&a, PerAccount).unwrap_err();
        assert_eq!(refused.id, first.id);
        let other = jobs.start(&b, PerAccount).unwrap();
        assert!(jobs.owned(&first.id, 1).is_some());
        assert!(jobs.owned(&first.id, 2).is_none());
        assert_eq!(jobs.owned_by(2).len(), 1);
        assert_eq!(jobs.owned_by(2)[0].id, other.id);
        first.finish(7);
        assert_eq!(first.outcome(), Some(&7));
        let second = jobs.start(&a, PerAccount).unwrap();
        assert_eq!(jobs.owned_by(1)[0].id, second.id, "the newest first");
    }

    #[test]
    fn finished_jobs_beyond_the_retention_are_forgotten() {
        let jobs = Jobs::<PerAccount>::default();
        let a = account(1);
        let mut ids = Vec::new();
        for n in 0..4 {
            let job = jobs.start(&a, PerAccount).unwrap();
            job.finish(n);
            ids.push(job.id.clone());
        }
        // At the fourth start, the three finished before it were cut to the newest two.
        let kept: Vec<String> = jobs.owned_by(1).iter().map(|j| j.id.clone()).collect();
        assert_eq!(kept, vec![ids[3].clone(), ids[2].clone(), ids[1].clone()]);
    }

    #[test]
    fn one_on_the_server_and_the_last_one_kept() {
        let jobs = Jobs::<PerServer>::default();
        let (a, b) = (account(1), account(2));
        let first = jobs.start(&a, PerServer).unwrap();
        assert_eq!(jobs.start(&b, PerServer).unwrap_err().id, first.id);
        assert_eq!(jobs.running().unwrap().id, first.id);
        assert!(jobs.last_finished().is_none());
        first.finish(1);
        assert!(jobs.running().is_none());
        let second = jobs.start(&b, PerServer).unwrap();
        assert_eq!(jobs.running().unwrap().id, second.id);
        assert_eq!(jobs.last_finished().unwrap().id, first.id);
        second.finish(2);
        assert_eq!(jobs.last_finished().unwrap().id, second.id);
        assert!(second.elapsed() >= Duration::ZERO);
    }
}
