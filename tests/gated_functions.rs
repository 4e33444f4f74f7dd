//! Behaviour of `#[requires_feature]` and `#[licensed]` on synchronous
//! functions: allowed and denied calls, fallbacks, products, `any(..)`, methods
//! with every receiver, generic functions and `impl Trait` returns.

use std::cell::Cell;
use std::sync::{Arc, Barrier};

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, LicenseStatus, licensed, requires_feature};
use license_gate::{Required, error::Features};

const STUDIO: &str = "Atlas Studio";
const RENDER: &str = "Atlas Render";

#[derive(Debug, PartialEq, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    License(#[from] LicenseError),
    #[error("page {0} is out of range")]
    OutOfRange(u32),
}

fn missing(product: &str, feature: &'static [&'static str]) -> AppError {
    AppError::License(LicenseError::MissingFeature {
        product: product.into(),
        missing: Features::from_static(feature),
        required: Required::all_of(feature),
        status: LicenseStatus::Licensed,
    })
}

// ---- free functions ----

/// Exports pages.
#[requires_feature("pro")]
fn export(pages: u32) -> Result<Vec<u8>, AppError> {
    Ok(vec![0; pages as usize])
}

#[requires_feature("pro", "export")]
fn export_both(pages: u32) -> Result<u32, AppError> {
    Ok(pages)
}

#[requires_feature(any("pro", "enterprise"))]
fn export_any(pages: u32) -> Result<u32, AppError> {
    Ok(pages)
}

#[requires_feature("gpu", product = "Atlas Render")]
fn render(frames: u32) -> Result<u32, AppError> {
    Ok(frames)
}

#[licensed]
fn open() -> Result<&'static str, AppError> {
    Ok("opened")
}

#[licensed(product = "Atlas Render")]
fn open_render() -> Result<&'static str, LicenseError> {
    Ok("render opened")
}

#[test]
fn allowed_call_runs_the_body() {
    let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
    assert_eq!(export(3), Ok(vec![0, 0, 0]));
}

#[test]
fn denied_call_returns_missing_feature() {
    let _license = TestLicense::product(STUDIO).features(["basic"]).scoped();
    assert_eq!(export(3), Err(missing(STUDIO, &["pro"])));
}

#[test]
fn unlicensed_is_denied_as_not_licensed() {
    let _license = TestLicense::unlicensed().scoped();
    match export(1) {
        Err(AppError::License(LicenseError::NotLicensed { status, .. })) => {
            assert!(
                matches!(status, LicenseStatus::Unlicensed { .. }),
                "{status:?}"
            );
        }
        other => panic!("expected NotLicensed, got {other:?}"),
    }
}

#[test]
fn revoked_license_is_denied_even_with_the_feature() {
    let _license = TestLicense::product(STUDIO)
        .features(["pro"])
        .status(LicenseStatus::Revoked)
        .scoped();
    assert_eq!(
        export(1),
        Err(AppError::License(LicenseError::NotLicensed {
            product: STUDIO.into(),
            required: Required::all_of(&["pro"]),
            status: LicenseStatus::Revoked,
        }))
    );
}

#[test]
fn without_a_gate_the_call_is_denied_with_no_gate() {
    // No scope on this thread, and no gate is installed in this test binary.
    assert_eq!(
        export(1),
        Err(AppError::License(LicenseError::NoGate {
            product: None,
            required: Required::all_of(&["pro"]),
        }))
    );
}

#[test]
fn several_features_need_all_of_them() {
    {
        let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
        assert_eq!(
            export_both(1),
            Err(AppError::License(LicenseError::MissingFeature {
                product: STUDIO.into(),
                missing: Features::from_static(&["export"]),
                required: Required::all_of(&["pro", "export"]),
                status: LicenseStatus::Licensed,
            }))
        );
    }
    let _license = TestLicense::product(STUDIO)
        .features(["export", "pro"])
        .scoped();
    assert_eq!(export_both(1), Ok(1));
}

