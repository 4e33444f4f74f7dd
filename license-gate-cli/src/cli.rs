//! The command line: every subcommand, flag and help text.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

/// What `--help` shows after the list of commands.
const AFTER_HELP: &str = "\
Exit codes:
  0  success; the license or code is valid
  1  the license or code is not valid, or the server refused the request
  2  wrong usage or configuration (flags, files, environment, key format)
  3  the server could not be reached or its reply could not be read

With --json every outcome, failures included, is one JSON object on stdout
with \"ok\": true or false (see the README for the shapes).

Examples:
  license-gate hardware-id
  license-gate secret new --var ATLAS_LICENSE_SECRET
  license-gate offline verify --public-key vendor.pem ABCDE-FGHJK-...
  license-gate offline mint --private-key vendor-private.pem --hardware-id 4945EC7B... --product \"Atlas Studio\" --features pro --expires 2027-12-31
  license-gate exisone validate ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\"
  license-gate ecosire validate SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com
  license-gate watch exisone ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\" --interval 60
  license-gate emulate exisone --product \"Atlas Studio\" --license ABCD-EFGH-JKMN-PQRS:pro";

/// The help line of every refused secret flag.
const SECRET_FLAG: &str = "(refused: secrets are never taken as flag values)";

/// A flag value that is dropped as soon as it is parsed, so a secret typed
/// on the command line is neither kept nor shown; its presence is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused;

/// Parses any value into [`Refused`].
fn refused() -> impl TypedValueParser<Value = Refused> {
    clap::builder::StringValueParser::new().map(|_| Refused)
}

/// Licensing tools for applications built with license-gate: a fresh vendor
/// secret, this machine's hardware ID, ExisOne offline codes, ExisOne and
/// ECOSIRE license calls, a live view of a license, and local emulators of
/// both services.
///
/// Secrets are never taken as flag values and never printed (but the fresh
/// vendor secret `secret new` makes): the ExisOne
/// access token comes from the environment variable EXISONE_ACCESS_TOKEN
/// (holding the token itself) or from the file given with
/// --access-token-file; the ECOSIRE license secret from
/// ECOSIRE_LICENSE_SECRET or --secret-file. License keys are masked in
/// output.
#[derive(Debug, Parser)]
#[command(name = "license-gate", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Print one machine-readable JSON object on stdout for every outcome,
    /// success or failure, instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print this machine's hardware ID (the ID ExisOne licenses and offline
    /// codes are bound to).
    #[command(after_help = "\
Examples:
  license-gate hardware-id
  license-gate hardware-id --components
  license-gate hardware-id --exisone-sdk
  license-gate hardware-id --json")]
    HardwareId(HardwareIdArgs),

    /// Make the vendor secret your build embeds with `embed_secret!`.
    #[command(subcommand)]
    Secret(SecretCommand),

    /// Verify, inspect or mint ExisOne offline activation codes.
    #[command(subcommand)]
    Offline(OfflineCommand),

    /// Call the ExisOne licensing service (or an emulator of it).
    Exisone(ExisOneArgs),

    /// Call the ECOSIRE license service (or an emulator of it).
    Ecosire(EcosireArgs),

    /// Run a real license gate against a service and print every change of
    /// the license state as one JSON line, until Ctrl-C, SIGTERM or the end
    /// of piped stdin.
    #[command(subcommand)]
    Watch(WatchCommand),

    /// Run a local emulator of a licensing service, shaped with your product
    /// and licenses, and change it while it runs by typing commands on
    /// stdin. For testing only: its keys and secrets are public.
    #[cfg(feature = "emulate")]
    #[command(subcommand)]
    Emulate(EmulateCommand),
}

/// `license-gate hardware-id`.
#[derive(Debug, Args)]
pub struct HardwareIdArgs {
    /// Also list the components the ID is computed from, each as a short
    /// fingerprint (machine IDs, CPU and network addresses are never shown
    /// in clear), so two outputs show which component changed.
    #[arg(long)]
    pub components: bool,
    /// Print the ID the official ExisOne SDKs (0.10) compute on this
    /// machine instead of license-gate's own: the ID of customers activated
    /// by an app that used an SDK. It changes with the kernel, the C library
    /// and the host name.
    #[arg(long, conflicts_with = "components")]
    pub exisone_sdk: bool,
}

