//! `license-gate emulate exisone|ecosire`: a loopback emulator shaped by
//! flags (`--product`, `--license`, `--seed`, `--min-version`) and changed
//! while it runs by commands typed on stdin (`revoke KEY`, `down`, ...).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use license_gate_testkit::TestCertificate;
use license_gate_testkit::ecosire::{
    EcosireEmulator, EcosireHandle, EmulatedLicense as EcosireLicense,
};
use license_gate_testkit::exisone::{
    EmulatedLicense as ExisOneLicense, ExisOneControl, ExisOneEmulator, LicenseState,
    OfflineCodeSpec,
};
use license_gate_testkit::faults::FaultControl;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::cli::{EmulateArgs, EmulateExisOneArgs};
use crate::error::{CliError, CliResult};
use crate::report::print_out;

/// The commands both emulators take on stdin, as their start-up JSON lists them.
const TYPED_COMMANDS: [&str; 9] = [
    "revoke KEY",
    "suspend KEY",
    "expire KEY",
    "restore KEY",
    "down",
    "up",
    "slow MS",
    "list",
    "help",
];

/// The product of the ExisOne demo licenses.
pub const EXISONE_PRODUCT: &str = "Demo Product";
/// The ExisOne demo key: active, features pro and export.
pub const EXISONE_DEMO_KEY: &str = "DEMO-AAAA-BBBB-0001";
/// The ExisOne corporate demo key: five seats, none used.
pub const EXISONE_CORPORATE_KEY: &str = "CORP-AAAA-BBBB-0002";
/// The ExisOne demo key that has expired.
pub const EXISONE_EXPIRED_KEY: &str = "EXPD-AAAA-BBBB-0003";
/// The ECOSIRE demo key, active with three activation slots.
pub const ECOSIRE_DEMO_KEY: &str = "DEMO-A1B2-C3D4-E5F6-0001";
/// The ECOSIRE demo key that has expired.
pub const ECOSIRE_EXPIRED_KEY: &str = "EXPD-A1B2-C3D4-E5F6-0002";
/// The ECOSIRE demo key that is suspended.
pub const ECOSIRE_SUSPENDED_KEY: &str = "SUSP-A1B2-C3D4-E5F6-0003";
/// The license secret of the ECOSIRE licenses (public, test-only).
pub const ECOSIRE_SECRET: &str = "demo-license-secret";

const YEAR: Duration = Duration::from_secs(365 * 86_400);
const DAY: Duration = Duration::from_secs(86_400);
const WARNING: &str =
    "test-only: its keys, token, secret and signing key are public; never use them in production";

/// The commands the emulators take on stdin.
const COMMANDS: &str = "\
commands (type one per line):
  revoke KEY    the license is revoked from the next request on
  suspend KEY   the license is suspended
  expire KEY    the license has expired
  restore KEY   the license is back as it started (active, its own expiry)
  down          refuse connections (the service is unreachable)
  up            accept connections again
  slow MS       answer every request after MS milliseconds (0: no delay)
  list          show every license and its state
  help          show this list";

/// Now, to the second (expiry dates read better without nanoseconds).
fn now() -> SystemTime {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH + Duration::from_secs(since.as_secs())
}

/// Where a license starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Active,
    Revoked,
    Suspended,
    Expired,
}

/// A license as the flags or the seed file describe it.
#[derive(Clone, Debug)]
struct LicenseSpec {
    key: String,
    features: Vec<String>,
    /// `None`: never expires.
    expires: Option<SystemTime>,
    seats: Option<u32>,
    start: Start,
    activations: Vec<String>,
}

impl LicenseSpec {
    fn new(key: &str) -> Self {
        LicenseSpec {
            key: key.to_owned(),
            features: Vec::new(),
            expires: None,
            seats: None,
            start: Start::Active,
            activations: Vec::new(),
        }
    }

    /// One line of the listing.
    fn describe(&self) -> String {
        let features = if self.features.is_empty() {
            "no features".to_owned()
        } else {
            format!("features {}", self.features.join(", "))
        };
        let expires = match self.expires {
            Some(at) => format!(
                "expires {}",
                license_gate_testkit::instant::format_instant(at)
            ),
            None => "never expires".to_owned(),
        };
        let seats = match self.seats {
            Some(n) => format!("{n} seats"),
            None => "1 seat".to_owned(),
        };
        format!("{features}; {expires}; {seats}")
    }
}