#[test]
fn any_needs_one_of_them() {
    for features in [["pro"], ["enterprise"]] {
        let _license = TestLicense::product(STUDIO).features(features).scoped();
        assert_eq!(export_any(2), Ok(2), "with {features:?}");
    }
    let _license = TestLicense::product(STUDIO).features(["basic"]).scoped();
    assert_eq!(
        export_any(2),
        Err(AppError::License(LicenseError::MissingFeature {
            product: STUDIO.into(),
            missing: Features::from_static(&["pro", "enterprise"]),
            required: Required::any_of(&["pro", "enterprise"]),
            status: LicenseStatus::Licensed,
        }))
    );
}

#[test]
fn product_picks_the_license_checked() {
    {
        // The default product has `gpu`, the named one does not.
        let _license = TestLicense::product(STUDIO)
            .features(["gpu"])
            .and_product(RENDER)
            .scoped();
        assert_eq!(render(24), Err(missing(RENDER, &["gpu"])));
    }
    let _license = TestLicense::product(STUDIO)
        .and_product(RENDER)
        .features(["gpu"])
        .scoped();
    assert_eq!(render(24), Ok(24));
    assert_eq!(export(1), Err(missing(STUDIO, &["pro"])));
}

#[test]
fn unknown_product_is_reported() {
    let _license = TestLicense::product(STUDIO).features(["gpu"]).scoped();
    assert_eq!(
        render(1),
        Err(AppError::License(LicenseError::UnknownProduct {
            product: RENDER.into(),
            required: Required::all_of(&["gpu"]),
        }))
    );
    assert_eq!(
        open_render(),
        Err(LicenseError::UnknownProduct {
            product: RENDER.into(),
            required: Required::license(),
        })
    );
}

#[test]
fn licensed_needs_only_a_licensed_product() {
    {
        let _license = TestLicense::product(STUDIO).scoped();
        assert_eq!(open(), Ok("opened"));
    }
    {
        let _license = TestLicense::product(STUDIO)
            .status(LicenseStatus::Expired)
            .scoped();
        assert_eq!(
            open(),
            Err(AppError::License(LicenseError::NotLicensed {
                product: STUDIO.into(),
                required: Required::license(),
                status: LicenseStatus::Expired,
            }))
        );
    }
    let _license = TestLicense::product(STUDIO).and_product(RENDER).scoped();
    assert_eq!(open_render(), Ok("render opened"));
}

// ---- fallbacks ----