/// `license-gate secret ...`.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Print a fresh vendor secret (32 random bytes from the operating
    /// system, hex-encoded) and the exact lines that give it to your builds:
    /// for a git-ignored `.cargo/config.toml`, for `.gitignore`, for CI, and
    /// the `embed_secret!` call. The secret is printed once and kept
    /// nowhere: paste it where it belongs, and into your password manager.
    ///
    /// Without the variable, debug builds and tests use a public development
    /// secret, and a release build does not compile.
    #[command(after_help = "\
Examples:
  license-gate secret new
  license-gate secret new --var ATLAS_LICENSE_SECRET
  license-gate secret new --var ATLAS_LICENSE_SECRET --json")]
    New(SecretNewArgs),
}

/// `license-gate secret new`.
#[derive(Debug, Args)]
pub struct SecretNewArgs {
    /// The environment variable that holds the secret, as your program's
    /// `embed_secret!("NAME")` names it.
    #[arg(long = "var", value_name = "NAME", default_value = "LICENSE_GATE_VENDOR_SECRET", value_parser = variable_name)]
    pub variable: String,
}

/// An environment variable's name: letters, digits and `_`, not starting
/// with a digit (what a shell, cargo's `[env]` and CI all accept).
fn variable_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name.to_owned())
    } else {
        Err("an environment variable's name has only letters, digits and `_`, and does not start with a digit (for example ATLAS_LICENSE_SECRET)".to_owned())
    }
}

/// `license-gate offline ...`.
#[derive(Debug, Subcommand)]
pub enum OfflineCommand {
    /// Check an offline code's signature, hardware binding and expiry, and
    /// print its content. Exits 0 only when the code is valid.
    #[command(after_help = "\
Examples:
  license-gate offline verify --public-key vendor-public.pem 1C0FZ-ZH0DS-...
  pbpaste | license-gate offline verify --public-key vendor-public.pem -
  license-gate offline verify --public-key vendor-public.pem --hardware-id 4945EC7B... CODE")]
    Verify(OfflineVerifyArgs),

    /// Show what an offline code contains WITHOUT checking its signature
    /// (anyone can write such a payload: never trust it).
    #[command(after_help = "\
Example:
  license-gate offline decode 1C0FZ-ZH0DS-...")]
    Decode(OfflineDecodeArgs),

    /// Sign an offline code for a machine with the vendor's RSA private key
    /// (the inverse of `verify`), for test machines and air-gapped customers.
    #[command(after_help = "\
Examples:
  license-gate offline mint --private-key vendor-private.pem --hardware-id 4945EC7B... \\
    --product \"Atlas Studio\" --features pro,export --expires 2027-12-31
  license-gate offline mint --private-key vendor-private.pem --hardware-id \"$(license-gate hardware-id)\" \\
    --product \"Atlas Studio\" --expires 30d --json")]
    Mint(OfflineMintArgs),
}

/// `license-gate offline verify`.
#[derive(Debug, Args)]
pub struct OfflineVerifyArgs {
    /// The vendor's RSA public key (PEM, `BEGIN PUBLIC KEY` or `BEGIN RSA
    /// PUBLIC KEY`).
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,

    /// Check the code against this hardware ID instead of this machine's.
    #[arg(long, value_name = "ID")]
    pub hardware_id: Option<String>,

    /// The offline code (dashes, spaces and case do not matter), or `-` to
    /// read it from stdin.
    #[arg(value_name = "CODE")]
    pub code: String,
}

/// `license-gate offline decode`.
#[derive(Debug, Args)]
pub struct OfflineDecodeArgs {
    /// The offline code, or `-` to read it from stdin.
    #[arg(value_name = "CODE")]
    pub code: String,
}

/// `license-gate offline mint`.
#[derive(Debug, Args)]
pub struct OfflineMintArgs {
    /// The vendor's RSA private key (PEM, `BEGIN PRIVATE KEY` or `BEGIN RSA
    /// PRIVATE KEY`); keep it off customers' machines.
    #[arg(long, value_name = "FILE")]
    pub private_key: PathBuf,

