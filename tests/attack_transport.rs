//! Attacks on the way license answers travel, as the application's own user
//! would try them: an intercepting proxy with a CA of their own in
//! `SSL_CERT_FILE`, a fake server named in `EXISONE_BASEURL`, plain http,
//! loose or forged reply shapes, the key echoed in other spellings, dates
//! past 9999. Each test asserts that the provider or the gate grants nothing
//! (or, for the controls, that the legitimate setup still works).
//!
//! Environment variables are process-wide, so the tests that set them run the
//! client in a child process (this test binary re-run with one test selected).

use license_gate_tests::support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions, ExisOneProvider};
use license_gate::{
    LicenseKey, LicenseStatus, ProviderError,
    provider::{LicenseRequest, Provider},
};
use license_gate_testkit::exisone::ExisOneEmulator;
use license_gate_testkit::{Fault, TestCertificate};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use support::{
    ECOSIRE_DOMAIN, ECOSIRE_KEY, ECOSIRE_SECRET, EXISONE_HW, EXISONE_KEY, Emulated, FEATURES,
    LogBuffer, PRODUCT, Service, key_letters,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Set in a child process: which child scenario to run.
const CHILD: &str = "LICENSE_GATE_ATTACK_CHILD";
/// The host names the intercepted client believes it talks to.
const EXISONE_HOST: &str = "exisone.example.com";
const ECOSIRE_HOST: &str = "ecosire.example.com";

// ---- helpers ---------------------------------------------------------------

fn leaks(text: &str, key: &str) -> bool {
    key_letters(text).contains(&key_letters(key))
}

fn request(service: Service) -> LicenseRequest {
    LicenseRequest::new(PRODUCT, Some(LicenseKey::new(service.key())))
}

/// Asserts that a provider's outcome grants nothing.
fn assert_no_grant(
    outcome: &Result<license_gate::provider::LicenseAnswer, ProviderError>,
    what: &str,
) {
    if let Ok(answer) = outcome {
        assert!(
            !answer.status.grants_access() && answer.features.is_empty(),
            "{what}: granted {:?} with {:?}",
            answer.status,
            answer.features
        );
    }
}

/// Runs the single test `name` of this binary in a child process with `env`,
/// and returns its standard output.
fn run_child(name: &str, env: &[(&str, String)]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = std::process::Command::new(exe);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name);
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "EXISONE_BASEURL",
        "SSLKEYLOGFILE",
    ] {
        command.env_remove(var);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the child test runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the child `{name}` failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The value after `marker` on the child's output line that has it.
fn marked(stdout: &str, marker: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.split_once(marker).map(|(_, rest)| rest.trim().to_owned()))
        .unwrap_or_else(|| panic!("no `{marker}` line in the child's output:\n{stdout}"))
}

/// Whether this process is the child running `name`.
fn is_child(name: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|v| v == name)
}

// ---- an intercepting proxy ---------------------------------------------------

/// A CA of the attacker's own and a certificate it issued for both service
/// host names.
struct AttackerCa {
    ca_pem: String,
    server: Arc<ServerConfig>,
}

fn attacker_ca() -> AttackerCa {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("empty SANs");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "the app user's own CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let leaf_params =
        CertificateParams::new(vec![EXISONE_HOST.to_owned(), ECOSIRE_HOST.to_owned()])
            .expect("valid SANs");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf");
    let server =
        ServerConfig::builder_with_provider(license_gate_runtime::transport::crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), ca.as_ref().der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .expect("certificate and key match");
    AttackerCa {
        ca_pem: ca.as_ref().pem(),
        server: Arc::new(server),
    }
}

/// A loopback HTTPS proxy that answers `CONNECT` and then, instead of
/// tunnelling, terminates TLS with the attacker's certificate and relays the
/// plain request to the emulator: everything it could read is recorded.
struct MitmProxy {
    addr: SocketAddr,
    /// What the proxy read in clear: `CONNECT` heads and decrypted requests.
    seen: Arc<Mutex<Vec<u8>>>,
    connects: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
}

