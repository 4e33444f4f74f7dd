//! A gated function that returns a boxed future built by
//! `Box::pin(async move { .. })` checks the license before any statement of
//! its own runs, whatever that first statement is: only the type hint that
//! `#[async_trait]` writes may come before the check.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

type Answer<'a> = Pin<Box<dyn Future<Output = Result<u32, LicenseError>> + Send + 'a>>;

struct Cache {
    cached: Option<u32>,
    /// How many times a body statement ran.
    ran: AtomicUsize,
}

impl Cache {
    fn new(cached: Option<u32>) -> Self {
        Cache {
            cached,
            ran: AtomicUsize::new(0),
        }
    }

    fn touch(&self) -> Option<u32> {
        self.ran.fetch_add(1, Ordering::SeqCst);
        self.cached
    }

    #[requires_feature("pro")]
    fn if_let_first(&self) -> Pin<Box<dyn Future<Output = Result<u32, LicenseError>> + Send + '_>> {
        Box::pin(async move {
            if let Some(hit) = self.touch() {
                return Ok(hit);
            }
            Ok(0)
        })
    }

    #[requires_feature("pro")]
    fn let_first(&self) -> Pin<Box<dyn Future<Output = Result<u32, LicenseError>> + Send + '_>> {
        Box::pin(async move {
            let hit = self.touch();
            Ok(hit.unwrap_or(0))
        })
    }

    #[requires_feature("pro")]
    fn match_first(&self) -> Pin<Box<dyn Future<Output = Result<u32, LicenseError>> + Send + '_>> {
        Box::pin(async move {
            let hit = match self.touch() {
                Some(hit) => return Ok(hit),
                None => 0,
            };
            Ok(hit)
        })
    }

    #[allow(clippy::needless_return)]
    #[requires_feature("pro")]
    fn return_first(&self) -> Pin<Box<dyn Future<Output = Result<u32, LicenseError>> + Send + '_>> {
        Box::pin(async move {
            return Ok(self.touch().unwrap_or(0));
        })
    }

    /// The async-trait hint's shape, but its scrutinee runs code.
    #[requires_feature("pro")]
    fn hint_lookalike_first(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<u32, LicenseError>> + Send + '_>> {
        Box::pin(async move {
            if let ::core::option::Option::Some(__ret) = self.touch() {
                return Ok(__ret);
            }
            Ok(0)
        })
    }
}

#[async_trait]
trait Lookup {
    async fn lookup(&self) -> Result<u32, LicenseError>;
}

#[async_trait]
impl Lookup for Cache {
    #[requires_feature("pro")]
    async fn lookup(&self) -> Result<u32, LicenseError> {
        if let Some(hit) = self.touch() {
            return Ok(hit);
        }
        Ok(0)
    }
}

fn all(cache: &Cache) -> [(&'static str, Answer<'_>); 6] {
    [
        ("if let", cache.if_let_first()),
        ("let", cache.let_first()),
        ("match", cache.match_first()),
        ("return", cache.return_first()),
        ("hint look-alike", cache.hint_lookalike_first()),
        ("async_trait", cache.lookup()),
    ]
}

#[tokio::test]
async fn denied_before_any_statement_of_the_body_runs() {
    let cache = Cache::new(Some(7));
    for (first, call) in all(&cache) {
        let answer = TestLicense::unlicensed().scope(call).await;
        assert!(
            matches!(answer, Err(LicenseError::NotLicensed { .. })),
            "{first} first: {answer:?}"
        );
    }
    assert_eq!(cache.ran.load(Ordering::SeqCst), 0, "a body statement ran");
}

#[tokio::test]
async fn allowed_runs_the_body_as_written() {
    let cache = Cache::new(Some(7));
    for (first, call) in all(&cache) {
        let answer = TestLicense::product("Atlas")
            .features(["pro"])
            .scope(call)
            .await;
        assert_eq!(answer, Ok(7), "{first} first");
    }
    assert_eq!(cache.ran.load(Ordering::SeqCst), 6);
}