thread_local! {
    static FALLBACK_ARGS: Cell<Option<(u32, &'static str)>> = const { Cell::new(None) };
}

#[requires_feature("hd", fallback = thumbnail_sd)]
fn thumbnail(width: u32, label: &'static str) -> String {
    format!("hd {width} {label}")
}

fn thumbnail_sd(width: u32, label: &'static str) -> String {
    FALLBACK_ARGS.with(|args| args.set(Some((width, label))));
    format!("sd {width} {label}")
}

#[licensed(product = "Atlas Render", fallback = fallbacks::preview)]
fn render_frames(mut frames: u32) -> u32 {
    frames *= 2;
    frames
}

mod fallbacks {
    pub(crate) fn preview(frames: u32) -> u32 {
        frames
    }
}

#[test]
fn fallback_gets_the_same_arguments() {
    {
        let _license = TestLicense::product(STUDIO).features(["hd"]).scoped();
        assert_eq!(thumbnail(640, "cover"), "hd 640 cover");
        assert_eq!(FALLBACK_ARGS.with(Cell::get), None);
    }
    let _license = TestLicense::product(STUDIO).scoped();
    assert_eq!(thumbnail(320, "back"), "sd 320 back");
    assert_eq!(FALLBACK_ARGS.with(Cell::get), Some((320, "back")));
}

#[test]
fn fallback_by_path_for_licensed() {
    {
        let _license = TestLicense::product(STUDIO).and_product(RENDER).scoped();
        assert_eq!(render_frames(12), 24);
    }
    let _license = TestLicense::product(STUDIO).scoped();
    assert_eq!(render_frames(12), 12);
}

// ---- methods ----

#[derive(Debug, Clone, PartialEq)]
struct Doc {
    pages: u32,
}

impl Doc {
    #[requires_feature("pro")]
    fn by_ref(&self) -> Result<u32, AppError> {
        Ok(self.pages)
    }

    #[requires_feature("pro")]
    fn by_mut(&mut self) -> Result<u32, AppError> {
        self.pages += 1;
        Ok(self.pages)
    }

    #[requires_feature("pro")]
    fn by_value(self) -> Result<Doc, AppError> {
        Ok(Doc {
            pages: self.pages * 10,
        })
    }

    #[requires_feature("pro")]
    fn by_mut_value(mut self) -> Result<Doc, AppError> {
        self.pages = 0;
        Ok(self)
    }

    #[allow(clippy::boxed_local)]
    #[requires_feature("pro")]
    fn boxed(self: Box<Self>) -> Result<u32, AppError> {
        Ok(self.pages)
    }

    #[requires_feature("pro")]
    fn shared(self: Arc<Self>) -> Result<u32, AppError> {
        Ok(self.pages)
    }

    #[requires_feature("pro")]
    fn new(pages: u32) -> Result<Doc, AppError> {
        Ok(Doc { pages })
    }

    #[requires_feature("pro", fallback = Self::summary_basic)]
    fn summary(&self, prefix: &str) -> String {
        format!("{prefix}: full {}", self.pages)
    }

    fn summary_basic(&self, prefix: &str) -> String {
        format!("{prefix}: basic {}", self.pages)
    }

    #[requires_feature("pro", fallback = Self::grow_basic)]
    fn grow(&mut self, by: u32) -> u32 {
        self.pages += by * 10;
        self.pages
    }

    fn grow_basic(&mut self, by: u32) -> u32 {
        self.pages += by;
        self.pages
    }

    #[requires_feature("pro", fallback = Self::into_basic)]
    fn into_pages(self) -> Vec<u32> {
        (0..self.pages).collect()
    }

    fn into_basic(self) -> Vec<u32> {
        vec![self.pages]
    }
}

#[test]
fn methods_with_every_receiver_allowed() {
    let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
    let mut doc = Doc { pages: 2 };
    assert_eq!(doc.by_ref(), Ok(2));
    assert_eq!(doc.by_mut(), Ok(3));
    assert_eq!(doc.clone().by_value(), Ok(Doc { pages: 30 }));
    assert_eq!(doc.clone().by_mut_value(), Ok(Doc { pages: 0 }));
    assert_eq!(Box::new(doc.clone()).boxed(), Ok(3));
    assert_eq!(Arc::new(doc.clone()).shared(), Ok(3));
    assert_eq!(Doc::new(7), Ok(Doc { pages: 7 }));
    assert_eq!(doc.summary("doc"), "doc: full 3");
    assert_eq!(doc.grow(1), 13);
    assert_eq!(doc.into_pages().len(), 13);
}

#[test]
fn methods_with_every_receiver_denied() {
    let _license = TestLicense::product(STUDIO).scoped();
    let denied = || missing(STUDIO, &["pro"]);
    let mut doc = Doc { pages: 2 };
    assert_eq!(doc.by_ref(), Err(denied()));
    assert_eq!(doc.by_mut(), Err(denied()));
    assert_eq!(doc.pages, 2, "the body did not run");
    assert_eq!(doc.clone().by_value(), Err(denied()));
    assert_eq!(doc.clone().by_mut_value(), Err(denied()));
    assert_eq!(Box::new(doc.clone()).boxed(), Err(denied()));
    assert_eq!(Arc::new(doc.clone()).shared(), Err(denied()));
    assert_eq!(Doc::new(7), Err(denied()));
    assert_eq!(doc.summary("doc"), "doc: basic 2");
    assert_eq!(doc.grow(1), 3);
    assert_eq!(doc.into_pages(), vec![3]);
}

// ---- trait-impl methods ----

trait Exporter {
    fn export(&self, name: &str) -> Result<String, AppError>;
    fn preview(&self) -> String;
}

struct Pdf;

impl Exporter for Pdf {
    #[requires_feature("pdf")]
    fn export(&self, name: &str) -> Result<String, AppError> {
        Ok(format!("{name}.pdf"))
    }

    #[requires_feature("pdf", fallback = preview_text)]
    fn preview(&self) -> String {
        "pdf preview".to_owned()
    }
}

fn preview_text(_: &Pdf) -> String {
    "text preview".to_owned()
}

trait WithDefault {
    #[requires_feature("pdf")]
    fn default_export(&self) -> Result<&'static str, AppError> {
        Ok("default")
    }
}

