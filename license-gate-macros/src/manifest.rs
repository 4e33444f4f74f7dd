//! What the calling crate's `Cargo.toml` says: the name under which it
//! depends on license-gate, and the feature names it declares in
//! `[package.metadata.license-gate] features = [..]`.

use std::path::Path;

use proc_macro_crate::{Error as CrateError, FoundCrate};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

/// The feature names an application declares in its manifest.
pub(crate) struct Declared {
    /// The names, in the order written.
    pub(crate) names: Vec<String>,
    /// The manifest they come from, included by the expansion so that cargo
    /// rebuilds the crate, and checks the names again, when the list changes.
    pub(crate) manifest: Option<String>,
}

/// How to reach the facade from the calling crate: `::license_gate`, or the
/// name it was renamed to in `Cargo.toml`.
pub(crate) fn facade_path() -> syn::Result<TokenStream> {
    match proc_macro_crate::crate_name("license-gate") {
        Ok(FoundCrate::Itself) => Ok(quote!(::license_gate)),
        Ok(FoundCrate::Name(name)) => {
            let name = format_ident!("{}", name);
            Ok(quote!(::#name))
        }
        Err(CrateError::CrateNotFound { path, .. }) => Err(syn::Error::new(
            Span::call_site(),
            format!(
                "`license-gate` is not among the dependencies in `{}`: add it (`cargo add license-gate`), or, when it comes through another crate, name the path where it is re-exported: `crate = \"other_crate::license_gate\"`",
                path.display()
            ),
        )),
        // No manifest to read (a build without cargo): assume the usual name.
        Err(_) => Ok(quote!(::license_gate)),
    }
}

/// The feature names declared by the crate being compiled, if it declares any.
pub(crate) fn declared() -> syn::Result<Option<Declared>> {
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Ok(None);
    };
    let path = Path::new(&dir).join("Cargo.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let names = parse_declared(&text)
        .map_err(|message| syn::Error::new(Span::call_site(), format_in(&path, &message)))?;
    Ok(names.map(|names| Declared {
        names,
        manifest: path.to_str().map(str::to_owned),
    }))
}

fn format_in(path: &Path, message: &str) -> String {
    format!("in `{}`: {message}", path.display())
}

/// Reads `[package.metadata.license-gate] features` from a manifest's text:
/// `None` when the table is absent, an error when it is there but malformed.
pub(crate) fn parse_declared(text: &str) -> Result<Option<Vec<String>>, String> {
    const EXAMPLE: &str = "`[package.metadata.license-gate] features = [\"pro\", \"export\"]`";
    let document: toml_edit::DocumentMut = text
        .parse()
        .map_err(|error| format!("the manifest does not parse: {error}"))?;
    let Some(table) = document
        .get("package")
        .and_then(|package| package.get("metadata"))
        .and_then(|metadata| metadata.get("license-gate"))
    else {
        return Ok(None);
    };
    let Some(features) = table.get("features") else {
        return Err(format!(
            "`[package.metadata.license-gate]` has no `features` list: write {EXAMPLE}"
        ));
    };
    let Some(array) = features.as_array() else {
        return Err(format!(
            "`[package.metadata.license-gate] features` must be a list of strings: write {EXAMPLE}"
        ));
    };
    array
        .iter()
        .map(|value| match value.as_str() {
            Some(name) if !name.trim().is_empty() && name.trim() == name => Ok(name.to_owned()),
            Some(name) => Err(format!(
                "`[package.metadata.license-gate] features` lists `{name:?}`: write each name as the license names it, without spaces around it"
            )),
            None => Err(format!(
                "`[package.metadata.license-gate] features` must be a list of strings, and it holds {} {}: write {EXAMPLE}",
                if value.type_name().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                value.type_name()
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The declared name closest to a misspelt one, if one is close enough to be
/// what was meant.
pub(crate) fn suggest<'a>(name: &str, declared: &'a [String]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    declared
        .iter()
        .map(|candidate| {
            let distance = if candidate.to_lowercase() == lower {
                0
            } else {
                strsim::damerau_levenshtein(&lower, &candidate.to_lowercase()).max(1)
            };
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            let longest = candidate.chars().count().max(name.chars().count());
            *distance <= 2 && *distance * 3 <= longest.max(3)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_table_means_no_declaration() {
        let manifest = "[package]\nname = \"app\"\n[package.metadata.other]\nx = 1\n";
        assert_eq!(parse_declared(manifest), Ok(None));
    }

    #[test]
    fn reads_the_declared_names() {
        let manifest = "[package]\nname = \"app\"\n\n[package.metadata.license-gate]\nfeatures = [\"pro\", \"export\"]\n";
        assert_eq!(
            parse_declared(manifest),
            Ok(Some(vec!["pro".to_owned(), "export".to_owned()]))
        );
        let inline = "[package]\nname = \"app\"\nmetadata = { license-gate = { features = [] } }\n";
        assert_eq!(parse_declared(inline), Ok(Some(Vec::new())));
    }

    #[test]
    fn malformed_declarations_say_how_to_write_them() {
        for (manifest, says) in [
            (
                "[package.metadata.license-gate]\nfeature = [\"pro\"]\n",
                "has no `features` list",
            ),
            (
                "[package.metadata.license-gate]\nfeatures = \"pro\"\n",
                "must be a list of strings",
            ),
            (
                "[package.metadata.license-gate]\nfeatures = [\"pro\", 1]\n",
                "it holds an integer",
            ),
            (
                "[package.metadata.license-gate]\nfeatures = [\" pro\"]\n",
                "without spaces",
            ),
            ("[package\n", "does not parse"),
        ] {
            let error = parse_declared(manifest).expect_err(manifest);
            assert!(error.contains(says), "{manifest:?}: {error}");
        }
    }

    #[test]
    fn suggests_the_closest_declared_name() {
        let declared = ["pro".to_owned(), "export".to_owned(), "team".to_owned()];
        assert_eq!(suggest("por", &declared), Some("pro"));
        assert_eq!(suggest("Pro", &declared), Some("pro"));
        assert_eq!(suggest("exprot", &declared), Some("export"));
        assert_eq!(suggest("teams", &declared), Some("team"));
        assert_eq!(suggest("gpu", &declared), None);
        assert_eq!(suggest("enterprise", &declared), None);
    }

    /// Reads manifests the way the attributes do, from `CARGO_MANIFEST_DIR`.
    /// One test, so that nothing else in this binary reads the variable while
    /// it points elsewhere.
    #[test]
    fn reads_the_calling_crates_manifest() {
        let dir =
            std::env::temp_dir().join(format!("license-gate-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let previous = std::env::var_os("CARGO_MANIFEST_DIR");
        let with_manifest = |name: &str, manifest: &str| {
            let crate_dir = dir.join(name);
            std::fs::create_dir_all(&crate_dir).expect("crate folder");
            std::fs::write(crate_dir.join("Cargo.toml"), manifest).expect("manifest written");
            // SAFETY: no other test in this binary reads or writes the
            // environment (they expand with a context of their own).
            unsafe { std::env::set_var("CARGO_MANIFEST_DIR", &crate_dir) };
        };

        with_manifest(
            "app",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nlg = { package = \"license-gate\", version = \"0.1\" }\n\n[package.metadata.license-gate]\nfeatures = [\"pro\"]\n",
        );
        let renamed = facade_path().map(|path| path.to_string());
        let names = declared().map(|found| found.map(|found| found.names));

        with_manifest(
            "other-app",
            "[package]\nname = \"other-app\"\nversion = \"0.1.0\"\n\n[dependencies]\nserde = \"1\"\n",
        );
        let missing = facade_path().map(|path| path.to_string());
        let undeclared = declared().map(|found| found.is_some());

        match previous {
            // SAFETY: as above.
            Some(previous) => unsafe { std::env::set_var("CARGO_MANIFEST_DIR", previous) },
            None => unsafe { std::env::remove_var("CARGO_MANIFEST_DIR") },
        }
        let _ = std::fs::remove_dir_all(&dir);

        assert_eq!(renamed.expect("found"), ":: lg");
        assert_eq!(names.expect("declared"), Some(vec!["pro".to_owned()]));
        let error = missing.expect_err("not a dependency").to_string();
        assert!(
            error.contains("`license-gate` is not among the dependencies")
                && error.contains("crate = \"other_crate::license_gate\""),
            "{error}"
        );
        assert!(!undeclared.expect("read"));
    }
}
