//! `license-gate secret new`: a fresh vendor secret and the lines that give
//! it to the build.
//!
//! This is the one command that prints a secret: making one is all it does.
//! Nothing is written or kept; the user pastes the lines where they belong.

use std::fmt::Write as _;

use crate::cli::SecretNewArgs;
use crate::error::{CliError, CliResult};
use crate::report::{Report, print_out};

/// The random bytes of a new secret (`embed_secret!` needs at least 16).
const SECRET_BYTES: usize = 32;

/// What a user pastes, for one variable and one secret.
struct Lines {
    /// `[env]` of a git-ignored `.cargo/config.toml`.
    cargo_config: String,
    /// The `.gitignore` line that keeps that file out of version control.
    gitignore: &'static str,
    /// A GitHub Actions `env:` block reading a repository secret.
    github_actions: String,
    /// The call in the program.
    embed: String,
}

impl Lines {
    fn new(variable: &str, secret: &str) -> Lines {
        Lines {
            cargo_config: format!("[env]\n{variable} = \"{secret}\""),
            gitignore: "/.cargo/config.toml",
            github_actions: format!("env:\n  {variable}: ${{{{ secrets.{variable} }}}}"),
            embed: format!(
                "let secret = license_gate::embed_secret!(\"{variable}\")?;\nlet builder = license_gate::LicenseGate::builder().vendor_secret(secret);"
            ),
        }
    }
}

/// 32 bytes from the operating system's random source, hex-encoded.
fn fresh_secret() -> CliResult<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| {
        CliError::unavailable(format!(
            "could not read the operating system's random source ({error}): run the command where it is available"
        ))
    })?;
    let mut hex = String::with_capacity(2 * SECRET_BYTES);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

/// Prints a fresh secret and the lines for the build, CI and the program.
pub fn new(args: &SecretNewArgs, json: bool) -> CliResult<Option<Report>> {
    let variable = &args.variable;
    let secret = fresh_secret()?;
    let lines = Lines::new(variable, &secret);
    if json {
        return Ok(Some(
            Report::new()
                .field("variable", "variable", variable.as_str())
                .field("secret", "secret", secret.as_str())
                .field("bytes", "bytes", SECRET_BYTES)
                .field("cargo_config", "cargo config", lines.cargo_config)
                .field("gitignore", "gitignore", lines.gitignore)
                .field("github_actions", "github actions", lines.github_actions)
                .field("embed", "embed", lines.embed),
        ));
    }
    let text = format!(
        "\
A new vendor secret for embed_secret!(\"{variable}\"): {SECRET_BYTES} random bytes, hex-encoded.
It is printed once and kept nowhere: paste it below, and into your password manager.

# 1. For your own builds: .cargo/config.toml in your project's folder
#    (cargo reads it for every build there; keep it out of version control).
{cargo_config}

# 2. .gitignore (if your .cargo/config.toml is committed already, put the
#    [env] lines in your user's cargo config, ~/.cargo/config.toml, instead).
{gitignore}

# 3. For CI: a repository secret named {variable} holding the value above
#    (GitHub: Settings > Secrets and variables > Actions, or
#    `gh secret set {variable}`), given to the release build's step:
{github_actions}

# 4. In your program:
{embed}

# Without {variable}, debug builds and tests use a public development
# secret, and a release build does not compile.",
        cargo_config = lines.cargo_config,
        gitignore = lines.gitignore,
        github_actions = lines.github_actions,
        embed = lines.embed,
    );
    print_out(&text);
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_hex_and_long_enough() {
        let a = fresh_secret().unwrap();
        let b = fresh_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn the_lines_name_the_variable() {
        let lines = Lines::new("ATLAS_LICENSE_SECRET", "00ff");
        assert_eq!(lines.cargo_config, "[env]\nATLAS_LICENSE_SECRET = \"00ff\"");
        assert_eq!(
            lines.github_actions,
            "env:\n  ATLAS_LICENSE_SECRET: ${{ secrets.ATLAS_LICENSE_SECRET }}"
        );
        assert!(
            lines
                .embed
                .contains("embed_secret!(\"ATLAS_LICENSE_SECRET\")?")
        );
    }
}