impl WithDefault for Pdf {}

#[test]
fn trait_impl_methods() {
    {
        let _license = TestLicense::product(STUDIO).features(["pdf"]).scoped();
        assert_eq!(Pdf.export("a"), Ok("a.pdf".to_owned()));
        assert_eq!(Pdf.preview(), "pdf preview");
        assert_eq!(Pdf.default_export(), Ok("default"));
        let dynamic: &dyn Exporter = &Pdf;
        assert_eq!(dynamic.export("b"), Ok("b.pdf".to_owned()));
    }
    let _license = TestLicense::product(STUDIO).scoped();
    assert_eq!(Pdf.export("a"), Err(missing(STUDIO, &["pdf"])));
    assert_eq!(Pdf.preview(), "text preview");
    assert_eq!(Pdf.default_export(), Err(missing(STUDIO, &["pdf"])));
}

// ---- generic functions ----

#[requires_feature("pro")]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Result<Option<T>, AppError> {
    Ok(items.iter().copied().fold(None, |max, x| match max {
        Some(m) if m >= x => Some(m),
        _ => Some(x),
    }))
}

#[requires_feature("pro", fallback = describe_basic)]
fn describe<T>(value: T) -> String
where
    T: std::fmt::Debug,
{
    format!("full {value:?}")
}

fn describe_basic<T: std::fmt::Debug>(value: T) -> String {
    format!("basic {value:?}")
}

struct Stack<T>(Vec<T>);

impl<T: Clone> Stack<T> {
    #[requires_feature("pro")]
    fn top(&self) -> Result<Option<T>, AppError> {
        Ok(self.0.last().cloned())
    }

    #[requires_feature("pro")]
    fn mapped<U, F: Fn(&T) -> U>(&self, f: F) -> Result<Vec<U>, AppError> {
        Ok(self.0.iter().map(f).collect())
    }
}

#[test]
fn generic_functions_share_one_call_site_per_function() {
    {
        let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
        assert_eq!(largest(&[1, 5, 3]), Ok(Some(5)));
        assert_eq!(largest(&[1.5, 0.5]), Ok(Some(1.5)));
        assert_eq!(describe("x"), "full \"x\"");
        assert_eq!(describe(7u8), "full 7");
        let stack = Stack(vec!['a', 'b']);
        assert_eq!(stack.top(), Ok(Some('b')));
        assert_eq!(stack.mapped(|c| c.len_utf8()), Ok(vec![1, 1]));
    }
    let _license = TestLicense::product(STUDIO).scoped();
    assert_eq!(largest(&[1, 5, 3]), Err(missing(STUDIO, &["pro"])));
    assert_eq!(largest::<f64>(&[]), Err(missing(STUDIO, &["pro"])));
    assert_eq!(describe("x"), "basic \"x\"");
    assert_eq!(Stack(vec![1]).top(), Err(missing(STUDIO, &["pro"])));
}

// ---- `impl Trait` in a `Result` ----

#[requires_feature("pro")]
fn pages(count: u32) -> Result<impl Iterator<Item = u32>, AppError> {
    Ok((1..=count).map(|page| page * 10))
}

#[requires_feature("pro")]
fn printer(prefix: String) -> std::io::Result<impl Fn(u32) -> String> {
    Ok(move |n| format!("{prefix}{n}"))
}

#[test]
fn impl_trait_inside_result() {
    {
        let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
        assert_eq!(pages(3).unwrap().collect::<Vec<_>>(), vec![10, 20, 30]);
        assert_eq!(printer("p".to_owned()).unwrap()(1), "p1");
    }
    let _license = TestLicense::product(STUDIO).scoped();
    assert_eq!(pages(3).err(), Some(missing(STUDIO, &["pro"])));
    let error = printer("p".to_owned()).err().expect("denied");
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
    let inner = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<LicenseError>());
    assert!(
        matches!(inner, Some(LicenseError::MissingFeature { missing, .. }) if missing.iter().eq(["pro"])),
        "{inner:?}"
    );
}

