//! The strictest common set of lints, on code written as a library author
//! writes it: generated code must trip none of them. Linted by clippy with
//! the workspace (`cargo clippy --workspace --all-targets -- -D warnings`); the only
//! allowance is one the user's own code needs (`clippy::unused_self`, below).
#![deny(
    warnings,
    unused_qualifications,
    single_use_lifetimes,
    unreachable_pub,
    rust_2018_idioms
)]
#![deny(clippy::pedantic)]

/// How the library reaches license-gate: through a re-export, named with
/// `crate = ".."`.
pub mod vendor {
    pub use license_gate;
}

/// Feature names as constants.
pub mod names {
    /// The professional plan.
    pub const PRO: &str = "pro";
}

/// A module laid out as a library crate is: its own error type, methods
/// returning `Result<u32, LibError>` under the prelude's `Result`.
pub mod lib {
    use std::fmt;

    use license_gate::{LicenseError, requires_feature};

    use super::vendor;

    /// The library's error.
    #[derive(Debug, PartialEq, Eq)]
    pub enum LibError {
        /// Denied.
        License(LicenseError),
        /// Anything else.
        Empty,
    }

    impl From<LicenseError> for LibError {
        fn from(error: LicenseError) -> Self {
            LibError::License(error)
        }
    }

    impl fmt::Display for LibError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                LibError::License(error) => error.fmt(f),
                LibError::Empty => f.write_str("empty"),
            }
        }
    }

    impl std::error::Error for LibError {}

    /// A document.
    #[derive(Debug, Default)]
    pub struct Doc {
        pages: u32,
    }

    impl Doc {
        /// Pages, gated.
        ///
        /// # Errors
        ///
        /// When the license lacks `pro`.
        #[requires_feature("pro")]
        pub fn pages(&self) -> Result<u32, LibError> {
            Ok(self.pages)
        }

        /// Adds a page, gated.
        ///
        /// # Errors
        ///
        /// When the license lacks `pro`.
        #[requires_feature("pro")]
        pub fn add(&mut self) -> Result<u32, LibError> {
            self.pages += 1;
            Ok(self.pages)
        }

        /// Consumes the document, gated.
        ///
        /// # Errors
        ///
        /// When the license lacks `pro`, or the document is empty.
        #[requires_feature("pro")]
        pub fn into_pages(self) -> Result<u32, LibError> {
            if self.pages == 0 {
                return Err(LibError::Empty);
            }
            Ok(self.pages)
        }

        /// Pages, or zero without `pro`.
        #[must_use]
        #[requires_feature("pro", fallback = Self::no_pages)]
        pub fn pages_or_zero(&self) -> u32 {
            self.pages
        }

        // The one allowance in this module, and the user's own: this
        // fallback ignores `self` (it must take the gated method's receiver),
        // which clippy flags on the user's method whether or not it is gated.
        #[allow(clippy::unused_self)]
        fn no_pages(&self) -> u32 {
            0
        }

        /// The page numbers, gated.
        ///
        /// # Errors
        ///
        /// When the license lacks `pro`.
        #[requires_feature("pro")]
        pub fn numbers(&self) -> Result<impl Iterator<Item = u32>, LibError> {
            Ok(1..=self.pages)
        }

        /// Pages, later, gated.
        ///
        /// # Errors
        ///
        /// When the license lacks `pro`.
        #[requires_feature("pro")]
        pub async fn pages_later(&self) -> Result<u32, LibError> {
            Ok(std::future::ready(self.pages).await)
        }
    }

    /// A free function, gated, with the facade named through a re-export
    /// (`vendor` is in scope here).
    ///
    /// # Errors
    ///
    /// When the license lacks `pro`.
    #[requires_feature("pro", crate = "vendor::license_gate")]
    pub fn twice(n: u32) -> Result<u32, LibError> {
        Ok(n * 2)
    }

    /// The feature named by a constant's path.
    ///
    /// # Errors
    ///
    /// When the license lacks `pro`.
    #[requires_feature(crate::strict_user_lints::names::PRO)]
    pub fn thrice(n: u32) -> Result<u32, LibError> {
        Ok(n * 3)
    }

    /// Generic, with a lifetime and `impl Trait` in argument position.
    ///
    /// # Errors
    ///
    /// When the license lacks `pro`.
    #[requires_feature("pro")]
    pub fn longest<'a>(
        a: &'a str,
        b: &'a str,
        extra: impl Into<u32>,
    ) -> Result<(&'a str, u32), LibError> {
        Ok((if a.len() >= b.len() { a } else { b }, extra.into()))
    }

    /// A one-line body, gated.
    ///
    /// # Errors
    ///
    /// When the license lacks `pro`.
    #[rustfmt::skip]
    #[requires_feature("pro")]
    pub fn one_line(n: u32) -> Result<u32, LibError> { Ok(n) }

    /// A one-line body with a fallback.
    #[must_use]
    #[rustfmt::skip]
    #[requires_feature("pro", fallback = zero)]
    pub fn one_line_or_zero(n: u32) -> u32 { n }

    fn zero(_n: u32) -> u32 {
        0
    }

    /// An `async fn` with a fallback.
    #[requires_feature("pro", fallback = zero_later)]
    pub async fn later(n: u32) -> u32 {
        std::future::ready(n).await
    }

    async fn zero_later(_n: u32) -> u32 {
        std::future::ready(0).await
    }

    /// `io::Result` by its path, gated by `#[licensed]`.
    ///
    /// # Errors
    ///
    /// When no license is in force.
    #[license_gate::licensed]
    pub fn open(name: &str) -> std::io::Result<String> {
        Ok(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use license_gate::testing::TestLicense;

    use super::lib::{self, Doc, LibError};

    #[tokio::test]
    async fn allowed_and_denied() {
        {
            let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
            let mut doc = Doc::default();
            assert_eq!(doc.add(), Ok(1));
            assert_eq!(doc.pages(), Ok(1));
            assert_eq!(doc.pages_or_zero(), 1);
            assert_eq!(doc.numbers().map(Iterator::count), Ok(1));
            assert_eq!(lib::twice(2), Ok(4));
            assert_eq!(lib::thrice(2), Ok(6));
            assert_eq!(lib::longest("ab", "a", 1u8), Ok(("ab", 1)));
            assert_eq!(lib::one_line(3), Ok(3));
            assert_eq!(lib::one_line_or_zero(3), 3);
            assert_eq!(lib::open("a").ok().as_deref(), Some("a"));
            assert_eq!(doc.into_pages(), Ok(1));
        }
        let licensed = || TestLicense::product("Atlas").features(["pro"]);
        assert_eq!(licensed().scope(lib::later(5)).await, 5);
        assert_eq!(licensed().scope(Doc::default().pages_later()).await, Ok(0));

        let _license = TestLicense::product("Atlas").scoped();
        let doc = Doc::default();
        assert!(matches!(doc.pages(), Err(LibError::License(_))));
        assert_eq!(doc.pages_or_zero(), 0);
        assert_eq!(lib::one_line_or_zero(3), 0);
        assert_eq!(lib::later(5).await, 0);
        assert!(matches!(lib::twice(2), Err(LibError::License(_))));
    }
}