impl MitmProxy {
    async fn start(ca: &AttackerCa, upstream: HashMap<String, SocketAddr>) -> MitmProxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let proxy = MitmProxy {
            addr,
            seen: Arc::default(),
            connects: Arc::default(),
            handshakes: Arc::default(),
        };
        let acceptor = TlsAcceptor::from(ca.server.clone());
        let (seen, connects, handshakes) = (
            proxy.seen.clone(),
            proxy.connects.clone(),
            proxy.handshakes.clone(),
        );
        let upstream = Arc::new(upstream);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, seen, connects, handshakes, upstream) = (
                    acceptor.clone(),
                    seen.clone(),
                    connects.clone(),
                    handshakes.clone(),
                    upstream.clone(),
                );
                tokio::spawn(async move {
                    intercept(stream, acceptor, seen, connects, handshakes, upstream).await;
                });
            }
        });
        proxy
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }
}

async fn intercept(
    mut stream: TcpStream,
    acceptor: TlsAcceptor,
    seen: Arc<Mutex<Vec<u8>>>,
    connects: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
    upstream: Arc<HashMap<String, SocketAddr>>,
) {
    // The CONNECT head, byte by byte: nothing else arrives before our answer.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match stream.read_u8().await {
            Ok(byte) => head.push(byte),
            Err(_) => return,
        }
    }
    seen.lock().unwrap().extend_from_slice(&head);
    let line = String::from_utf8_lossy(&head).into_owned();
    let Some(target) = line
        .strip_prefix("CONNECT ")
        .and_then(|rest| rest.split_whitespace().next())
    else {
        return;
    };
    let host = target.split(':').next().unwrap_or_default().to_owned();
    let Some(&upstream) = upstream.get(&host) else {
        return;
    };
    connects.fetch_add(1, Ordering::SeqCst);
    if stream
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    // A client that does not trust the attacker's CA ends here.
    let Ok(tls) = acceptor.accept(stream).await else {
        return;
    };
    handshakes.fetch_add(1, Ordering::SeqCst);
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = tokio::io::split(tls);
    let (mut server_read, mut server_write) = server.into_split();
    let to_server = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = client_read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            seen.lock().unwrap().extend_from_slice(&buf[..n]);
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buf = [0u8; 4096];
    while let Ok(n) = server_read.read(&mut buf).await {
        if n == 0 || client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
        let _ = client_write.flush().await;
    }
    to_server.abort();
}

/// The base URL the intercepted client uses for `emulator_url`: the same
/// path on the public host name.
fn public_url(emulator_url: &str, host: &str) -> String {
    let path = emulator_url
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    format!("https://{host}{path}")
}

/// Child side of the proxy tests: validates with both providers through
/// whatever proxy and certificate files the environment names, and prints
/// the outcomes.
#[test]
fn child_validates_through_the_environment() {
    let name = "child_validates_through_the_environment";
    if !is_child(name) {
        return;
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let explicit_ca = std::env::var("ATTACK_EXPLICIT_CA").ok();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut exisone = ExisOneClientOptions::new(var("ATTACK_EXISONE_URL"))
            .access_token(ExisOneEmulator::TOKEN)
            .hardware_id_override(EXISONE_HW)
            .http(HttpOptions::new().timeout(Duration::from_secs(5)));
        let mut ecosire = EcosireOptions::new(var("ATTACK_ECOSIRE_URL"))
            .license_secret(ECOSIRE_SECRET)
            .http(HttpOptions::new().timeout(Duration::from_secs(5)));
        if let Some(path) = &explicit_ca {
            let pem = std::fs::read(path).unwrap();
            exisone.http = exisone.http.extra_root_certificate(pem.clone());
            ecosire.http = ecosire.http.extra_root_certificate(pem);
        }
        let providers: [(&str, Arc<dyn Provider>, Service); 2] = [
            (
                "EXISONE",
                Arc::new(ExisOneProvider::from_options(exisone).unwrap()),
                Service::ExisOne,
            ),
            (
                "ECOSIRE",
                Arc::new(
                    EcosireProvider::from_options(ecosire)
                        .unwrap()
                        .domain(ECOSIRE_DOMAIN)
                        .features(FEATURES),
                ),
                Service::Ecosire,
            ),
        ];
        for (label, provider, service) in providers {
            match provider.validate(&request(service)).await {
                Ok(answer) if answer.status.grants_access() => {
                    println!("{label}=granted {:?}", answer.features)
                }
                Ok(answer) => println!("{label}=denied {}", answer.status),
                Err(error) => println!(
                    "{label}=error transient={} {}",
                    error.is_transient(),
                    error.redact_key(&LicenseKey::new(service.key()))
                ),
            }
        }
    });
}

