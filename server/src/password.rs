//! Argon2id password hashing on a pool of lowest-priority threads.
//!
//! One hash costs tens of milliseconds of CPU and 19 MiB of memory, by design. Running it on
//! the async workers would stall every other request. So hashes run on their own threads —
//! one per core (`PASSWORD_HASH_THREADS`), so a login storm can use the whole machine — that
//! the kernel runs only when nothing else wants the CPU (`SCHED_IDLE`): request handling always
//! goes first, and a storm slows logins down, never the rest of the site.
//!
//! Jobs wait in two bounded queues, logins and registrations. Workers take logins first but
//! every fourth job from registrations when any wait, so neither can starve the other and a
//! flood of registrations cannot take more than a quarter of the hashing from logins. A full
//! queue answers 503 with `Retry-After` at once.

use std::{
    collections::VecDeque,
    sync::{Arc, Condvar, Mutex},
    thread,
};

use anyhow::{Context, anyhow};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

use crate::error::ApiError;

/// OWASP's Argon2id baseline: m=19456 KiB, t=2, p=1.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
/// Waiting logins per hashing thread before the server answers 503.
const LOGINS_PER_THREAD: usize = 64;
/// Waiting registrations per hashing thread before the server answers 503.
const REGISTRATIONS_PER_THREAD: usize = 8;
/// One job in this many goes to a waiting registration.
const REGISTRATION_TURN: u64 = 4;

type Job = Box<dyn FnOnce() + Send>;

/// Which queue a job waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Checking a password at login.
    Login,
    /// Hashing a new password.
    Registration,
}

#[derive(Default)]
struct Queues {
    logins: VecDeque<Job>,
    registrations: VecDeque<Job>,
    taken: u64,
    closed: bool,
}

impl Queues {
    fn next(&mut self) -> Option<Job> {
        self.taken += 1;
        let registrations_turn = self.taken.is_multiple_of(REGISTRATION_TURN);
        if registrations_turn && let Some(job) = self.registrations.pop_front() {
            return Some(job);
        }
        self.logins
            .pop_front()
            .or_else(|| self.registrations.pop_front())
    }
}

struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
    login_cap: usize,
    registration_cap: usize,
}

impl Drop for PasswordHasher {
    fn drop(&mut self) {
        // The last handle gone: let the threads finish what is queued and stop. (The threads
        // hold the pool too, so handles are counted on their own.)
        if Arc::strong_count(&self.handles) == 1
            && let Ok(mut q) = self.pool.queues.lock()
        {
            q.closed = true;
            self.pool.ready.notify_all();
        }
    }
}

/// Hashes and verifies passwords off the async runtime. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    pool: Arc<Pool>,
    /// One count per handle (clone) of this hasher.
    handles: Arc<()>,
    /// A real hash of a random password: verified against when the user does not exist, so an
    /// unknown username costs the same time as a wrong password.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Passwords are compared after NFKC normalisation, so the same passphrase typed on two
/// keyboards (composed or decomposed accents, full-width digits) is the same password.
fn normalise(password: &SecretString) -> SecretString {
    SecretString::from(password.expose_secret().nfkc().collect::<String>())
}

fn hash_now(password: &SecretString) -> anyhow::Result<String> {
    let password = normalise(password);
    argon2()
        .hash_password(password.expose_secret().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| anyhow!("argon2 hashing failed: {err}"))
}

fn verify_now(password: &SecretString, phc: &str) -> bool {
    let password = normalise(password);
    // Parameters come from the stored PHC string, so older hashes keep verifying.
    argon2()
        .verify_password(password.expose_secret().as_bytes(), phc)
        .is_ok()
}