    /// The hardware ID of the machine the code is for (its `license-gate
    /// hardware-id`).
    #[arg(long, value_name = "ID")]
    pub hardware_id: String,

    /// The product name, as the application configures it.
    #[arg(long, value_name = "NAME")]
    pub product: String,

    /// The features the code grants, separated by commas.
    #[arg(long, value_name = "A,B", value_delimiter = ',', default_value = "")]
    pub features: Vec<String>,

    /// When the code expires: a date (2027-12-31, the end of that day in
    /// UTC), an RFC 3339 instant, or a time from now (30d, 12h; -1d for an
    /// expired code).
    #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
    pub expires: String,

    /// The licensee's email address.
    #[arg(long, value_name = "EMAIL", default_value = "")]
    pub email: String,

    /// The licensed application version.
    #[arg(long = "app-version", value_name = "VERSION", default_value = "")]
    pub version: String,

    /// The product's numeric ID in the vendor's portal.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub product_id: i64,

    /// The vendor's tenant ID in the portal.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub tenant_id: i64,
}

/// `license-gate exisone ...`: connection options and the call.
#[derive(Debug, Args)]
#[command(after_help = "\
The access token is read from the file given with --access-token-file, or
else from the environment variable EXISONE_ACCESS_TOKEN, which holds the
token itself. The base URL comes from --base-url or EXISONE_BASEURL (https;
plain http only for 127.0.0.1/localhost, such as `license-gate emulate`).

Examples:
  export EXISONE_BASEURL=https://license.example.com
  export EXISONE_ACCESS_TOKEN=...   # the token itself, from the ExisOne dashboard
  license-gate exisone validate ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\"
  license-gate exisone validate --smart --offline-code 1C0FZ-... --public-key vendor-public.pem
  license-gate exisone activate ABCD-EFGH-JKMN-PQRS --email buyer@example.com --product \"Atlas Studio\"
  license-gate exisone deactivate ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\" --smart
  license-gate exisone seats ABCD-EFGH-JKMN-PQRS --json
  license-gate exisone generate-key --product \"Atlas Studio\" --email buyer@example.com --validity-days 365
  license-gate exisone ticket --product \"Atlas Studio\" --email buyer@example.com --subject \"Cannot activate\" --message -")]
pub struct ExisOneArgs {
    /// Connection settings.
    #[command(flatten)]
    pub connection: ExisOneConnection,

    /// The call to make.
    #[command(subcommand)]
    pub call: ExisOneCall,
}

/// How to reach the ExisOne service.
#[derive(Debug, Args)]
pub struct ExisOneConnection {
    /// The service's base URL [default: the value of EXISONE_BASEURL].
    #[arg(long, value_name = "URL", global = true)]
    pub base_url: Option<String>,

    /// Read the API access token from FILE. Without this flag the token is
    /// read from the environment variable EXISONE_ACCESS_TOKEN, which holds
    /// the token itself (not a path).
    #[arg(long, value_name = "FILE", global = true)]
    pub access_token_file: Option<PathBuf>,

    /// `--access-token VALUE`, refused: the token would show in the shell
    /// history and the process list.
    #[arg(long = "access-token", hide = true, global = true, value_parser = refused(), help = SECRET_FLAG)]
    pub access_token_value: Option<Refused>,

    /// Also trust this CA certificate (PEM), for private deployments and the
    /// emulator's --tls mode.
    #[arg(long, value_name = "FILE", global = true)]
    pub ca_file: Option<PathBuf>,

    /// The hardware ID to send instead of this machine's.
    #[arg(long, value_name = "ID", global = true)]
    pub hardware_id: Option<String>,

    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, global = true)]
    pub timeout: u64,
}