/// The emulators, the attacker's CA in a file, and the proxy in front.
struct ProxySetup {
    _exisone: Emulated,
    _ecosire: Emulated,
    proxy: MitmProxy,
    ca_file: tempfile::NamedTempFile,
    ca_dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

async fn proxy_setup() -> ProxySetup {
    let exisone = Emulated::start(Service::ExisOne).await;
    let ecosire = Emulated::start(Service::Ecosire).await;
    let ca = attacker_ca();
    let upstream = HashMap::from([
        (
            EXISONE_HOST.to_owned(),
            exisone
                .url()
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap()
                .parse()
                .unwrap(),
        ),
        (
            ECOSIRE_HOST.to_owned(),
            ecosire
                .url()
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap()
                .parse()
                .unwrap(),
        ),
    ]);
    let proxy = MitmProxy::start(&ca, upstream).await;
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), &ca.ca_pem).unwrap();
    let ca_dir = tempfile::tempdir().unwrap();
    std::fs::write(ca_dir.path().join("attacker.pem"), &ca.ca_pem).unwrap();
    let env = vec![
        ("HTTPS_PROXY", proxy.url()),
        ("https_proxy", proxy.url()),
        ("ALL_PROXY", proxy.url()),
        (
            "ATTACK_EXISONE_URL",
            public_url(&exisone.url(), EXISONE_HOST),
        ),
        (
            "ATTACK_ECOSIRE_URL",
            public_url(&ecosire.url(), ECOSIRE_HOST),
        ),
    ];
    ProxySetup {
        _exisone: exisone,
        _ecosire: ecosire,
        proxy,
        ca_file,
        ca_dir,
        env,
    }
}

async fn run_child_async(name: &'static str, env: Vec<(&'static str, String)>) -> String {
    tokio::task::spawn_blocking(move || run_child(name, &env))
        .await
        .expect("the child runs")
}

/// Attack: `HTTPS_PROXY` names a loopback proxy of the user's, and
/// `SSL_CERT_FILE` / `SSL_CERT_DIR` name the CA that proxy forges
/// certificates with. Neither provider grants, and the proxy reads neither
/// the key nor the access token: the handshake fails on the bundled roots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_with_own_ca_in_ssl_cert_file_grants_nothing() {
    let setup = proxy_setup().await;
    let mut env = setup.env.clone();
    env.push(("SSL_CERT_FILE", setup.ca_file.path().display().to_string()));
    env.push(("SSL_CERT_DIR", setup.ca_dir.path().display().to_string()));
    let out = run_child_async("child_validates_through_the_environment", env).await;

    for label in ["EXISONE", "ECOSIRE"] {
        let outcome = marked(&out, &format!("{label}="));
        assert!(
            outcome.starts_with("error transient=true"),
            "{label}: {outcome}"
        );
        assert!(outcome.contains("certificate"), "{label}: {outcome}");
    }
    // The proxy carried the connections (the attack was really in the path)...
    assert_eq!(setup.proxy.connects.load(Ordering::SeqCst), 2);
    // ...but no TLS session with it was ever established...
    assert_eq!(setup.proxy.handshakes.load(Ordering::SeqCst), 0);
    // ...so it read nothing secret.
    let seen = setup.proxy.seen();
    for secret in [EXISONE_KEY, ECOSIRE_KEY] {
        assert!(!leaks(&seen, secret), "the proxy read a key: {seen}");
    }
    for secret in [ExisOneEmulator::TOKEN, ECOSIRE_SECRET] {
        assert!(!seen.contains(secret), "the proxy read a secret: {seen}");
    }
}

