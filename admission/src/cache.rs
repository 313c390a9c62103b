//! Verdicts by (image digest, policy digest, trust digest), reused for a TTL (a shorter one for
//! denials), bounded in entries; concurrent requests for the same key share one verification
//! (single-flight). Only verdicts are cached: an image that could not be decided is asked again.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::CacheSettings;

/// Longest message kept with a cached verdict, so that the bound on entries bounds memory.
pub const MAX_MESSAGE: usize = 512;

/// What a verdict depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The image: its repository and manifest digest (`registry/repository@sha256:…`). The
    /// repository is part of it: the attestations are looked up there, and a policy may read
    /// the name, so a verdict for one repository never stands for another's image.
    pub image: String,
    /// The policy's digest (or `none`).
    pub policy: String,
    /// The trust configuration's digest.
    pub trust: String,
}

/// A verdict on one image, as reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// Allowed by the engine.
    pub allowed: bool,
    /// The violations' codes (empty when allowed).
    pub codes: Vec<String>,
    /// The first violation's message (at most [`MAX_MESSAGE`] bytes).
    pub message: String,
}

/// Why an image could not be decided, shared with the requests that waited for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The stable code.
    pub code: String,
    /// What happened.
    pub message: String,
}

/// How a lookup was answered (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A cached verdict.
    Hit,
    /// Decided now.
    Miss,
    /// Another request's verification, waited for.
    Shared,
}

impl Hit {
    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            Hit::Hit => "hit",
            Hit::Miss => "miss",
            Hit::Shared => "shared",
        }
    }
}

type Outcome = Result<Judged, Failed>;

#[derive(Default)]
struct Flight {
    done: Mutex<Option<Outcome>>,
    ready: Condvar,
}

struct Entry {
    judged: Judged,
    expires: Instant,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    flights: HashMap<Key, Arc<Flight>>,
}

/// The cache.
pub struct VerdictCache {
    settings: CacheSettings,
    inner: Mutex<Inner>,
}

/// Completes a flight even when the decision panics, so waiters are not left until their
/// deadline.
struct Landing<'a> {
    cache: &'a VerdictCache,
    key: &'a Key,
    flight: Arc<Flight>,
    outcome: Option<Outcome>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let outcome = self.outcome.take().unwrap_or_else(|| {
            Err(Failed {
                code: "admission.deadline".to_owned(),
                message: "the shared verification was abandoned".to_owned(),
            })
        });
        self.cache.lock().flights.remove(self.key);
        let mut done = self
            .flight
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *done = Some(outcome);
        self.flight.ready.notify_all();
    }
}

