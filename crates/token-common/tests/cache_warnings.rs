//! A failed refresh is logged once per failure, however many callers are served the old
//! token meanwhile: a fleet of tasks must not turn one outage into a warning storm.
//!
//! One test in this binary on purpose (as in `tracing_capture.rs`): tracing caches each
//! call site's interest process-wide, so a capture installed while other tests' threads
//! reach the same call sites can miss events.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use token_common::cache::{Expiring, FailureBackoff, TokenCache, TokenSource};
use token_common::clock::{Clock, TokioClock};
use token_common::transport::BoxFuture;
use token_common::{Error, Result};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Keeps the message of every WARN event.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Warnings {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == Level::WARN {
            let mut text = String::new();
            event.record(&mut Message(&mut text));
            self.0.lock().unwrap().push(text);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The first fetch gives a token valid for an hour; every later one fails after 1 s.
#[derive(Debug)]
struct FailsAfterFirst {
    clock: Arc<dyn Clock>,
    fetches: AtomicUsize,
}

impl TokenSource for FailsAfterFirst {
    type Token = String;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<String>>> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst);
        let expires = self.clock.now() + Duration::from_secs(3600);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if n == 0 {
                Ok(Expiring::new("token-1".to_owned(), Some(expires)))
            } else {
                Err(Error::credentials("the test source", "refresh refused"))
            }
        })
    }
}

#[test]
fn a_failed_refresh_warns_once_per_failure_not_once_per_caller() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let warnings = Warnings::default();
    let _guard = tracing::subscriber::set_default(warnings.clone());
    rt.block_on(async {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
        let source = FailsAfterFirst {
            clock: clock.clone(),
            fetches: AtomicUsize::new(0),
        };
        let cache = TokenCache::new(source)
            .with_clock(clock)
            .with_failure_backoff(FailureBackoff::new(
                Duration::from_secs(10),
                Duration::from_secs(10),
            ))
            .with_rng_seed(3);
        assert_eq!(cache.get().await.unwrap().value, "token-1");
        // Inside the refresh margin: every get starts (or joins) a refresh that fails.
        tokio::time::advance(Duration::from_secs(3600 - 60)).await;
        for failure in 1..=3usize {
            // Many callers while the refresh is in flight and after it failed: all get
            // the still-valid token.
            for _ in 0..50 {
                let got = cache.get().await.expect("the old token while it is valid");
                assert_eq!(got.value, "token-1");
                tokio::time::advance(Duration::from_millis(50)).await;
            }
            assert_eq!(
                cache.source().fetches.load(Ordering::SeqCst),
                1 + failure,
                "one fetch per failure"
            );
            let seen = warnings.0.lock().unwrap().clone();
            assert_eq!(seen.len(), failure, "one warning per failure: {seen:#?}");
            assert!(seen[failure - 1].contains("refresh refused"), "{seen:#?}");
            // Past the backoff (at most 10 s), the next caller starts the next try.
            tokio::time::advance(Duration::from_secs(11)).await;
        }
    });
}