/// Control: the same proxy and CA, given by the vendor's code as an extra
/// root (a private deployment), works — so the test above fails for the
/// right reason, and the option does what it says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_ca_given_explicitly_as_an_extra_root_works() {
    let setup = proxy_setup().await;
    let mut env = setup.env.clone();
    env.push((
        "ATTACK_EXPLICIT_CA",
        setup.ca_file.path().display().to_string(),
    ));
    let out = run_child_async("child_validates_through_the_environment", env).await;
    for label in ["EXISONE", "ECOSIRE"] {
        let outcome = marked(&out, &format!("{label}="));
        assert!(outcome.starts_with("granted"), "{label}: {outcome}");
    }
    assert!(setup.proxy.handshakes.load(Ordering::SeqCst) >= 2);
    // Trusted on purpose, this proxy does read the traffic.
    assert!(leaks(&setup.proxy.seen(), EXISONE_KEY));
}

/// Attack: `SSLKEYLOGFILE` names a file where a TLS library would write the
/// session secrets, so a capture of the traffic could be decrypted (token and
/// key in clear). The transport's TLS configuration never logs keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslkeylogfile_is_ignored() {
    let certificate = TestCertificate::localhost();
    let exisone = ExisOneEmulator::start_tls(&certificate).await.unwrap();
    exisone.control().add_license(
        license_gate_testkit::exisone::EmulatedLicense::new(EXISONE_KEY, PRODUCT)
            .features(FEATURES),
    );
    exisone.control().bind(EXISONE_KEY, EXISONE_HW);
    let ecosire = license_gate_testkit::ecosire::EcosireEmulator::start_tls(&certificate)
        .await
        .unwrap();
    ecosire
        .handle()
        .add_license(license_gate_testkit::ecosire::EmulatedLicense::new(
            ECOSIRE_KEY,
            ECOSIRE_SECRET,
        ));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, certificate.ca_pem()).unwrap();
    let keylog = dir.path().join("keys.log");
    let out = run_child_async(
        "child_validates_through_the_environment",
        vec![
            ("ATTACK_EXISONE_URL", exisone.url()),
            ("ATTACK_ECOSIRE_URL", ecosire.url()),
            ("ATTACK_EXPLICIT_CA", ca.display().to_string()),
            ("SSLKEYLOGFILE", keylog.display().to_string()),
        ],
    )
    .await;
    for label in ["EXISONE", "ECOSIRE"] {
        let outcome = marked(&out, &format!("{label}="));
        assert!(outcome.starts_with("granted"), "{label}: {outcome}");
    }
    let logged = std::fs::read(&keylog).unwrap_or_default();
    assert!(
        logged.is_empty(),
        "TLS secrets were written to SSLKEYLOGFILE"
    );
}

// ---- pins, URLs and the environment ----------------------------------------------

