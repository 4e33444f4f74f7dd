//! The settings of a gate, as the builder collects them, and its products.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Application, CacheLocation};
use crate::clock_floor::ClockFloor;
use crate::provider::Provider;
use crate::retry::RetryPolicy;
use crate::secret::LicenseKey;
use crate::time::Clock;
use crate::vendor_secret::VendorSecret;

/// The settings of a gate's heartbeat.
#[derive(Debug, Clone)]
pub(crate) struct GateConfig {
    pub(crate) heartbeat_interval: Duration,
    pub(crate) jitter: f64,
    pub(crate) retry: RetryPolicy,
    pub(crate) grace_period: Duration,
    pub(crate) startup_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    /// The clock-tamper floor set with `.clock_floor(..)`; `None`: the
    /// system's when the clock is the system clock, none otherwise.
    pub(crate) clock_floor: Option<ClockFloor>,
    /// The clock is the system clock (no `.clock(..)`).
    pub(crate) system_clock: bool,
    pub(crate) cache: CacheLocation,
    /// A second folder for the time anchor (default: see [`CacheLocation::anchor_dir`]).
    pub(crate) anchor_dir: Option<std::path::PathBuf>,
    pub(crate) application: Option<Application>,
    pub(crate) hardware_id: Option<String>,
    pub(crate) vendor_secret: Option<VendorSecret>,
    pub(crate) activate_on_first_use: bool,
    /// The application's version, sent by the providers whose service takes one.
    pub(crate) app_version: Option<String>,
    pub(crate) known_features: Option<BTreeSet<String>>,
}

impl GateConfig {
    /// The floor in force: the one set, else the system's for the system
    /// clock (files on disk say nothing about another clock).
    pub(crate) fn clock_floor(&self) -> ClockFloor {
        match &self.clock_floor {
            Some(floor) => floor.clone(),
            None if self.system_clock => ClockFloor::system(),
            None => ClockFloor::none(),
        }
    }
}

/// One configured product.
#[derive(Debug)]
pub(crate) struct ProductSlot {
    pub(crate) name: String,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) license_key: Option<LicenseKey>,
}