/// The ExisOne calls.
#[derive(Debug, Subcommand)]
pub enum ExisOneCall {
    /// Ask the server whether a license is valid on this machine. Exits 0
    /// only when it is. With --smart, an offline code is checked locally and
    /// an online key falls back to offline checking when the server cannot
    /// be reached (as the ExisOne SDK's smart validation).
    Validate(ExisOneValidateArgs),
    /// Activate a license on this machine (takes one seat).
    Activate {
        /// The activation key, or `-` to read it from stdin.
        #[arg(value_name = "KEY")]
        key: String,
        /// The licensee's email address.
        #[arg(long)]
        email: String,
        /// The product name.
        #[arg(long, value_name = "NAME")]
        product: String,
        /// The application version.
        #[arg(long = "app-version", value_name = "VERSION")]
        version: Option<String>,
    },
    /// Release this machine's activation (frees the seat). With --smart it
    /// succeeds locally when the server cannot be reached, and says whether
    /// the server was told.
    Deactivate {
        /// The activation key, or `-` to read it from stdin.
        #[arg(value_name = "KEY")]
        key: String,
        /// The product name.
        #[arg(long, value_name = "NAME")]
        product: String,
        /// Smart deactivation (see above).
        #[arg(long)]
        smart: bool,
    },
    /// List the features a license grants.
    Features {
        /// The activation key, or `-` to read it from stdin.
        #[arg(value_name = "KEY")]
        key: String,
    },
    /// Show the seat usage of a corporate (multi-seat) license.
    Seats {
        /// The activation key, or `-` to read it from stdin.
        #[arg(value_name = "KEY")]
        key: String,
    },
    /// Create an activation key (publisher call; the token needs the
    /// `generate` permission). Prints the new key in full.
    GenerateKey {
        /// The product the key is for.
        #[arg(long, value_name = "NAME")]
        product: String,
        /// The buyer's email address.
        #[arg(long)]
        email: String,
        /// The plan ID in the vendor's portal.
        #[arg(long, value_name = "N")]
        plan_id: Option<i64>,
        /// How many days the license is valid.
        #[arg(long, value_name = "DAYS")]
        validity_days: Option<i64>,
    },
    /// Send a support ticket to the vendor (the token needs the `email`
    /// permission).
    Ticket {
        /// The product the ticket is about.
        #[arg(long, value_name = "NAME")]
        product: String,
        /// The sender's email address, for the answer.
        #[arg(long)]
        email: String,
        /// The subject line.
        #[arg(long)]
        subject: String,
        /// The message, or `-` to read it from stdin.
        #[arg(long, value_name = "TEXT")]
        message: String,
    },
}

/// `license-gate exisone validate`.
#[derive(Debug, Args)]
pub struct ExisOneValidateArgs {
    /// The activation key (or, with --smart, an offline code), or `-` to read
    /// it from stdin.
    #[arg(value_name = "KEY", required_unless_present = "offline_code")]
    pub key: Option<String>,
    /// The product name.
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,
    /// The application version (the server may require a minimum).
    #[arg(long = "app-version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Smart validation: offline codes locally, online keys on the server
    /// with an offline fallback.
    #[arg(long)]
    pub smart: bool,
    /// An offline code to validate (instead of KEY); needs --smart.
    #[arg(long, value_name = "CODE", requires = "smart", conflicts_with = "key")]
    pub offline_code: Option<String>,
    /// The vendor's RSA public key (PEM) for offline codes; needs --smart.
    #[arg(long, value_name = "FILE", requires = "smart")]
    pub public_key: Option<PathBuf>,
}

/// `license-gate ecosire ...`: connection options and the call.
#[derive(Debug, Args)]
#[command(after_help = "\
The license secret is read from the file given with --secret-file, or else
from the environment variable ECOSIRE_LICENSE_SECRET, which holds the secret
itself (not a path).

Examples:
  export ECOSIRE_LICENSE_SECRET=...   # the secret itself, from the ECOSIRE dashboard
  license-gate ecosire validate SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com
  license-gate ecosire activate SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com --platform odoo --platform-version 18.0
  license-gate ecosire deactivate SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com --json")]
pub struct EcosireArgs {
    /// Connection settings.
    #[command(flatten)]
    pub connection: EcosireConnection,

    /// The call to make.
    #[command(subcommand)]
    pub call: EcosireCall,
}