/// `KEY[:FEATURES[:EXPIRY[:SEATS]]]`.
fn parse_license(text: &str) -> CliResult<LicenseSpec> {
    let bad = |what: String| {
        CliError::usage(format!(
            "--license `{text}`: {what}; the form is KEY[:FEATURES[:EXPIRY[:SEATS]]], such as ABCD-EFGH-JKMN-PQRS:pro,export:2027-12-31:5"
        ))
    };
    let mut parts = text.splitn(4, ':');
    let key = parts.next().unwrap_or_default().trim();
    if key.is_empty() {
        return Err(bad("the key is empty".to_owned()));
    }
    let mut spec = LicenseSpec::new(key);
    if let Some(features) = parts.next() {
        spec.features = split_features(features);
    }
    if let Some(expiry) = parts.next() {
        spec.expires = parse_expiry_word(expiry).map_err(|e| bad(e.message))?;
    }
    if let Some(seats) = parts.next() {
        spec.seats = Some(parse_seats(seats).map_err(bad)?);
    }
    Ok(spec)
}

fn split_features(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_seats(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "the seats `{}` are not a number of 1 or more",
            text.trim()
        )),
    }
}

/// An expiry: empty or `never` for none, else as `offline mint --expires`.
fn parse_expiry_word(text: &str) -> CliResult<Option<SystemTime>> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    super::offline::parse_expiry(text).map(|(at, _)| Some(at))
}

/// What a seed file holds: licenses, and optionally the product and the
/// minimum version.
#[derive(Debug, Default)]
struct Seed {
    product: Option<String>,
    min_version: Option<String>,
    licenses: Vec<LicenseSpec>,
}

/// Reads a seed file: a list of licenses, or `{"product", "min_version",
/// "licenses": [...]}`; each license `{"key", "features", "expires", "seats",
/// "status", "activations"}` (only `key` required).
fn read_seed(path: &Path) -> CliResult<Seed> {
    let text = crate::input::read_file(path, "seed file")?;
    let bad = |what: String| {
        CliError::usage(format!(
            "the seed file `{}` cannot be used: {what} (see the README for its shape)",
            path.display()
        ))
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("it is not JSON ({e})")))?;
    let mut seed = Seed::default();
    let list = match &value {
        Value::Array(list) => list.clone(),
        Value::Object(map) => {
            for name in map.keys() {
                if !["product", "min_version", "licenses"].contains(&name.as_str()) {
                    return Err(bad(format!(
                        "unknown field `{name}` (known: product, min_version, licenses)"
                    )));
                }
            }
            let text_field = |name: &str| -> CliResult<Option<String>> {
                match map.get(name) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
                    Some(_) => Err(bad(format!("`{name}` must be a string"))),
                }
            };
            seed.product = text_field("product")?;
            seed.min_version = text_field("min_version")?;
            match map.get("licenses") {
                Some(Value::Array(list)) => list.clone(),
                None => Vec::new(),
                Some(_) => return Err(bad("`licenses` must be a list".to_owned())),
            }
        }
        _ => return Err(bad("it must be a list of licenses or an object".to_owned())),
    };
    for (index, item) in list.iter().enumerate() {
        let at = |what: String| bad(format!("license #{}: {what}", index + 1));
        let Value::Object(map) = item else {
            return Err(at("it must be an object with a `key`".to_owned()));
        };
        for name in map.keys() {
            if ![
                "key",
                "features",
                "expires",
                "seats",
                "status",
                "activations",
            ]
            .contains(&name.as_str())
            {
                return Err(at(format!(
                    "unknown field `{name}` (known: key, features, expires, seats, status, activations)"
                )));
            }
        }
        let key = map
            .get("key")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| at("`key` is missing or empty".to_owned()))?;
        let mut spec = LicenseSpec::new(key);
        let strings = |name: &str| -> CliResult<Vec<String>> {
            match map.get(name) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| at(format!("`{name}` must be a list of strings")))
                    })
                    .collect(),
                Some(_) => Err(at(format!("`{name}` must be a list of strings"))),
            }
        };
        spec.features = strings("features")?;
        spec.activations = strings("activations")?;
        spec.expires = match map.get("expires") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => parse_expiry_word(s).map_err(|e| at(e.message))?,
            Some(_) => return Err(at("`expires` must be a string or null".to_owned())),
        };
        spec.seats = match map.get("seats") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| at("`seats` must be a number of 1 or more".to_owned()))?,
            ),
            Some(_) => return Err(at("`seats` must be a number or null".to_owned())),
        };
        spec.start = match map
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("active")
        {
            "active" => Start::Active,
            "revoked" => Start::Revoked,
            "suspended" => Start::Suspended,
            "expired" => Start::Expired,
            other => {
                return Err(at(format!(
                    "status `{other}` is unknown (known: active, revoked, suspended, expired)"
                )));
            }
        };
        seed.licenses.push(spec);
    }
    Ok(seed)
}

