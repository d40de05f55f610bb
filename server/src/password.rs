//! Argon2id password hashing on a small dedicated pool of low-priority threads.
//!
//! One hash costs tens of milliseconds of CPU and 19 MiB of memory, by design. Running it on
//! the async workers would stall every other request; running many at once would starve them.
//! So hashes run on `PASSWORD_HASH_THREADS` threads (default: one fewer than the cores) that
//! the OS schedules *after* request handling (nice +10): a login storm slows logins down, not
//! the rest of the site. Jobs wait in a bounded queue; when it is full the server answers 503.

use std::{
    sync::{Arc, Mutex, mpsc},
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
/// Waiting jobs per hashing thread before the server answers 503.
const QUEUE_PER_THREAD: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords off the async runtime. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::SyncSender<Job>,
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
        let (jobs, queue) = mpsc::sync_channel::<Job>(threads.max(1) * QUEUE_PER_THREAD);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        // Holding the lock while waiting is fine: the others would wait anyway.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every sender dropped: shutting down
                        }
                    }
                })
                .context("spawning a password-hashing thread")?;
        }
        let dummy = SecretString::from(crate::config::generate_secret());
        let dummy_hash = hash_now(&dummy)?.into();
        Ok(Self { jobs, dummy_hash })
    }

    /// Runs `work` on a hashing thread, keeping the caller's tracing span.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _ = done.send(span.in_scope(work));
        });
        self.jobs.try_send(job).map_err(|err| match err {
            mpsc::TrySendError::Full(_) => ApiError::Busy,
            mpsc::TrySendError::Disconnected(_) => {
                ApiError::Internal(anyhow!("password-hashing threads are gone"))
            }
        })?;
        result
            .await
            .map_err(|_| ApiError::Internal(anyhow!("password-hashing job was dropped")))
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        self.run(move || hash_now(&password))
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
        let matches = self.run(move || verify_now(&password, &phc)).await?;
        Ok(found && matches)
    }
}

/// Asks the OS to run this thread after normal-priority work (nice +10). Linux keeps the nice
/// value per thread, so only the hashing threads are affected.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_this_threads_priority() {
    // SAFETY: `setpriority` takes plain integers and has no memory-safety preconditions;
    // `who = 0` means the calling thread. Failure only leaves the priority unchanged.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
    if rc != 0 {
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
            .hash("correct horse".to_owned().into())
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
        let phc = hasher.hash(composed.to_owned().into()).await.unwrap();
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
        let phc = hasher.hash(format!("{long}A").into()).await.unwrap();
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