/// How to reach the ECOSIRE service.
#[derive(Debug, Args)]
pub struct EcosireConnection {
    /// The service's base URL.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://api.ecosire.com/api",
        global = true
    )]
    pub base_url: String,

    /// Read the license secret from FILE. Without this flag the secret is
    /// read from the environment variable ECOSIRE_LICENSE_SECRET, which
    /// holds the secret itself (not a path).
    #[arg(long, value_name = "FILE", global = true)]
    pub secret_file: Option<PathBuf>,

    /// `--secret VALUE`, refused: the secret would show in the shell history
    /// and the process list.
    #[arg(long = "secret", alias = "license-secret", hide = true, global = true, value_parser = refused(), help = SECRET_FLAG)]
    pub secret_value: Option<Refused>,

    /// Also trust this CA certificate (PEM), for private deployments and the
    /// emulator's --tls mode.
    #[arg(long, value_name = "FILE", global = true)]
    pub ca_file: Option<PathBuf>,

    /// Send (and sign) `platform`, such as `odoo`; needs --platform-version.
    #[arg(
        long,
        value_name = "NAME",
        requires = "platform_version",
        global = true
    )]
    pub platform: Option<String>,

    /// Send (and sign) `platform_version`, such as `18.0`; needs --platform.
    #[arg(long, value_name = "VERSION", requires = "platform", global = true)]
    pub platform_version: Option<String>,

    /// Send (and sign) `odoo_version` alone, as older Odoo integrations do.
    #[arg(
        long,
        value_name = "VERSION",
        conflicts_with = "platform",
        global = true
    )]
    pub odoo_version: Option<String>,

    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, global = true)]
    pub timeout: u64,
}

/// The ECOSIRE calls; each takes the key and the domain it is bound to.
#[derive(Debug, Subcommand)]
pub enum EcosireCall {
    /// Ask the server whether a license is valid for a domain. Exits 0 only
    /// when it is.
    Validate(EcosireKeyArgs),
    /// Bind a domain (or installation fingerprint) to a license, taking one
    /// activation slot.
    Activate(EcosireKeyArgs),
    /// Release a domain's activation slot.
    Deactivate(EcosireKeyArgs),
}

/// The key and domain of an ECOSIRE call.
#[derive(Debug, Args)]
pub struct EcosireKeyArgs {
    /// The license key (PREFIX-XXXX-XXXX-XXXX-XXXX), or `-` to read it from
    /// stdin.
    #[arg(value_name = "KEY")]
    pub key: String,

    /// The shop or site domain (or installation fingerprint) the license is
    /// bound to.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: String,
}

/// `license-gate watch ...`.
#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Watch an ExisOne license (same connection flags as `exisone`).
    #[command(after_help = "\
Each line: {\"at\",\"product\",\"status\",\"features\",\"until\",\"reason\"}.
Exit code when stopped: 0 if the last status grants access, 1 if it denies,
3 if the server never answered.

Example:
  license-gate watch exisone ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\" --interval 60 --grace 3600")]
    Exisone(WatchExisOneArgs),

    /// Watch an ECOSIRE license (same connection flags as `ecosire`).
    #[command(after_help = "\
Example:
  license-gate watch ecosire SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com --interval 60")]
    Ecosire(WatchEcosireArgs),
}

/// The gate settings of `watch`.
#[derive(Debug, Args)]
pub struct WatchGate {
    /// Seconds between validations (the heartbeat interval; at least 1).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub interval: u64,

    /// Seconds the last confirmed state holds while the server cannot be
    /// reached (the offline grace period).
    #[arg(long, value_name = "SECONDS", default_value_t = 7 * 24 * 3600)]
    pub grace: u64,

    /// Activate the license on this machine before watching (takes a seat).
    #[arg(long)]
    pub activate: bool,
}

/// `license-gate watch exisone`.
#[derive(Debug, Args)]
pub struct WatchExisOneArgs {
    /// Connection settings.
    #[command(flatten)]
    pub connection: ExisOneConnection,

    /// Gate settings.
    #[command(flatten)]
    pub gate: WatchGate,

    /// The activation key (or offline code).
    #[arg(value_name = "KEY")]
    pub key: String,

    /// The product name.
    #[arg(long, value_name = "NAME")]
    pub product: String,

    /// The application version sent with each validation.
    #[arg(long = "app-version", value_name = "VERSION")]
    pub version: Option<String>,

    /// The licensee's email address, sent on activation.
    #[arg(long, default_value = "")]
    pub email: String,
}