/// Attack: a server whose certificate chains to a trusted root but carries
/// none of the pinned keys. Refused; the right pin works.
#[tokio::test]
async fn a_wrong_spki_pin_is_refused() {
    let certificate = TestCertificate::localhost();
    let emulator = ExisOneEmulator::start_tls(&certificate).await.unwrap();
    emulator.control().add_license(
        license_gate_testkit::exisone::EmulatedLicense::new(EXISONE_KEY, PRODUCT)
            .features(FEATURES),
    );
    emulator.control().bind(EXISONE_KEY, EXISONE_HW);
    let options = |pin: String| {
        ExisOneClientOptions::new(emulator.url())
            .access_token(ExisOneEmulator::TOKEN)
            .hardware_id_override(EXISONE_HW)
            .http(
                HttpOptions::new()
                    .extra_root_certificate(certificate.ca_pem().as_bytes().to_vec())
                    .spki_pin(pin),
            )
    };
    let wrong = ExisOneProvider::from_options(options(
        "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
    ))
    .unwrap();
    let outcome = wrong.validate(&request(Service::ExisOne)).await;
    assert_no_grant(&outcome, "wrong pin");
    let error = outcome.unwrap_err();
    assert!(
        matches!(error, ProviderError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("pin"), "{error}");
    assert_eq!(
        emulator.faults().requests(),
        0,
        "nothing reached the server"
    );

    let pin = license_gate::providers::HttpOptions::spki_pin_of(certificate.ca_pem().as_bytes())
        .expect("the CA certificate parses");
    let right = ExisOneProvider::from_options(options(pin)).unwrap();
    let answer = right.validate(&request(Service::ExisOne)).await.unwrap();
    assert_eq!(answer.status, LicenseStatus::Licensed);
}

/// Child side of the `EXISONE_BASEURL` test.
#[test]
fn child_builds_from_env() {
    let name = "child_builds_from_env";
    if !is_child(name) {
        return;
    }
    match ExisOneClient::new(ExisOneClientOptions::from_env()) {
        Ok(client) => println!("FROM_ENV=accepted {}", client.base_url()),
        Err(error) => println!("FROM_ENV=refused {error}"),
    }
    match ExisOneClient::new(
        ExisOneClientOptions::from_env().http(HttpOptions::new().allow_insecure_loopback()),
    ) {
        Ok(client) => println!("OPTED_IN=accepted {}", client.base_url()),
        Err(error) => println!("OPTED_IN=refused {error}"),
    }
    match ExisOneClient::new(
        ExisOneClientOptions::from_env().http(
            HttpOptions::new()
                .allow_insecure_loopback()
                .allowed_hosts(["127.0.0.1"]),
        ),
    ) {
        Ok(client) => println!("NAMED=accepted {}", client.base_url()),
        Err(error) => println!("NAMED=refused {error}"),
    }
    match ExisOneClient::new(
        ExisOneClientOptions::from_env()
            .http(HttpOptions::new().allowed_hosts(["license.example.com"])),
    ) {
        Ok(client) => println!("VENDOR_HOST=accepted {}", client.base_url()),
        Err(error) => println!("VENDOR_HOST=refused {error}"),
    }
}

/// Attack: `EXISONE_BASEURL=http://127.0.0.1:P`, a fake server the user
/// runs. `from_env` refuses it and says how code opts in; the loopback
/// opt-in alone is not enough either: the code must name the host. Nothing
/// is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_env_refuses_a_plain_loopback_base_url() {
    let fake = Emulated::start(Service::ExisOne).await;
    let out = run_child_async(
        "child_builds_from_env",
        vec![("EXISONE_BASEURL", fake.url())],
    )
    .await;
    let refused = marked(&out, "FROM_ENV=");
    assert!(refused.starts_with("refused"), "{refused}");
    assert!(refused.contains("allow_insecure_loopback"), "{refused}");
    let opted_in = marked(&out, "OPTED_IN=");
    assert!(opted_in.starts_with("refused"), "{opted_in}");
    assert!(opted_in.contains("allowed_hosts"), "{opted_in}");
    // Only code can name the server the variable may choose.
    assert!(marked(&out, "NAMED=").starts_with("accepted"), "{out}");
    assert_eq!(fake.requests(), 0);
}