impl PasswordHasher {
    /// Starts `threads` hashing threads and computes the dummy hash.
    pub fn start(threads: usize) -> anyhow::Result<Self> {
        let threads = threads.max(1);
        let pool = Arc::new(Pool {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
            login_cap: threads * LOGINS_PER_THREAD,
            registration_cap: threads * REGISTRATIONS_PER_THREAD,
        });
        for n in 0..threads {
            let pool = Arc::clone(&pool);
            thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        let job = {
                            let Ok(mut q) = pool.queues.lock() else {
                                return;
                            };
                            loop {
                                if let Some(job) = q.next() {
                                    break job;
                                }
                                if q.closed {
                                    return;
                                }
                                q = match pool.ready.wait(q) {
                                    Ok(q) => q,
                                    Err(_) => return,
                                };
                            }
                        };
                        job();
                    }
                })
                .context("spawning a password-hashing thread")?;
        }
        let dummy = SecretString::from(crate::config::generate_secret());
        let dummy_hash = hash_now(&dummy)?.into();
        Ok(Self {
            pool,
            handles: Arc::new(()),
            dummy_hash,
        })
    }

    /// Runs `work` on a hashing thread, keeping the caller's tracing span.
    async fn run<T: Send + 'static>(
        &self,
        kind: Work,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = done.send(span.in_scope(work));
        });
        {
            let mut q = self
                .pool
                .queues
                .lock()
                .map_err(|_| ApiError::Internal(anyhow!("password-hashing queue poisoned")))?;
            let (queue, cap) = match kind {
                Work::Login => (&mut q.logins, self.pool.login_cap),
                Work::Registration => (&mut q.registrations, self.pool.registration_cap),
            };
            if queue.len() >= cap {
                return Err(ApiError::Busy);
            }
            queue.push_back(job);
        }
        self.pool.ready.notify_one();
        result
            .await
            .map_err(|_| ApiError::Internal(anyhow!("password-hashing job was dropped")))
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: SecretString, kind: Work) -> Result<String, ApiError> {
        self.run(kind, move || hash_now(&password))
            .await?
            .map_err(ApiError::Internal)
    }

    /// Checks a password against a stored PHC string, or against the dummy hash when there is
    /// no such user (always false, same cost).
    pub async fn verify(
        &self,
        password: SecretString,
        phc: Option<String>,
    ) -> Result<bool, ApiError> {
        let found = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(Work::Login, move || verify_now(&password, &phc))
            .await?;
        Ok(found && matches)
    }
}

/// Times one hash with the production parameters (the benchmark's yardstick).
pub fn time_one_hash() -> anyhow::Result<std::time::Duration> {
    let started = std::time::Instant::now();
    hash_now(&SecretString::from("a benchmark password".to_owned()))?;
    Ok(started.elapsed())
}

/// Asks the kernel to run this thread only when no other thread wants the CPU (`SCHED_IDLE`),
/// and at the weakest nice level in case that policy is refused. Linux keeps both per
/// thread, so only the hashing threads are affected.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_this_threads_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: both calls take plain values and a pointer to a live local; `0` means the
    // calling thread. Failure only leaves the priority as it was.
    let (idle, nice) = unsafe {
        (
            libc::sched_setscheduler(0, libc::SCHED_IDLE, &param),
            libc::setpriority(libc::PRIO_PROCESS, 0, 19),
        )
    };
    if idle != 0 || nice != 0 {
        tracing::debug!("could not lower the password-hashing thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_an_argon2id_phc_string_with_the_baseline_parameters() {
        let hasher = PasswordHasher::start(1).unwrap();
        let phc = hasher
            .hash("correct horse".to_owned().into(), Work::Login)
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            hasher
                .verify("correct horse".to_owned().into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("correct horsf".to_owned().into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn composed_and_decomposed_accents_are_the_same_password() {
        let hasher = PasswordHasher::start(1).unwrap();
        let composed = "caf\u{e9} au lait";
        let decomposed = "cafe\u{301} au lait";
        let phc = hasher
            .hash(composed.to_owned().into(), Work::Login)
            .await
            .unwrap();
        assert!(
            hasher
                .verify(decomposed.to_owned().into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn passwords_are_never_truncated() {
        let hasher = PasswordHasher::start(1).unwrap();
        let long = "x".repeat(1000);
        let phc = hasher
            .hash(format!("{long}A").into(), Work::Login)
            .await
            .unwrap();
        assert!(
            !hasher
                .verify(format!("{long}B").into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::start(1).unwrap();
        assert!(
            !hasher
                .verify("anything".to_owned().into(), None)
                .await
                .unwrap()
        );
    }
}