// ---- `?`, early return, drop order, attributes ----

#[requires_feature("pro")]
fn checked_page(page: u32, max: u32) -> Result<u32, AppError> {
    if page == 0 {
        return Ok(1);
    }
    let page = validate(page, max)?;
    Ok(page * 2)
}

fn validate(page: u32, max: u32) -> Result<u32, AppError> {
    if page > max {
        Err(AppError::OutOfRange(page))
    } else {
        Ok(page)
    }
}

thread_local! {
    static DROPS: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.borrow_mut().push(self.0));
    }
}

#[requires_feature("pro")]
fn drops_in_order(first: Noisy, second: Noisy) -> Result<(), AppError> {
    let _a = Noisy("local a");
    let _b = Noisy("local b");
    let _ = (&first, &second);
    Ok(())
}

fn drops_in_order_plain(first: Noisy, second: Noisy) -> Result<(), AppError> {
    let _a = Noisy("local a");
    let _b = Noisy("local b");
    let _ = (&first, &second);
    Ok(())
}

#[must_use = "the page count matters"]
#[requires_feature("pro")]
#[inline]
fn attributed() -> Result<u32, AppError> {
    Ok(1)
}

#[test]
fn question_mark_and_early_return_work() {
    let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
    assert_eq!(checked_page(0, 5), Ok(1));
    assert_eq!(checked_page(2, 5), Ok(4));
    assert_eq!(checked_page(9, 5), Err(AppError::OutOfRange(9)));
    assert_eq!(attributed(), Ok(1));
}

#[test]
fn drop_order_is_the_ungated_one() {
    let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
    let run = |f: fn(Noisy, Noisy) -> Result<(), AppError>| {
        DROPS.with(|drops| drops.borrow_mut().clear());
        f(Noisy("arg first"), Noisy("arg second")).unwrap();
        DROPS.with(|drops| drops.take())
    };
    let gated = run(drops_in_order);
    assert_eq!(gated, run(drops_in_order_plain));
    assert_eq!(gated, ["local b", "local a", "arg second", "arg first"]);
}

#[test]
fn denied_call_drops_the_arguments() {
    let _license = TestLicense::product(STUDIO).scoped();
    DROPS.with(|drops| drops.borrow_mut().clear());
    assert_eq!(
        drops_in_order(Noisy("arg first"), Noisy("arg second")),
        Err(missing(STUDIO, &["pro"]))
    );
    assert_eq!(
        DROPS.with(|drops| drops.take()),
        ["arg second", "arg first"]
    );
}

// ---- scopes are per thread ----

#[test]
fn parallel_scopes_each_see_their_own_license() {
    const ROUNDS: usize = 200;
    let barrier = Arc::new(Barrier::new(2));
    let with_pro = {
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            let _license = TestLicense::product(STUDIO).features(["pro"]).scoped();
            barrier.wait();
            for _ in 0..ROUNDS {
                assert_eq!(export(1), Ok(vec![0]));
                assert_eq!(export_any(1), Ok(1));
            }
            barrier.wait();
            assert_eq!(export(1), Ok(vec![0]));
        })
    };
    let without = std::thread::spawn(move || {
        let _license = TestLicense::product(STUDIO)
            .features(["enterprise"])
            .scoped();
        barrier.wait();
        for _ in 0..ROUNDS {
            assert_eq!(export(1), Err(missing(STUDIO, &["pro"])));
            assert_eq!(export_any(1), Ok(1));
        }
        barrier.wait();
        assert_eq!(export(1), Err(missing(STUDIO, &["pro"])));
    });
    with_pro.join().expect("thread with pro");
    without.join().expect("thread without pro");
}

#[test]
fn inner_scope_wins_until_dropped() {
    let _outer = TestLicense::product(STUDIO).features(["pro"]).scoped();
    assert_eq!(export(1), Ok(vec![0]));
    {
        let _inner = TestLicense::unlicensed().scoped();
        assert!(export(1).is_err());
    }
    assert_eq!(export(1), Ok(vec![0]));
}