/// Attack: `EXISONE_BASEURL=https://licenses.attacker.example`, a domain of
/// the user's own with a publicly trusted certificate (free) serving
/// "valid, every feature". The application names no such server, so the
/// client is refused when it is built, with an error that says how code
/// names its servers; nothing is contacted. The vendor's own host named in
/// code is accepted (the variable still serves development).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_env_refuses_a_host_the_app_did_not_name() {
    let out = run_child_async(
        "child_builds_from_env",
        vec![(
            "EXISONE_BASEURL",
            "https://licenses.attacker.example".to_owned(),
        )],
    )
    .await;
    for marker in ["FROM_ENV=", "OPTED_IN=", "NAMED=", "VENDOR_HOST="] {
        let outcome = marked(&out, marker);
        assert!(
            outcome.starts_with("refused"),
            "{marker} a host the app did not name must be refused: {outcome}"
        );
        assert!(
            outcome.contains("allowed_hosts") && outcome.contains("EXISONE_BASEURL"),
            "{marker} the error says what to do: {outcome}"
        );
    }
    let out = run_child_async(
        "child_builds_from_env",
        vec![("EXISONE_BASEURL", "https://license.example.com".to_owned())],
    )
    .await;
    assert!(
        marked(&out, "VENDOR_HOST=").starts_with("accepted https://license.example.com"),
        "{out}"
    );
    assert!(marked(&out, "FROM_ENV=").starts_with("refused"), "{out}");
}

/// Attack: plain http to a host that is not loopback, even with the loopback
/// opt-in. Refused when the client is built, before any connection.
#[test]
fn plain_http_to_a_remote_host_is_refused_before_connecting() {
    for url in [
        "http://license.example.com",
        "http://10.0.0.1:8080",
        "http://127.0.0.1.example.net",
    ] {
        let exisone = ExisOneClient::new(
            ExisOneClientOptions::new(url).http(HttpOptions::new().allow_insecure_loopback()),
        )
        .unwrap_err();
        assert!(matches!(exisone, ProviderError::Config(_)), "{exisone:?}");
        assert!(exisone.to_string().contains("must use https"), "{exisone}");
        let ecosire = EcosireProvider::from_options(
            EcosireOptions::new(url)
                .license_secret(ECOSIRE_SECRET)
                .http(HttpOptions::new().allow_insecure_loopback()),
        )
        .unwrap_err();
        assert!(ecosire.to_string().contains("must use https"), "{ecosire}");
    }
}

// ---- loose replies ---------------------------------------------------------

/// Validates once with the next reply replaced by `body` (HTTP 200).
async fn validate_with_reply(
    service: Service,
    body: &str,
) -> Result<license_gate::provider::LicenseAnswer, ProviderError> {
    let emulated = Emulated::start(service).await;
    emulated
        .faults()
        .inject_next(1, Fault::Reply(200, body.to_owned()));
    emulated.provider().validate(&request(service)).await
}

/// Attack: ECOSIRE `{"valid": true}` with no license object.
#[tokio::test]
async fn ecosire_valid_without_a_license_object_grants_nothing() {
    for body in [
        r#"{"valid": true}"#,
        r#"{"valid": true, "license": null}"#,
        r#"{"data": {"valid": true}, "error": null}"#,
    ] {
        let outcome = validate_with_reply(Service::Ecosire, body).await;
        assert_no_grant(&outcome, body);
        assert!(
            matches!(outcome, Err(ProviderError::MalformedReply { .. })),
            "{body}: {outcome:?}"
        );
    }
}

/// Attack: ECOSIRE `valid: true` with a status word the protocol does not
/// have, or none.
#[tokio::test]
async fn ecosire_unknown_status_word_grants_nothing() {
    for status in [r#""lifetime""#, r#""ACTIVE-ish""#, "null"] {
        let body = format!(
            r#"{{"valid": true, "license": {{"key": "{ECOSIRE_KEY}", "status": {status}}}}}"#
        );
        let outcome = validate_with_reply(Service::Ecosire, &body).await;
        assert_no_grant(&outcome, &body);
        assert!(outcome.is_err(), "{body}: {outcome:?}");
    }
}