/// The licenses, product and minimum version from the flags and seed file.
fn shape(args: &EmulateArgs) -> CliResult<Option<Seed>> {
    if args.licenses.is_empty() && args.seed.is_none() {
        return Ok(None);
    }
    let mut seed = match &args.seed {
        Some(path) => read_seed(path)?,
        None => Seed::default(),
    };
    for text in &args.licenses {
        seed.licenses.push(parse_license(text)?);
    }
    if seed.licenses.is_empty() {
        return Err(CliError::usage(
            "the seed file holds no licenses: add some, or pass --license KEY",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for license in &seed.licenses {
        if !seen.insert(license.key.to_ascii_uppercase()) {
            return Err(CliError::usage(format!(
                "the key {} is given twice: give each license once",
                license.key
            )));
        }
    }
    Ok(Some(seed))
}

/// Files the emulator writes for the user, removed when it stops.
struct Files {
    dir: TempDir,
    ca: Option<PathBuf>,
}

impl Files {
    fn new(certificate: Option<&TestCertificate>) -> CliResult<Self> {
        let dir = tempfile::Builder::new()
            .prefix("license-gate-emulator-")
            .tempdir()
            .map_err(|e| CliError::usage(format!("could not create a temporary folder: {e}")))?;
        let mut files = Files { dir, ca: None };
        if let Some(certificate) = certificate {
            files.ca = Some(files.write("ca.pem", certificate.ca_pem())?);
        }
        Ok(files)
    }

    fn write(&self, name: &str, text: &str) -> CliResult<PathBuf> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text)
            .map_err(|e| CliError::usage(format!("could not write `{}`: {e}", path.display())))?;
        Ok(path)
    }
}

fn listen_error(port: u16, error: std::io::Error) -> CliError {
    CliError::usage(format!(
        "could not listen on 127.0.0.1:{port}: {error}; pick another --port (0 picks a free one)"
    ))
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn license_json(spec: &LicenseSpec) -> Value {
    json!({
        "key": spec.key,
        "features": spec.features,
        "expires": spec.expires.map(license_gate_testkit::instant::format_instant),
        "seats": spec.seats,
    })
}

/// Runs the ExisOne emulator until Ctrl-C or SIGTERM.
pub async fn exisone(args: &EmulateExisOneArgs, json: bool) -> CliResult {
    let mut signals = super::Signals::listen();
    let common = &args.common;
    let seed = shape(common)?;
    let product = common
        .product
        .clone()
        .or_else(|| seed.as_ref().and_then(|s| s.product.clone()))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| EXISONE_PRODUCT.to_owned());
    let min_version = args
        .min_version
        .clone()
        .or_else(|| seed.as_ref().and_then(|s| s.min_version.clone()))
        .filter(|v| !v.trim().is_empty());
    let certificate = common.tls.then(TestCertificate::localhost);
    let emulator = ExisOneEmulator::start_on_port(common.port, certificate.as_ref())
        .await
        .map_err(|e| listen_error(common.port, e))?;
    let control = emulator.control();
    control.set_minimum_version(min_version.as_deref());
    let now = now();
    let demo = seed.is_none();
    let licenses = match seed {
        Some(seed) => seed.licenses,
        None => vec![
            LicenseSpec {
                features: vec!["pro".into(), "export".into()],
                expires: Some(now + YEAR),
                ..LicenseSpec::new(EXISONE_DEMO_KEY)
            },
            LicenseSpec {
                features: vec!["pro".into()],
                expires: Some(now + YEAR),
                seats: Some(5),
                ..LicenseSpec::new(EXISONE_CORPORATE_KEY)
            },
            LicenseSpec {
                features: vec!["pro".into()],
                expires: Some(now - DAY),
                ..LicenseSpec::new(EXISONE_EXPIRED_KEY)
            },
        ],
    };
    for spec in &licenses {
        // No machine is bound in advance: the first to activate takes the seat.
        let mut license = ExisOneLicense::new(spec.key.as_str(), product.as_str())
            .features(spec.features.clone())
            .email("buyer@example.com");
        if let Some(at) = spec.expires {
            license = license.expires_at(at);
        }
        if let Some(seats) = spec.seats {
            license = license.seats(seats);
        }
        for machine in &spec.activations {
            license = license.activated_on(machine.as_str());
        }
        control.add_license(license);
        match spec.start {
            Start::Active => {}
            Start::Revoked => control.revoke(&spec.key),
            Start::Suspended => control.suspend(&spec.key),
            Start::Expired => control.expire(&spec.key),
        }
    }
    let files = Files::new(certificate.as_ref())?;
    let public_key = files.write("offline-public-key.pem", &control.offline_public_key_pem())?;
    let machine = license_gate::hardware_id();
    let offline_code = control.mint_offline_code(
        &OfflineCodeSpec::new(product.as_str(), machine.as_str())
            .features(
                licenses
                    .first()
                    .map(|l| l.features.clone())
                    .unwrap_or_default(),
            )
            .expires_at(now + YEAR),
    );
    let url = emulator.url();
    let token = ExisOneEmulator::TOKEN;
    let ca_flag = files
        .ca
        .as_deref()
        .map(|p| format!(" --ca-file {}", shown(p)))
        .unwrap_or_default();
    let first_key = licenses.first().map(|l| l.key.clone()).unwrap_or_default();
    let originals: HashMap<String, Option<SystemTime>> = licenses
        .iter()
        .map(|l| (l.key.to_ascii_uppercase(), l.expires))
        .collect();
    let shared = Arc::new(control::Control {
        target: Target::ExisOne {
            control: control.clone(),
            originals,
        },
        faults: control.faults(),
        token: control::new_token(),
    });
    let endpoint = start_endpoint(&shared, common.control_port).await?;

    if json {
        let mut info = json!({
            "ok": true,
            "service": "exisone",
            "base_url": url,
            "access_token": token,
            "product": product,
            "min_version": min_version,
            "licenses": licenses.iter().map(license_json).collect::<Vec<_>>(),
            "offline_public_key_file": shown(&public_key),
            "offline_code": offline_code,
            "ca_file": files.ca.as_deref().map(shown),
            "commands": TYPED_COMMANDS,
            "control_url": endpoint.as_ref().map(|(url, _)| url.clone()),
            "control_token": endpoint.as_ref().map(|_| shared.token.clone()),
        });
        if demo {
            info["keys"] = json!({
                "demo": EXISONE_DEMO_KEY,
                "corporate": EXISONE_CORPORATE_KEY,
                "expired": EXISONE_EXPIRED_KEY,
            });
        }
        print_out(&info.to_string());
    } else {
        let mut lines = vec![
            format!("ExisOne emulator running ({WARNING})"),
            format!("  base URL:            {url}"),
            format!("  access token:        {token}"),
            format!("  product:             {product}"),
        ];
        if let Some(minimum) = &min_version {
            lines.push(format!("  minimum version:     {minimum}"));
        }
        if demo {
            lines.push(format!(
                "  demo key:            {EXISONE_DEMO_KEY}  (features pro, export; binds to the first machine that activates it)"
            ));
            lines.push(format!(
                "  corporate key:       {EXISONE_CORPORATE_KEY}  (5 seats, none used)"
            ));
            lines.push(format!("  expired key:         {EXISONE_EXPIRED_KEY}"));
        } else {
            for spec in &licenses {
                lines.push(format!(
                    "  license:             {}  ({})",
                    spec.key,
                    spec.describe()
                ));
            }
        }
        lines.push(format!("  offline public key:  {}", shown(&public_key)));
        lines.push(format!(
            "  offline code for this machine:\n    {offline_code}"
        ));
        if let Some(ca) = &files.ca {
            lines.push(format!("  CA certificate:      {}", shown(ca)));
        }
        if let Some((url, _)) = &endpoint {
            lines.push(format!("  control endpoint:    {url}"));
            lines.push(format!("  control token:       {}", shared.token));
        }
        lines.push(String::new());
        lines.push("Try it from another terminal:".to_owned());
        lines.push(format!("  export EXISONE_BASEURL={url}"));
        lines.push(format!("  export EXISONE_ACCESS_TOKEN={token}"));
        lines.push(format!(
            "  license-gate exisone{ca_flag} activate {first_key} --email you@example.com --product \"{product}\""
        ));
        lines.push(format!(
            "  license-gate exisone{ca_flag} validate {first_key} --product \"{product}\""
        ));
        lines.push(format!(
            "  license-gate offline verify --public-key {} <offline code>",
            shown(&public_key)
        ));
        lines.push(
            "Type commands here to change it while it runs (`help` lists them, e.g. `revoke KEY`)."
                .to_owned(),
        );
        lines.push("Press Ctrl-C to stop.".to_owned());
        print_out(&lines.join("\n"));
    }
    serve(&shared, &mut signals, json).await;
    if let Some((_, task)) = endpoint {
        task.abort();
    }
    drop(emulator);
    drop(files);
    Ok(())
}

/// Runs the ECOSIRE emulator until Ctrl-C or SIGTERM.
pub async fn ecosire(args: &EmulateArgs, json: bool) -> CliResult {
    let mut signals = super::Signals::listen();
    let seed = shape(args)?;
    let product = args
        .product
        .clone()
        .or_else(|| seed.as_ref().and_then(|s| s.product.clone()))
        .filter(|p| !p.trim().is_empty());
    let certificate = args.tls.then(TestCertificate::localhost);
    let emulator = EcosireEmulator::start_on_port(args.port, certificate.as_ref())
        .await
        .map_err(|e| listen_error(args.port, e))?;
    let handle = emulator.handle().clone();
    let now = now();
    let demo = seed.is_none();
    let licenses = match seed {
        Some(seed) => seed.licenses,
        None => vec![
            LicenseSpec {
                expires: Some(now + YEAR),
                seats: Some(3),
                ..LicenseSpec::new(ECOSIRE_DEMO_KEY)
            },
            LicenseSpec {
                expires: Some(now - DAY),
                seats: Some(3),
                ..LicenseSpec::new(ECOSIRE_EXPIRED_KEY)
            },
            LicenseSpec {
                seats: Some(3),
                start: Start::Suspended,
                ..LicenseSpec::new(ECOSIRE_SUSPENDED_KEY)
            },
        ],
    };
    for spec in &licenses {
        let mut license = EcosireLicense::new(spec.key.as_str(), ECOSIRE_SECRET);
        if let Some(at) = spec.expires {
            license = license.expires_at(at);
        }
        if let Some(slots) = spec.seats {
            license = license.activation_limit(slots);
        }
        handle.add_license(license);
        for domain in &spec.activations {
            handle.bind(&spec.key, domain);
        }
        match spec.start {
            Start::Active => {}
            Start::Revoked => handle.revoke(&spec.key),
            Start::Suspended => handle.suspend(&spec.key),
            Start::Expired => handle.expire(&spec.key),
        }
    }
    let files = Files::new(certificate.as_ref())?;
    let url = emulator.url();
    let ca_flag = files
        .ca
        .as_deref()
        .map(|p| format!(" --ca-file {}", shown(p)))
        .unwrap_or_default();
    let first_key = licenses.first().map(|l| l.key.clone()).unwrap_or_default();
    let originals: HashMap<String, Option<SystemTime>> = licenses
        .iter()
        .map(|l| (l.key.clone(), l.expires))
        .collect();
    let shared = Arc::new(control::Control {
        target: Target::Ecosire {
            handle: handle.clone(),
            originals,
        },
        faults: handle.faults().clone(),
        token: control::new_token(),
    });
    let endpoint = start_endpoint(&shared, args.control_port).await?;

    if json {
        let mut info = json!({
            "ok": true,
            "service": "ecosire",
            "base_url": url,
            "license_secret": ECOSIRE_SECRET,
            "product": product,
            "licenses": licenses.iter().map(license_json).collect::<Vec<_>>(),
            "ca_file": files.ca.as_deref().map(shown),
            "commands": TYPED_COMMANDS,
            "control_url": endpoint.as_ref().map(|(url, _)| url.clone()),
            "control_token": endpoint.as_ref().map(|_| shared.token.clone()),
        });
        if demo {
            info["keys"] = json!({
                "demo": ECOSIRE_DEMO_KEY,
                "expired": ECOSIRE_EXPIRED_KEY,
                "suspended": ECOSIRE_SUSPENDED_KEY,
            });
        }
        print_out(&info.to_string());
    } else {
        let mut lines = vec![
            format!("ECOSIRE emulator running ({WARNING})"),
            format!("  base URL:        {url}"),
            format!("  license secret:  {ECOSIRE_SECRET}"),
        ];
        if let Some(product) = &product {
            lines.push(format!(
                "  product:         {product}  (a label: ECOSIRE licenses name no product)"
            ));
        }
        if demo {
            lines.push(format!(
                "  demo key:        {ECOSIRE_DEMO_KEY}  (active, 3 activation slots)"
            ));
            lines.push(format!("  expired key:     {ECOSIRE_EXPIRED_KEY}"));
            lines.push(format!("  suspended key:   {ECOSIRE_SUSPENDED_KEY}"));
        } else {
            for spec in &licenses {
                let slots = spec
                    .seats
                    .map(|n| format!("{n} activation slots"))
                    .unwrap_or_else(|| "unlimited activations".to_owned());
                let expires = spec
                    .expires
                    .map(|at| {
                        format!(
                            "expires {}",
                            license_gate_testkit::instant::format_instant(at)
                        )
                    })
                    .unwrap_or_else(|| "never expires".to_owned());
                lines.push(format!(
                    "  license:         {}  ({expires}; {slots})",
                    spec.key
                ));
            }
        }
        if let Some(ca) = &files.ca {
            lines.push(format!("  CA certificate:  {}", shown(ca)));
        }
        if let Some((url, _)) = &endpoint {
            lines.push(format!("  control endpoint:    {url}"));
            lines.push(format!("  control token:       {}", shared.token));
        }
        lines.push(String::new());
        lines.push("Try it from another terminal:".to_owned());
        lines.push(format!("  export ECOSIRE_LICENSE_SECRET={ECOSIRE_SECRET}"));
        for call in ["validate", "activate", "deactivate"] {
            lines.push(format!(
                "  license-gate ecosire --base-url {url}{ca_flag} {call} {first_key} --domain shop.example.com"
            ));
        }
        lines.push(
            "Type commands here to change it while it runs (`help` lists them, e.g. `revoke KEY`)."
                .to_owned(),
        );
        lines.push("Press Ctrl-C to stop.".to_owned());
        print_out(&lines.join("\n"));
    }
    serve(&shared, &mut signals, json).await;
    if let Some((_, task)) = endpoint {
        task.abort();
    }
    drop(emulator);
    drop(files);
    Ok(())
}

/// Starts the control endpoint when `--control-port` asks for it.
async fn start_endpoint(
    shared: &Arc<control::Control>,
    port: Option<u16>,
) -> CliResult<Option<(String, tokio::task::JoinHandle<()>)>> {
    match port {
        None => Ok(None),
        Some(port) => control::start(shared.clone(), port)
            .await
            .map(Some)
            .map_err(|e| listen_error(port, e)),
    }
}

/// The emulator the typed commands act on, with each license's expiry as it
/// started (for `restore`).
enum Target {
    ExisOne {
        control: ExisOneControl,
        originals: HashMap<String, Option<SystemTime>>,
    },
    Ecosire {
        handle: EcosireHandle,
        originals: HashMap<String, Option<SystemTime>>,
    },
}

impl Target {
    /// The key as the emulator stores it, when it has such a license.
    fn find(&self, key: &str) -> Option<String> {
        match self {
            Target::ExisOne { control, .. } => control.license(key).map(|l| l.key),
            Target::Ecosire { handle, .. } => handle.has_license(key).then(|| key.to_owned()),
        }
    }

    fn keys(&self) -> Vec<String> {
        match self {
            Target::ExisOne { control, .. } => control.license_keys(),
            Target::Ecosire { handle, .. } => handle.license_keys(),
        }
    }

    fn state(&self, key: &str) -> String {
        match self {
            Target::ExisOne { control, .. } => match control.license(key) {
                Some(l) => {
                    let state = match l.state {
                        LicenseState::Revoked => "revoked",
                        LicenseState::Suspended => "suspended",
                        _ if l.expires_at.is_some_and(|at| at <= SystemTime::now()) => "expired",
                        _ => "active",
                    };
                    let bound = if l.activations.is_empty() {
                        "not activated".to_owned()
                    } else {
                        format!("activated on {} machine(s)", l.activations.len())
                    };
                    format!("{state}; {bound}")
                }
                None => "unknown".to_owned(),
            },
            Target::Ecosire { handle, .. } => match handle.status_of(key) {
                Some(status) => format!(
                    "{}; {} activation(s)",
                    status.as_str(),
                    handle.bindings(key).len()
                ),
                None => "unknown".to_owned(),
            },
        }
    }

    fn apply(&self, verb: &str, key: &str) {
        match self {
            Target::ExisOne { control, originals } => match verb {
                "revoke" => control.revoke(key),
                "suspend" => control.suspend(key),
                "expire" => control.expire(key),
                _ => {
                    control.reinstate(key);
                    let original = originals.get(&key.to_ascii_uppercase()).copied().flatten();
                    // A license that started expired comes back in force.
                    let expiry = original.filter(|at| *at > SystemTime::now());
                    control.set_expiry(key, expiry);
                }
            },
            Target::Ecosire { handle, originals } => match verb {
                "revoke" => handle.revoke(key),
                "suspend" => handle.suspend(key),
                "expire" => handle.expire(key),
                _ => {
                    handle.restore(key);
                    let original = originals.get(key).copied().flatten();
                    handle.set_expiry(key, original.filter(|at| *at > SystemTime::now()));
                }
            },
        }
    }
}

/// Answers the commands typed on stdin until Ctrl-C or SIGTERM; the end of
/// stdin ends the commands, not the emulator.
async fn serve(shared: &control::Control, signals: &mut super::Signals, json: bool) {
    let (send, mut receive) = tokio::sync::mpsc::unbounded_channel::<String>();
    // A plain thread: a blocking read must not hold the runtime at exit.
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match std::io::BufRead::read_line(&mut stdin.lock(), &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if send.send(line.trim().to_owned()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let stop = signals.recv();
    tokio::pin!(stop);
    let mut open = true;
    loop {
        tokio::select! {
            () = &mut stop => break,
            line = receive.recv(), if open => match line {
                Some(line) => {
                    if !line.is_empty() {
                        answer(&shared.target, &shared.faults, &line, json);
                    }
                }
                None => open = false,
            },
        }
    }
}

/// What a typed command did.
#[derive(Debug)]
struct Outcome {
    ok: bool,
    verb: String,
    key: Option<String>,
    text: String,
}

impl Outcome {
    /// The JSON form (stdin with `--json`, and the control endpoint).
    fn to_json(&self) -> Value {
        let mut out = json!({ "ok": self.ok, "command": self.verb, "key": self.key });
        if self.ok {
            out["result"] = Value::from(self.text.as_str());
        } else {
            out["error"] = json!({ "kind": "usage", "message": self.text });
        }
        out
    }

    /// Prints it as the stdin reply.
    fn print(&self, json: bool) {
        if json {
            print_out(&self.to_json().to_string());
        } else if self.verb == "help" && self.ok {
            print_out(&self.text);
        } else if self.ok {
            print_out(&format!("ok: {}", self.text));
        } else {
            print_out(&format!("error: {}", self.text));
        }
    }
}

/// Runs one typed command and prints what happened.
fn answer(target: &Target, faults: &FaultControl, line: &str, json: bool) {
    execute(target, faults, line).print(json);
}

/// Runs one command line against the emulator.
fn execute(target: &Target, faults: &FaultControl, line: &str) -> Outcome {
    let line = line.trim();
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or_default().to_ascii_lowercase();
    let argument = words.next();
    let extra = words.next();
    let reply = |ok: bool, text: String, key: Option<&str>| Outcome {
        ok,
        verb: verb.clone(),
        key: key.map(str::to_owned),
        text,
    };
    if extra.is_some() {
        return reply(
            false,
            format!("`{line}` has too many words; type `help` for the commands"),
            None,
        );
    }
    match (verb.as_str(), argument) {
        ("revoke" | "suspend" | "expire" | "restore", Some(key)) => match target.find(key) {
            Some(key) => {
                target.apply(&verb, &key);
                let done = match verb.as_str() {
                    "revoke" => "revoked",
                    "suspend" => "suspended",
                    "expire" => "expired",
                    _ => "restored",
                };
                reply(
                    true,
                    format!("{key} {done} ({})", target.state(&key)),
                    Some(&key),
                )
            }
            None => reply(
                false,
                format!(
                    "no license {key}; the licenses are: {}",
                    target.keys().join(", ")
                ),
                Some(key),
            ),
        },
        ("revoke" | "suspend" | "expire" | "restore", None) => reply(
            false,
            format!("`{verb}` needs a key: `{verb} KEY` (`list` shows them)"),
            None,
        ),
        ("down", None) => {
            faults.go_down();
            reply(
                true,
                "down: connections are refused until `up`".to_owned(),
                None,
            )
        }
        ("up", None) => {
            faults.come_up();
            reply(true, "up: answering again".to_owned(), None)
        }
        ("slow", Some(ms)) => match ms.parse::<u64>() {
            Ok(ms) => {
                faults.set_delay(Duration::from_millis(ms));
                reply(
                    true,
                    if ms == 0 {
                        "no delay".to_owned()
                    } else {
                        format!("every request waits {ms} ms")
                    },
                    None,
                )
            }
            Err(_) => reply(
                false,
                format!("`{ms}` is not a number of milliseconds: type e.g. `slow 2000`"),
                None,
            ),
        },
        ("slow", None) => reply(
            false,
            "`slow` needs milliseconds: `slow 2000` (`slow 0` ends it)".to_owned(),
            None,
        ),
        ("list", None) => {
            let listing: Vec<String> = target
                .keys()
                .iter()
                .map(|k| format!("{k}: {}", target.state(k)))
                .collect();
            let down = if faults.is_down() {
                " (the service is down)"
            } else {
                ""
            };
            reply(true, format!("{}{down}", listing.join("; ")), None)
        }
        ("help", None) => reply(true, COMMANDS.to_owned(), None),
        _ => reply(
            false,
            match nearest_command(&verb) {
                Some(command) => format!(
                    "unknown command `{line}`: did you mean `{command}`? type `help` for the commands"
                ),
                None => format!("unknown command `{line}`; type `help` for the commands"),
            },
            None,
        ),
    }
}

/// The typed command whose verb is nearest to `verb` (at most two letters
/// added, dropped or changed, and fewer than half of them), as `help` shows
/// it; `None` when no verb is that near or `verb` is one of them.
fn nearest_command(verb: &str) -> Option<&'static str> {
    TYPED_COMMANDS
        .iter()
        .map(|command| {
            let name = command.split(' ').next().unwrap_or(command);
            (edit_distance(verb, name), name.len(), *command)
        })
        .filter(|&(distance, len, _)| distance > 0 && distance <= 2 && distance * 2 < len)
        .min_by_key(|&(distance, _, _)| distance)
        .map(|(_, _, command)| command)
}

/// The edit distance between two short words, a swap of neighbouring
/// letters counting as one edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The control endpoint: `POST /control` on loopback with
/// `Authorization: Bearer TOKEN` and a command line as the body, answered
/// with the command's JSON outcome; for scripts and tests that cannot type.
mod control {
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use serde_json::json;

    use super::{FaultControl, Target, execute};

    /// What the handler needs.
    pub(super) struct Control {
        pub(super) target: Target,
        pub(super) faults: FaultControl,
        pub(super) token: String,
    }

    /// A fresh token: 128 bits from the OS-seeded hasher keys, so no other
    /// local user can guess it.
    pub(super) fn new_token() -> String {
        use std::hash::{BuildHasher, Hasher};
        let mut text = String::new();
        for salt in 0..2u64 {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(salt);
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            text.push_str(&format!("{:016x}", hasher.finish()));
        }
        text
    }

    /// Serves the endpoint on 127.0.0.1:`port` until the future is dropped;
    /// returns its URL.
    pub(super) async fn start(
        control: Arc<Control>,
        port: u16,
    ) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}/control", listener.local_addr()?);
        let router = Router::new()
            .route("/control", post(handle))
            .with_state(control);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok((url, task))
    }

    async fn handle(
        State(control): State<Arc<Control>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let given = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let expected = control.token.as_bytes();
        // Compare every byte so the time taken says nothing about the token.
        let matches = given.len() == expected.len()
            && given
                .bytes()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({
                    "ok": false,
                    "error": {"kind": "unauthorized", "message": "send the token the emulator printed as `Authorization: Bearer TOKEN`"}
                })),
            )
                .into_response();
        }
        let Ok(line) = std::str::from_utf8(&body) else {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "ok": false,
                    "error": {"kind": "usage", "message": "the body must be one command line in UTF-8, such as `revoke KEY`"}
                })),
            )
                .into_response();
        };
        let outcome = execute(&control.target, &control.faults, line);
        let status = if outcome.ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        (status, axum::Json(outcome.to_json())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_command_is_answered_with_the_nearest() {
        assert_eq!(nearest_command("revok"), Some("revoke KEY"));
        assert_eq!(nearest_command("rstore"), Some("restore KEY"));
        assert_eq!(nearest_command("lst"), Some("list"));
        assert_eq!(nearest_command("dwn"), Some("down"));
        assert_eq!(nearest_command("slwo"), Some("slow MS"));
        // Too far from every command, or a command itself: no guess.
        assert_eq!(nearest_command("deactivate"), None);
        assert_eq!(nearest_command("x"), None);
        assert_eq!(nearest_command("revoke"), None);
    }

    #[test]
    fn license_flags_read_every_part() {
        let spec = parse_license("ATLS-AAAA-BBBB-0001:pro,export:2027-12-31:5").unwrap();
        assert_eq!(spec.key, "ATLS-AAAA-BBBB-0001");
        assert_eq!(spec.features, ["pro", "export"]);
        assert!(spec.expires.is_some());
        assert_eq!(spec.seats, Some(5));
        let spec = parse_license("ATLS-AAAA-BBBB-0001").unwrap();
        assert!(spec.features.is_empty() && spec.expires.is_none() && spec.seats.is_none());
        let spec = parse_license("K::never").unwrap();
        assert!(spec.expires.is_none());
        assert!(parse_license("K:pro:-1d").unwrap().expires.unwrap() < SystemTime::now());
        for bad in [":pro", "K:pro:someday", "K:pro:never:0", "K:pro:never:x"] {
            let error = parse_license(bad).unwrap_err();
            assert!(error.message.contains("KEY[:FEATURES"), "{}", error.message);
        }
    }
}