/// `license-gate watch ecosire`.
#[derive(Debug, Args)]
pub struct WatchEcosireArgs {
    /// Connection settings.
    #[command(flatten)]
    pub connection: EcosireConnection,

    /// Gate settings.
    #[command(flatten)]
    pub gate: WatchGate,

    /// The license key.
    #[arg(value_name = "KEY")]
    pub key: String,

    /// The shop or site domain the license is bound to.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: String,

    /// The product name shown in the output.
    #[arg(long, value_name = "NAME", default_value = "ECOSIRE license")]
    pub product: String,

    /// The features an active license grants, separated by commas.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub features: Vec<String>,
}

/// `license-gate emulate ...`.
#[cfg(feature = "emulate")]
#[derive(Debug, Subcommand)]
pub enum EmulateCommand {
    /// Run the ExisOne emulator.
    #[command(after_help = "\
LICENSE is KEY[:FEATURES[:EXPIRY[:SEATS]]]: FEATURES separated by commas,
EXPIRY a date (2027-12-31), `never`, or a time from now (30d, 12h; -1d is
already expired), SEATS a number (makes it a corporate license).

Commands typed on stdin while it runs: revoke KEY, suspend KEY, expire KEY,
restore KEY, down, up, slow MS, list, help.

Examples:
  license-gate emulate exisone --port 8080
  license-gate emulate exisone --product \"Atlas Studio\" --license ATLS-AAAA-BBBB-0001:pro,export:2027-12-31 \\
    --license ATLS-CORP-BBBB-0002:pro:never:5 --min-version 2.0.0
  # in another terminal, with the values it prints:
  EXISONE_BASEURL=http://127.0.0.1:8080 EXISONE_ACCESS_TOKEN=exisone-test-token \\
    license-gate exisone validate ATLS-AAAA-BBBB-0001 --product \"Atlas Studio\"")]
    Exisone(EmulateExisOneArgs),

    /// Run the ECOSIRE emulator.
    #[command(after_help = "\
LICENSE is KEY[:FEATURES[:EXPIRY[:SLOTS]]] (ECOSIRE licenses carry no
features: leave that part empty), as for `emulate exisone`.

Commands typed on stdin while it runs: revoke KEY, suspend KEY, expire KEY,
restore KEY, down, up, slow MS, list, help.

Example:
  license-gate emulate ecosire --port 8081 --license SHOP-A1B2-C3D4-E5F6-G7H8::2027-12-31:2
  # in another terminal, with the values it prints:
  ECOSIRE_LICENSE_SECRET=demo-license-secret license-gate ecosire \\
    --base-url http://127.0.0.1:8081/api validate SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com")]
    Ecosire(EmulateArgs),
}

/// Options of both emulators.
#[cfg(feature = "emulate")]
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// The port on 127.0.0.1 to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Serve HTTPS with a throw-away certificate for localhost; the CA
    /// certificate is written to a temporary file whose path is printed
    /// (pass it as --ca-file).
    #[arg(long)]
    pub tls: bool,

    /// The product the licenses are for (ExisOne checks `productName`
    /// against it; for ECOSIRE it is only a label).
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,

    /// A license to serve, KEY[:FEATURES[:EXPIRY[:SEATS]]]; repeat for more.
    /// Without --license and --seed, demo licenses are served.
    #[arg(long = "license", value_name = "LICENSE")]
    pub licenses: Vec<String>,

    /// A JSON file of licenses to serve (see the README for its shape).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Also take the commands over HTTP: `POST /control` on 127.0.0.1:PORT
    /// (0 picks a free one) with the printed token as `Authorization: Bearer
    /// TOKEN` and a command line as the body.
    #[arg(long, value_name = "PORT")]
    pub control_port: Option<u16>,
}

/// Options of the ExisOne emulator.
#[cfg(feature = "emulate")]
#[derive(Debug, Args)]
pub struct EmulateExisOneArgs {
    /// The options both emulators take.
    #[command(flatten)]
    pub common: EmulateArgs,

    /// Answer `version_outdated` to applications older than this version.
    #[arg(long, value_name = "VERSION")]
    pub min_version: Option<String>,
}