/// Attack: an active license, but for another key than the one sent.
#[tokio::test]
async fn ecosire_reply_about_another_key_is_refused() {
    let body =
        r#"{"valid": true, "license": {"key": "SHOP-ZZZZ-ZZZZ-ZZZZ-ZZZZ", "status": "active"}}"#;
    let outcome = validate_with_reply(Service::Ecosire, body).await;
    assert_no_grant(&outcome, body);
    let error = outcome.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Refused { code: Some(code), .. } if code == "key_mismatch"),
        "{error:?}"
    );
    assert!(
        !error.is_transient(),
        "a reply about another key is a refusal"
    );
    // The same key in lower case is the same key.
    let lower = format!(
        r#"{{"valid": true, "license": {{"key": "{}", "status": "active"}}}}"#,
        ECOSIRE_KEY.to_ascii_lowercase()
    );
    let answer = validate_with_reply(Service::Ecosire, &lower).await.unwrap();
    assert_eq!(answer.status, LicenseStatus::Licensed);
}

/// Attack: ExisOne `[true]`, which a lenient reader takes for `isValid: true`.
#[tokio::test]
async fn exisone_json_array_true_grants_nothing() {
    let outcome = validate_with_reply(Service::ExisOne, "[true]").await;
    assert_no_grant(&outcome, "[true]");
    assert!(
        matches!(&outcome, Err(e @ ProviderError::MalformedReply { .. }) if e.is_transient()),
        "{outcome:?}"
    );
}

/// Attack: ExisOne replies that are JSON but not an object, or an object
/// without `isValid`, or with `isValid` as a string.
#[tokio::test]
async fn exisone_non_object_json_grants_nothing() {
    for body in [
        "true",
        "1",
        r#""licensed""#,
        "null",
        r#"[{"isValid": true}]"#,
        r#"{"status": "licensed", "features": ["pro"]}"#,
        r#"{"isValid": "true", "features": ["pro"]}"#,
        r#"{"isValid": true, "status": "lifetime", "features": ["pro"]}"#,
    ] {
        let outcome = validate_with_reply(Service::ExisOne, body).await;
        assert_no_grant(&outcome, body);
        assert!(
            matches!(outcome, Err(ProviderError::MalformedReply { .. })),
            "{body}: {outcome:?}"
        );
    }
}

