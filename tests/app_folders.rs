//! The per-application cache folder, on the platform's real folders (pointed
//! at a temporary home): two vendors' products of the same name never share a
//! cache, and the time anchor lives apart from the cache. Its own test binary,
//! because it sets environment variables.

use license_gate_tests::support;

use license_gate::LicenseGate;
use license_gate::providers::mock::MockProvider;

#[test]
fn each_application_has_its_own_cache_folder() {
    // Two vendors, one product name: their caches never meet.
    let home = tempfile::TempDir::new().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The platform folders follow XDG on Linux; point them at a temporary home.
    if !cfg!(target_os = "linux") {
        return;
    }
    let cache = home.path().join("cache");
    let data = home.path().join("data");
    // Safety: this test binary runs this one test that reads the variables,
    // and sets them before any thread of its own starts.
    unsafe {
        std::env::set_var("XDG_CACHE_HOME", &cache);
        std::env::set_var("XDG_DATA_HOME", &data);
    }
    runtime.block_on(async {
        for (vendor, app) in [("Northwind", "Atlas"), ("Contoso", "Atlas Pro")] {
            let (provider, _) = MockProvider::licensed(["pro"]);
            let gate = LicenseGate::builder()
                .application(vendor, app)
                .product("Atlas Studio")
                .provider(provider)
                .install_global(false)
                .vendor_secret(support::vendor_secret())
                .hardware_id("HW-APP-1")
                .start()
                .await
                .unwrap();
            gate.shutdown().await;
        }
    });
    for app in ["atlas", "atlas-pro"] {
        let folder = cache.join(app).join("license");
        let files: Vec<_> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .collect();
        assert_eq!(files.len(), 1, "one cache file in {}", folder.display());
        assert!(
            data.join(app).join("license").join("time.anchor").exists(),
            "the time anchor of {app} lives in its data folder, apart from the cache"
        );
    }
}