impl VerdictCache {
    /// An empty cache.
    pub fn new(settings: CacheSettings) -> Self {
        VerdictCache {
            settings,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only a map of plain data behind.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Verdicts held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached verdict for `key` at `now`, if there is a live one (no decision is started).
    pub fn peek(&self, key: &Key, now: Instant) -> Option<Judged> {
        let inner = self.lock();
        let entry = inner.entries.get(key)?;
        (entry.expires > now).then(|| entry.judged.clone())
    }

    /// The cached verdict for `key` at `now`, or `decide`'s, or that of a concurrent request
    /// already deciding it (waited for until `deadline`).
    pub fn get_or_decide(
        &self,
        key: &Key,
        now: Instant,
        deadline: Instant,
        decide: impl FnOnce() -> Outcome,
    ) -> (Outcome, Hit) {
        let flight = {
            let mut inner = self.lock();
            if let Some(entry) = inner.entries.get(key) {
                if entry.expires > now {
                    return (Ok(entry.judged.clone()), Hit::Hit);
                }
                inner.entries.remove(key);
            }
            match inner.flights.get(key) {
                Some(flight) => Err(flight.clone()),
                None => {
                    let flight = Arc::new(Flight::default());
                    inner.flights.insert(key.clone(), flight.clone());
                    Ok(flight)
                }
            }
        };
        match flight {
            Ok(flight) => {
                let mut landing = Landing {
                    cache: self,
                    key,
                    flight,
                    outcome: None,
                };
                let outcome = decide();
                if let Ok(judged) = &outcome {
                    self.insert(key, judged, now);
                }
                landing.outcome = Some(outcome.clone());
                drop(landing);
                (outcome, Hit::Miss)
            }
            Err(flight) => (Self::wait(&flight, deadline), Hit::Shared),
        }
    }

    fn wait(flight: &Flight, deadline: Instant) -> Outcome {
        let mut done = flight
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(outcome) = done.as_ref() {
                return outcome.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failed {
                    code: "admission.deadline".to_owned(),
                    message: "the deadline passed waiting for a verification of the same image"
                        .to_owned(),
                });
            }
            done = flight
                .ready
                .wait_timeout(done, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    fn insert(&self, key: &Key, judged: &Judged, now: Instant) {
        let ttl: Duration = if judged.allowed {
            self.settings.ttl
        } else {
            self.settings.deny_ttl
        };
        if ttl.is_zero() || self.settings.max_entries == 0 {
            return;
        }
        let mut inner = self.lock();
        if inner.entries.len() >= self.settings.max_entries {
            inner.entries.retain(|_, e| e.expires > now);
        }
        if inner.entries.len() >= self.settings.max_entries {
            // Still full of live verdicts: drop the half closest to expiry.
            let mut expiries: Vec<Instant> = inner.entries.values().map(|e| e.expires).collect();
            expiries.sort_unstable();
            let cut = expiries[expiries.len() / 2];
            inner.entries.retain(|_, e| e.expires > cut);
        }
        let mut judged = judged.clone();
        if judged.message.len() > MAX_MESSAGE {
            let mut end = MAX_MESSAGE;
            while !judged.message.is_char_boundary(end) {
                end -= 1;
            }
            judged.message.truncate(end);
        }
        inner.entries.insert(
            key.clone(),
            Entry {
                judged,
                expires: now + ttl,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn key(image: &str) -> Key {
        Key {
            image: image.to_owned(),
            policy: "p".to_owned(),
            trust: "t".to_owned(),
        }
    }

    fn judged(allowed: bool) -> Judged {
        Judged {
            allowed,
            codes: Vec::new(),
            message: "x".repeat(10_000),
        }
    }

    fn settings(max_entries: usize) -> CacheSettings {
        CacheSettings {
            ttl: Duration::from_secs(60),
            deny_ttl: Duration::from_secs(5),
            max_entries,
        }
    }

    #[test]
    fn denials_expire_sooner_and_failures_are_not_kept() {
        let cache = VerdictCache::new(settings(10));
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(600);
        let (_, hit) = cache.get_or_decide(&key("a"), t0, far, || Ok(judged(true)));
        assert_eq!(hit, Hit::Miss);
        let (_, hit) = cache.get_or_decide(&key("d"), t0, far, || Ok(judged(false)));
        assert_eq!(hit, Hit::Miss);
        let (_, hit) = cache.get_or_decide(&key("f"), t0, far, || {
            Err(Failed {
                code: "admission.registry".into(),
                message: String::new(),
            })
        });
        assert_eq!(hit, Hit::Miss);
        let later = t0 + Duration::from_secs(10);
        let (got, hit) = cache.get_or_decide(&key("a"), later, far, || unreachable!());
        assert_eq!(hit, Hit::Hit);
        assert_eq!(got.unwrap().message.len(), MAX_MESSAGE);
        let (_, hit) = cache.get_or_decide(&key("d"), later, far, || Ok(judged(false)));
        assert_eq!(hit, Hit::Miss, "a denial outlived its TTL");
        let (_, hit) = cache.get_or_decide(&key("f"), later, far, || Ok(judged(true)));
        assert_eq!(hit, Hit::Miss, "a failure was cached");
        let other = Key {
            policy: "q".into(),
            ..key("a")
        };
        let (_, hit) = cache.get_or_decide(&other, later, far, || Ok(judged(false)));
        assert_eq!(hit, Hit::Miss, "a verdict was reused under another policy");
    }

    #[test]
    fn entries_are_bounded() {
        let cache = VerdictCache::new(settings(8));
        let t0 = Instant::now();
        for i in 0..100 {
            let now = t0 + Duration::from_millis(i);
            let _ = cache.get_or_decide(&key(&i.to_string()), now, now, || Ok(judged(true)));
            assert!(cache.len() <= 8);
        }
    }

    #[test]
    fn concurrent_requests_share_one_verification() {
        let cache = Arc::new(VerdictCache::new(settings(10)));
        let calls = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(30);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                std::thread::spawn(move || {
                    cache
                        .get_or_decide(&key("same"), Instant::now(), deadline, || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(300));
                            Ok(judged(true))
                        })
                        .1
                })
            })
            .collect();
        let hits: Vec<Hit> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(hits.iter().filter(|h| **h == Hit::Miss).count(), 1);
    }

    #[test]
    fn a_waiter_gives_up_at_its_deadline() {
        let cache = Arc::new(VerdictCache::new(settings(10)));
        let c2 = cache.clone();
        let leader = std::thread::spawn(move || {
            let far = Instant::now() + Duration::from_secs(30);
            c2.get_or_decide(&key("slow"), Instant::now(), far, || {
                std::thread::sleep(Duration::from_millis(800));
                Ok(judged(true))
            })
        });
        std::thread::sleep(Duration::from_millis(100));
        let soon = Instant::now() + Duration::from_millis(100);
        let (got, hit) = cache.get_or_decide(&key("slow"), Instant::now(), soon, || unreachable!());
        assert_eq!(hit, Hit::Shared);
        assert_eq!(got.unwrap_err().code, "admission.deadline");
        assert!(leader.join().unwrap().0.is_ok());
    }
}
