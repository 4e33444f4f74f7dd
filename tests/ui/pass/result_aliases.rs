//! The denial is built by the type system: any alias of `Result<T, E>` with
//! `E: From<LicenseError>`, associated types that are one, and boxed futures
//! of one (twin of `fail/not_result_without_fallback.rs`).

use std::future::Future;
use std::pin::Pin;

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[derive(Debug, PartialEq)]
enum AppError {
    License,
}

impl From<LicenseError> for AppError {
    fn from(_: LicenseError) -> Self {
        AppError::License
    }
}

type AppResult<T> = Result<T, AppError>;
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

#[requires_feature("pro")]
fn alias() -> AppResult<u32> {
    Ok(1)
}

trait Render {
    type Output;
    fn render(&self) -> Self::Output;
}

struct Page;

impl Render for Page {
    type Output = AppResult<u32>;

    #[requires_feature("pro")]
    fn render(&self) -> Self::Output {
        Ok(2)
    }
}

#[requires_feature("pro")]
fn boxed(n: u32) -> BoxFuture<'static, AppResult<u32>> {
    let work = async move { Ok(n) };
    Box::pin(work)
}

#[requires_feature("pro")]
fn boxed_local(n: u32) -> LocalBoxFuture<'static, Result<u32, LicenseError>> {
    let work = async move { Ok(n) };
    Box::pin(work)
}

#[requires_feature("pro")]
fn pinned(n: &u32) -> Pin<Box<dyn Future<Output = AppResult<u32>> + Send + '_>> {
    Box::pin(async move { Ok(*n) })
}

#[tokio::test]
async fn main() {
    {
        let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
        assert_eq!(alias(), Ok(1));
        assert_eq!(Page.render(), Ok(2));
        assert_eq!(boxed(3).await, Ok(3));
        assert_eq!(boxed_local(4).await, Ok(4));
    }
    let _license = TestLicense::unlicensed().scoped();
    assert_eq!(alias(), Err(AppError::License));
    assert_eq!(Page.render(), Err(AppError::License));
    assert_eq!(boxed(3).await, Err(AppError::License));
    assert!(boxed_local(4).await.is_err());
    let n = 5;
    assert_eq!(
        TestLicense::unlicensed().scope(pinned(&n)).await,
        Err(AppError::License)
    );
}
