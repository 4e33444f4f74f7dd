//! The command line: every subcommand, flag and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What `--help` shows after the list of commands.
const AFTER_HELP: &str = "\
Exit codes:
  0  success; the license or code is valid
  1  the license or code is not valid, or the server refused the request
  2  wrong usage or configuration (flags, files, environment, key format)
  3  the server could not be reached or its reply could not be read

Examples:
  license-gate hardware-id
  license-gate offline verify --public-key vendor.pem ABCDE-FGHJK-...
  license-gate exisone validate ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\"
  license-gate ecosire validate SHOP-A1B2-C3D4-E5F6-G7H8 --domain shop.example.com
  license-gate emulate exisone --port 8080";

/// Licensing tools for applications built with license-gate: this machine's
/// hardware ID, ExisOne offline codes, ExisOne and ECOSIRE license calls, and
/// local emulators of both services for manual testing.
///
/// Secrets are never taken as plain flag values and never printed: the
/// ExisOne access token comes from EXISONE_ACCESS_TOKEN or
/// --access-token-file, the ECOSIRE license secret from
/// ECOSIRE_LICENSE_SECRET or --secret-file. License keys are masked in
/// output.
#[derive(Debug, Parser)]
#[command(name = "license-gate", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
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
  license-gate hardware-id --json")]
    HardwareId(HardwareIdArgs),

    /// Verify or inspect an ExisOne offline activation code.
    #[command(subcommand)]
    Offline(OfflineCommand),

    /// Call the ExisOne licensing service (or an emulator of it).
    Exisone(ExisOneArgs),

    /// Call the ECOSIRE license service (or an emulator of it).
    Ecosire(EcosireArgs),

    /// Run a local emulator of a licensing service with demo licenses, until
    /// Ctrl-C. For manual testing only: its keys and secrets are public.
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

/// `license-gate exisone ...`: connection options and the call.
#[derive(Debug, Args)]
#[command(after_help = "\
The access token is read from EXISONE_ACCESS_TOKEN or --access-token-file;
the base URL from --base-url or EXISONE_BASEURL (https; http only for
127.0.0.1/localhost).

Examples:
  export EXISONE_BASEURL=https://license.example.com
  export EXISONE_ACCESS_TOKEN=...   # from the ExisOne dashboard
  license-gate exisone validate ABCD-EFGH-JKMN-PQRS --product \"Atlas Studio\"
  license-gate exisone activate ABCD-EFGH-JKMN-PQRS --email buyer@example.com --product \"Atlas Studio\"
  license-gate exisone seats ABCD-EFGH-JKMN-PQRS --json")]
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
    /// The service's base URL [default: $EXISONE_BASEURL].
    #[arg(long, value_name = "URL", global = true)]
    pub base_url: Option<String>,

    /// A file holding the API access token [default: $EXISONE_ACCESS_TOKEN].
    #[arg(long, value_name = "FILE", global = true)]
    pub access_token_file: Option<PathBuf>,

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
    /// only when it is.
    Validate {
        /// The activation key, or `-` to read it from stdin.
        #[arg(value_name = "KEY")]
        key: String,
        /// The product name.
        #[arg(long, value_name = "NAME")]
        product: Option<String>,
        /// The application version (the server may require a minimum).
        #[arg(long = "app-version", value_name = "VERSION")]
        version: Option<String>,
    },
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
    /// Release this machine's activation (frees the seat).
    Deactivate {
        /// The activation key, or `-` to read it from stdin.
        #[arg(value_name = "KEY")]
        key: String,
        /// The product name.
        #[arg(long, value_name = "NAME")]
        product: String,
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
}

/// `license-gate ecosire ...`: connection options and the call.
#[derive(Debug, Args)]
#[command(after_help = "\
The license secret is read from ECOSIRE_LICENSE_SECRET or --secret-file.

Examples:
  export ECOSIRE_LICENSE_SECRET=...   # from the ECOSIRE dashboard
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

    /// A file holding the license secret [default: $ECOSIRE_LICENSE_SECRET].
    #[arg(long, value_name = "FILE", global = true)]
    pub secret_file: Option<PathBuf>,

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

/// `license-gate emulate ...`.
#[derive(Debug, Subcommand)]
pub enum EmulateCommand {
    /// Run the ExisOne emulator with demo licenses and a test access token.
    #[command(after_help = "\
Example:
  license-gate emulate exisone --port 8080
  # in another terminal, with the values it prints:
  EXISONE_BASEURL=http://127.0.0.1:8080 EXISONE_ACCESS_TOKEN=exisone-test-token \\
    license-gate exisone validate DEMO-AAAA-BBBB-0001 --product \"Demo Product\"")]
    Exisone(EmulateArgs),

    /// Run the ECOSIRE emulator with demo licenses and a test license secret.
    #[command(after_help = "\
Example:
  license-gate emulate ecosire --port 8081
  # in another terminal, with the values it prints:
  ECOSIRE_LICENSE_SECRET=demo-license-secret license-gate ecosire \\
    --base-url http://127.0.0.1:8081/api validate DEMO-A1B2-C3D4-E5F6-0001 --domain shop.example.com")]
    Ecosire(EmulateArgs),
}

/// Options of the emulators.
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
}