/// The gate, not only the provider: started against a loose reply, it
/// grants nothing.
#[tokio::test]
async fn a_gate_started_on_a_loose_reply_grants_nothing() {
    for (service, body) in [
        (Service::Ecosire, r#"{"valid": true}"#),
        (Service::ExisOne, "[true]"),
    ] {
        let emulated = Emulated::start(service).await;
        emulated
            .faults()
            .inject_next(1000, Fault::Reply(200, body.to_owned()));
        let gate = emulated
            .builder()
            .startup_timeout(Duration::from_millis(300))
            .start()
            .await
            .unwrap();
        assert!(
            !gate.status().grants_access(),
            "{service}: {}",
            gate.status()
        );
        for feature in FEATURES {
            assert!(!gate.has_feature(feature), "{service}: {feature}");
        }
        gate.shutdown().await;
    }
}

// ---- redaction ---------------------------------------------------------------

/// Attack (on privacy): the server echoes the key without dashes, with
/// spaces, percent-encoded or in lower case, in a refusal message and in an
/// error body. None of it reaches the status text, the error or the logs.
#[tokio::test(flavor = "current_thread")]
async fn echoed_keys_in_any_spelling_never_reach_status_or_logs() {
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    let spellings = |key: &str| {
        let bare: String = key.chars().filter(|c| *c != '-').collect();
        vec![
            bare.clone(),
            bare.to_ascii_lowercase(),
            key.replace('-', " "),
            key.replace('-', "%2D"),
            key.to_ascii_lowercase(),
            key.replace('-', "%2d").to_ascii_lowercase(),
        ]
    };
    for service in Service::ALL {
        for echoed in spellings(service.key()) {
            for (status, body) in match service {
                Service::Ecosire => vec![
                    (
                        200,
                        format!(r#"{{"valid": false, "message": "License {echoed} is on hold"}}"#),
                    ),
                    (
                        404,
                        format!(r#"{{"statusCode": 404, "message": "no license {echoed}"}}"#),
                    ),
                ],
                Service::ExisOne => vec![
                    (
                        200,
                        format!(
                            r#"{{"isValid": false, "status": "invalid {echoed}", "features": []}}"#
                        ),
                    ),
                    (
                        404,
                        format!(r#"{{"error": "not_found", "message": "no key {echoed}"}}"#),
                    ),
                ],
            } {
                let emulated = Emulated::start(service).await;
                emulated
                    .faults()
                    .inject_next(1000, Fault::Reply(status, body.clone()));
                let gate = emulated
                    .builder()
                    .startup_timeout(Duration::from_millis(300))
                    .start()
                    .await
                    .unwrap();
                let text = gate.status().to_string();
                assert!(!gate.status().grants_access(), "{service} {body}: {text}");
                assert!(
                    !leaks(&text, service.key()),
                    "{service} {body}: the status shows the key: {text}"
                );
                let error = gate.refresh().await;
                let error_text = format!("{error:?} {}", gate.status());
                assert!(
                    !leaks(&error_text, service.key()),
                    "{service} {body}: {error_text}"
                );
                gate.shutdown().await;
            }
        }
    }
    let logged = logs.text();
    assert!(!logged.is_empty(), "the gates logged their transitions");
    for service in Service::ALL {
        assert!(
            !leaks(&logged, service.key()),
            "a key reached the logs:\n{logged}"
        );
    }
}

// ---- dates -----------------------------------------------------------------

/// Attack: an ECOSIRE `expiresAt` of 300000000000000 (milliseconds: year
/// 11476). Nothing panics: the date saturates at 9999-12-31, the gate and
/// the statuses print.
#[tokio::test]
async fn a_far_future_expiry_does_not_panic() {
    let body = format!(
        r#"{{"valid": true, "license": {{"key": "{ECOSIRE_KEY}", "status": "active", "expiresAt": 300000000000000}}}}"#
    );
    let answer = validate_with_reply(Service::Ecosire, &body).await.unwrap();
    let expires = answer.expires_at.expect("an expiry");
    assert_eq!(
        license_gate_runtime::time::format_rfc3339(expires),
        "9999-12-31T23:59:59Z"
    );

    let emulated = Emulated::start(Service::Ecosire).await;
    emulated.faults().inject_next(1, Fault::Reply(200, body));
    let gate = emulated.builder().start().await.unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    let _ = format!("{} {:?}", gate.status(), gate.snapshot());
    gate.shutdown().await;

    // Instants the runtime never produces itself still display.
    let far = UNIX_EPOCH + Duration::from_millis(300_000_000_000_000);
    let grace = LicenseStatus::Grace { until: far }.to_string();
    assert!(grace.contains("past 9999-12-31"), "{grace}");
    let text = license_gate_runtime::time::format_rfc3339(
        UNIX_EPOCH + Duration::from_secs(u32::MAX as u64 * 1000),
    );
    assert!(!text.is_empty());
}

/// Every answer from a server carries the server's clock (its `Date`
/// header), for re-anchoring trusted time.
#[tokio::test]
async fn answers_carry_the_server_clock() {
    for service in Service::ALL {
        let emulated = Emulated::start(service).await;
        let answer = emulated
            .provider()
            .validate(&request(service))
            .await
            .unwrap();
        let at = answer.server_time.expect("the emulator sends `Date`");
        let now = SystemTime::now();
        let skew = now.duration_since(at).unwrap_or_else(|e| e.duration());
        assert!(skew < Duration::from_secs(5), "{service}: {skew:?}");
    }
}
