use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

thread_local! {
    /// Argon2's working memory (19 MiB with the default parameters), kept by
    /// each password thread and reused. Allocated afresh per check, glibc kept
    /// up to three of them per thread arena after they were freed: 20 logins
    /// left the process at +220 MB.
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// False for a wrong password and for a hash that does not parse.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = BLOCKS.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
            .is_ok()
    });
    computed && bool::from(subtle::ConstantTimeEq::ct_eq(out.as_slice(), expected.as_bytes()))
}

/// Why a password check did not run.
#[derive(Debug, thiserror::Error)]
pub enum PasswordWorkError {
    #[error("too many password checks are running; try again shortly")]
    Busy,
    #[error("password check failed: {0}")]
    Failed(String),
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs argon2 off the async threads, a few at a time, on threads of its own.
/// Each check holds about 19 MiB for its whole run; unbounded, a hundred
/// parallel logins held 1.9 GB. One check per core keeps the work bounded, and
/// a fixed set of threads keeps the memory bounded too: on tokio's blocking
/// pool every new thread got its own malloc arena and each arena kept its
/// 19 MiB after the check (300 logins still peaked at +335 MB).
#[derive(Clone)]
pub struct PasswordWork {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    max_wait: Duration,
}

impl PasswordWork {
    pub fn new(parallel: usize, max_wait: Duration) -> Self {
        let parallel = parallel.max(1);
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(parallel);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..parallel {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password thread");
            }
        }
        PasswordWork {
            permits: Arc::new(Semaphore::new(parallel)),
            jobs,
            max_wait,
        }
    }

    /// One check per core.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(cores, Duration::from_secs(5))
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordWorkError> {
        let permit = tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| PasswordWorkError::Busy)?
            .map_err(|_| PasswordWorkError::Busy)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        // A permit per thread: the job never waits in the channel for long.
        self.jobs
            .try_send(Box::new(move || {
                let _ = reply.send(work());
            }))
            .map_err(|_| PasswordWorkError::Busy)?;
        let out = answer
            .await
            .map_err(|_| PasswordWorkError::Failed("the password thread stopped".into()));
        drop(permit);
        out
    }

    pub async fn verify(&self, hash: String, password: String) -> Result<bool, PasswordWorkError> {
        self.run(move || verify_password(&hash, &password)).await
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordWorkError> {
        self.run(move || hash_password(&password))
            .await?
            .map_err(PasswordWorkError::Failed)
    }

    /// Checks `current`, then hashes `new`: one turn for both.
    pub async fn replace(
        &self,
        hash: String,
        current: String,
        new: String,
    ) -> Result<Option<String>, PasswordWorkError> {
        self.run(move || verify_password(&hash, &current).then(|| hash_password(&new)))
            .await?
            .transpose()
            .map_err(PasswordWorkError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let hash = hash_password("correct horse").unwrap_or_default();
        assert!(hash.starts_with("$argon2"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "wrong"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[tokio::test]
    async fn checks_beyond_the_permits_wait_then_give_up() {
        let work = PasswordWork::new(1, Duration::from_millis(50));
        let held = work.permits.clone().acquire_owned().await;
        assert!(held.is_ok());
        let busy = work.verify("x".into(), "y".into()).await;
        assert!(matches!(busy, Err(PasswordWorkError::Busy)), "{busy:?}");
        drop(held);
        let ran = work.verify("not a hash".into(), "y".into()).await;
        assert!(matches!(ran, Ok(false)), "{ran:?}");
    }
}
