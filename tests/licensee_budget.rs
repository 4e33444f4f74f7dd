//! The one scheduler and the request budget, under tokio's paused time: 300
//! licensees added at once against a provider that counts its calls, with
//! ECOSIRE's published limit of 30 validations a minute. Every licensee is
//! answered (requests queue, none fails), no minute holds more than the
//! limit, every licensee is validated again each heartbeat, and a licensee
//! whose server never answers retries on its own backoff without delaying
//! the others.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use license_gate::licensees::{LicenseeId, TokenBucketBudget};
use license_gate::{
    LicenseAnswer, LicenseGate, LicenseRequest, LicenseStatus, Provider, ProviderError,
};
use tokio::time::Instant;

/// Answers every key at once, except `BROKEN`, whose server is unreachable;
/// records when each key was asked.
#[derive(Debug, Default)]
struct Counting {
    calls: Mutex<Vec<(String, Instant)>>,
}

const BROKEN: &str = "BROKEN-KEY";

#[async_trait]
impl Provider for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        let key = request.license_key.as_ref().unwrap().expose().to_owned();
        self.calls
            .lock()
            .unwrap()
            .push((key.clone(), Instant::now()));
        if key == BROKEN {
            return Err(ProviderError::Unreachable {
                host: "license.example".into(),
                detail: "connection refused".into(),
            });
        }
        Ok(LicenseAnswer::licensed(["pro"]))
    }
}

/// Forwards to the shared counter (the builder takes the provider by value).
#[derive(Debug)]
struct Shared(Arc<Counting>);

#[async_trait]
impl Provider for Shared {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.0.validate(request).await
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const LICENSEES: usize = 300;

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn validations_queue_within_the_budget_and_failures_stay_with_their_licensee() {
    let counting = Arc::new(Counting::default());
    let licensees = LicenseGate::builder()
        .product("Atlas")
        .provider(Shared(counting.clone()))
        .heartbeat_interval(HOUR)
        .jitter(0.5)
        .install_global(false)
        .licensees()
        .budget(TokenBucketBudget::ecosire())
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    for n in 0..LICENSEES {
        licensees
            .add(format!("user-{n}"), format!("KEY-{n}"), format!("user:{n}"))
            .unwrap();
    }
    licensees.add("broken", BROKEN, "user:broken").unwrap();

    // Six simulated hours.
    tokio::time::sleep(6 * HOUR).await;

    let calls = counting.calls.lock().unwrap().clone();
    // No 60-second window, wherever it starts, holds more than 30.
    let times: Vec<Instant> = calls.iter().map(|(_, at)| *at).collect();
    let mut sorted = times.clone();
    sorted.sort();
    let busiest = sorted
        .iter()
        .enumerate()
        .map(|(i, at)| {
            sorted[i..]
                .iter()
                .take_while(|t| **t < *at + Duration::from_secs(60))
                .count()
        })
        .max()
        .unwrap();
    assert!(busiest <= 30, "{busiest} validations in one minute");
    // The first round queued rather than failed: every licensee is licensed,
    // the last one answered once the budget let it through.
    for n in 0..LICENSEES {
        let id = LicenseeId::new(format!("user-{n}"));
        assert_eq!(licensees.status(&id), Some(LicenseStatus::Licensed), "{id}");
    }
    let mut per_key: BTreeMap<&str, Vec<Instant>> = BTreeMap::new();
    for (key, at) in &calls {
        per_key.entry(key.as_str()).or_default().push(*at);
    }
    let first_round_done = per_key
        .iter()
        .filter(|(key, _)| **key != BROKEN)
        .map(|(_, at)| at[0])
        .max()
        .unwrap();
    // 301 first validations at 30 a minute: the last one within 11 minutes.
    assert!(
        first_round_done.duration_since(start) <= Duration::from_secs(11 * 60),
        "{:?}",
        first_round_done.duration_since(start)
    );
    // Every healthy licensee was validated again each heartbeat (an hour,
    // shortened by up to half), however its broken neighbour fared.
    for (key, at) in &per_key {
        if *key == BROKEN {
            continue;
        }
        assert!(at.len() >= 6, "{key} validated {} times", at.len());
        for pair in at.windows(2) {
            let gap = pair[1].duration_since(pair[0]);
            assert!(gap <= HOUR + Duration::from_secs(11 * 60), "{key}: {gap:?}");
        }
    }
    // The broken one retried on its own backoff: once after 30 s at most,
    // then every 30 to 60 minutes; it never got a grant.
    let broken = &per_key[BROKEN];
    assert!(
        (4..=14).contains(&broken.len()),
        "{} attempts",
        broken.len()
    );
    assert_eq!(
        licensees.status(&LicenseeId::new("broken")),
        Some(LicenseStatus::Pending)
    );
    licensees.shutdown().await;
}
