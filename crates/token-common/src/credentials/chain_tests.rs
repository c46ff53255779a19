//! The async chain: order, skip reasons, broken sources, and sticking to the source that
//! answered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;
use crate::credentials::{Environment, HuaweiCredentials, HuaweiEnvironment};

/// A scripted source: answers in turn from `script` (the last answer repeats).
#[derive(Debug)]
struct Scripted {
    name: &'static str,
    script: Mutex<Vec<Outcome>>,
    loads: Arc<AtomicUsize>,
}

#[derive(Debug, Clone)]
enum Outcome {
    Found(&'static str),
    NotFound(&'static str),
    Broken(&'static str),
}

impl Scripted {
    fn new(name: &'static str, script: Vec<Outcome>) -> (Self, Arc<AtomicUsize>) {
        let loads = Arc::new(AtomicUsize::new(0));
        let s = Self {
            name,
            script: Mutex::new(script),
            loads: loads.clone(),
        };
        (s, loads)
    }
}

impl LoadCredentials<HuaweiCredentials> for Scripted {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let mut script = self.script.lock().unwrap();
        let next = if script.len() > 1 {
            script.remove(0)
        } else {
            script[0].clone()
        };
        let out = match next {
            Outcome::Found(ak) => Ok(Expiring::new(HuaweiCredentials::new(ak, "SK-secret"), None)),
            Outcome::NotFound(why) => Err(Error::credentials_not_found(self.name, why)),
            Outcome::Broken(why) => Err(Error::credentials(self.name, why)),
        };
        Box::pin(std::future::ready(out))
    }

    fn describe(&self) -> String {
        self.name.to_owned()
    }
}

#[tokio::test]
async fn the_first_source_that_answers_wins_and_later_ones_are_not_asked() {
    let (a, a_loads) = Scripted::new("A", vec![Outcome::NotFound("unset")]);
    let (b, b_loads) = Scripted::new("B", vec![Outcome::Found("AK-B")]);
    let (c, c_loads) = Scripted::new("C", vec![Outcome::Found("AK-C")]);
    let chain = LoadChain::new().with(a).with(b).with(c);
    assert_eq!(chain.load().await.unwrap().value.access_key(), "AK-B");
    assert_eq!(a_loads.load(Ordering::SeqCst), 1);
    assert_eq!(b_loads.load(Ordering::SeqCst), 1);
    assert_eq!(c_loads.load(Ordering::SeqCst), 0);
    assert_eq!(chain.chosen().as_deref(), Some("B"));
    assert_eq!(chain.describe(), "B");
}

#[tokio::test]
async fn nothing_found_lists_every_source_in_order_with_its_reason() {
    let (a, _) = Scripted::new("A", vec![Outcome::NotFound("variables unset")]);
    let (b, _) = Scripted::new("B", vec![Outcome::NotFound("no file")]);
    let (c, _) = Scripted::new("C", vec![Outcome::NotFound("nothing answered")]);
    let chain = LoadChain::new().with(a).with(b).with(c);
    let e = chain.load().await.unwrap_err();
    assert!(e.is_credentials_not_found(), "{e:?}");
    assert_eq!(
        e.to_string(),
        "no credentials in the credentials chain: tried 1. A: variables unset; \
         2. B: no file; 3. C: nothing answered"
    );
    assert_eq!(chain.chosen(), None);
    assert_eq!(
        chain.describe(),
        "the credentials chain (A, then B, then C)"
    );
}

#[tokio::test]
async fn a_broken_source_stops_the_chain_with_its_own_error() {
    let (a, _) = Scripted::new("A", vec![Outcome::NotFound("unset")]);
    let (b, _) = Scripted::new("B", vec![Outcome::Broken("no agency attached")]);
    let (c, c_loads) = Scripted::new("C", vec![Outcome::Found("AK-C")]);
    let chain = LoadChain::new().with(a).with(b).with(c);
    let e = chain.load().await.unwrap_err();
    assert!(!e.is_credentials_not_found());
    assert_eq!(e.to_string(), "credentials from B: no agency attached");
    assert_eq!(c_loads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn later_loads_ask_only_the_source_that_answered_even_when_it_is_gone() {
    let (a, a_loads) = Scripted::new("A", vec![Outcome::NotFound("unset")]);
    let (b, b_loads) = Scripted::new(
        "metadata",
        vec![
            Outcome::Found("AK-1"),
            Outcome::Found("AK-2"),
            Outcome::NotFound("nothing answered"),
        ],
    );
    let (c, c_loads) = Scripted::new("C", vec![Outcome::Found("AK-OTHER-IDENTITY")]);
    let chain = LoadChain::new().with(a).with(b).with(c);
    assert_eq!(chain.load().await.unwrap().value.access_key(), "AK-1");
    assert_eq!(chain.load().await.unwrap().value.access_key(), "AK-2");
    let e = chain.load().await.unwrap_err();
    // Not "not found": an outer chain or the caller must not look elsewhere.
    assert!(!e.is_credentials_not_found(), "{e:?}");
    assert!(e.to_string().contains("metadata"), "{e}");
    assert!(e.to_string().contains("nothing answered"), "{e}");
    assert_eq!(a_loads.load(Ordering::SeqCst), 1);
    assert_eq!(b_loads.load(Ordering::SeqCst), 3);
    assert_eq!(c_loads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn static_providers_join_through_the_adapter_and_their_absence_is_a_skip() {
    let empty = Environment::from_pairs::<&str, &str>([]);
    let (m, _) = Scripted::new("metadata", vec![Outcome::Found("AK-M")]);
    let chain = LoadChain::new()
        .with_provided(HuaweiEnvironment::with_environment(empty))
        .with(m);
    assert_eq!(chain.load().await.unwrap().value.access_key(), "AK-M");

    // A half-set environment is broken, not absent: the chain stops there.
    let half = Environment::from_pairs([("HUAWEICLOUD_SDK_AK", "AK")]);
    let (m, m_loads) = Scripted::new("metadata", vec![Outcome::Found("AK-M")]);
    let chain = LoadChain::new()
        .with_provided(HuaweiEnvironment::with_environment(half))
        .with(m);
    let e = chain.load().await.unwrap_err();
    assert!(e.to_string().contains("HUAWEICLOUD_SDK_SK"), "{e}");
    assert_eq!(m_loads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_empty_chain_says_so() {
    let chain = LoadChain::<HuaweiCredentials>::new();
    let e = chain.load().await.unwrap_err();
    assert!(e.to_string().contains("no source"), "{e}");
}
