//! `license-gate offline verify|decode|mint`: ExisOne offline activation codes.

use std::time::{Duration, SystemTime};

use license_gate::providers::exisone::__private::decode_base32;
use license_gate::providers::exisone::{
    OFFLINE_CODE_MIN_LENGTH, OfflineOutcome, OfflinePayload, OfflinePublicKey, read_offline_code,
    validate_offline_code,
};
use license_gate_testkit::exisone::{MintKeyError, OfflineCodeMinter, OfflineCodeSpec};
use serde_json::Value;

use crate::cli::{OfflineDecodeArgs, OfflineMintArgs, OfflineVerifyArgs};
use crate::error::{CliError, CliResult, Facts};
use crate::input::{arg_or_stdin, read_file};
use crate::report::{Report, print_out, time_value};

/// The outcome's name in output.
fn outcome_word(outcome: OfflineOutcome) -> &'static str {
    match outcome {
        OfflineOutcome::Valid => "valid",
        OfflineOutcome::Expired => "expired",
        OfflineOutcome::HardwareMismatch => "hardware_mismatch",
        _ => "invalid",
    }
}

/// Why a text that is far too short is not an offline code, or `None` when
/// it is long enough to be one (then the decoder's own reason is better).
fn not_a_code(code: &str) -> Option<String> {
    let length = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .count();
    if length == 0 || length >= OFFLINE_CODE_MIN_LENGTH {
        return None;
    }
    Some(format!(
        "not an offline code: it has {length} characters and offline codes have {OFFLINE_CODE_MIN_LENGTH} or more (an online key such as XXXX-XXXX-XXXX-XXXX is checked with `license-gate exisone validate`); paste the whole code the vendor sent"
    ))
}

/// Verifies a code: success only when it is valid for the hardware ID.
pub fn verify(args: &OfflineVerifyArgs) -> CliResult<Report> {
    let pem = read_file(&args.public_key, "public key")?;
    let key = OfflinePublicKey::from_pem(&pem).map_err(|e| {
        CliError::usage(format!(
            "the public key file `{}` cannot be used: {e}",
            args.public_key.display()
        ))
    })?;
    // An empty code is an invalid code (reported as such), not a usage error.
    let code = if args.code == "-" {
        arg_or_stdin("-", "offline code").unwrap_or_default()
    } else {
        args.code.clone()
    };
    let hardware_id = match args.hardware_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => license_gate::hardware_id(),
    };
    let result = validate_offline_code(&code, &hardware_id, Some(&key), SystemTime::now());
    let outcome = result.outcome();
    let reason = match outcome {
        OfflineOutcome::Valid => None,
        _ => not_a_code(&code).or_else(|| result.error_message.clone()),
    };
    let payload = read_offline_code(&code, &key).ok();

    // The reason is said once: on stderr (and in JSON), not in the headline.
    let headline = match outcome {
        OfflineOutcome::Valid => {
            "valid: the code is signed by this key, bound to this hardware ID and not expired"
                .to_owned()
        }
        other => outcome_word(other).replace('_', " "),
    };
    let mut report = Report::new()
        .headline(headline)
        .field("outcome", "outcome", outcome_word(outcome))
        .field("valid", "valid", result.is_valid)
        .json_field("reason", reason.clone())
        .field(
            "checked_hardware_id",
            "checked against",
            hardware_id.as_str(),
        )
        .field(
            "signature_verified",
            "signature verified",
            payload.is_some(),
        );
    if let Some(payload) = &payload {
        report = payload_fields(report, payload);
    }
    match outcome {
        OfflineOutcome::Valid => Ok(report),
        other => Err(CliError::not_valid(
            reason.unwrap_or_else(|| "the offline code is not valid".to_owned()),
        )
        .with_facts(Facts {
            code: Some(outcome_word(other).to_owned()),
            ..Facts::default()
        })
        .with_report(report)),
    }
}

fn payload_fields(report: Report, payload: &OfflinePayload) -> Report {
    report
        .field("product_name", "product", payload.product_name.as_str())
        .field("product_id", "product id", payload.product_id)
        .field("features", "features", payload.features.clone())
        .field("expires", "expires", time_value(payload.expiration_date))
        .field(
            "expiration_as_written",
            "expiry as written",
            payload.expiration_text.as_str(),
        )
        .field(
            "bound_hardware_id",
            "bound to",
            payload.hardware_id.as_str(),
        )
        .field("email", "licensee", payload.email.as_str())
        .field("version", "version", payload.version.as_str())
        .field("tenant_id", "tenant id", payload.tenant_id)
}

/// Shows a code's content without checking its signature.
pub fn decode(args: &OfflineDecodeArgs, json: bool) -> CliResult<Option<Report>> {
    let code = arg_or_stdin(&args.code, "offline code")?;
    if let Some(reason) = not_a_code(&code) {
        return Err(CliError::not_valid(reason));
    }
    let bytes = decode_base32(&code).map_err(|e| CliError::not_valid(e.to_string()))?;
    if bytes.len() < 2 {
        return Err(CliError::not_valid(
            "the offline code is too short to hold any content: copy the whole code again",
        ));
    }
    let length = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    let rest = &bytes[2..];
    if rest.len() < length {
        return Err(CliError::not_valid(format!(
            "the offline code is incomplete: it announces {length} bytes of content but holds {}; copy the whole code again",
            rest.len()
        )));
    }
    let (content, signature) = rest.split_at(length);
    let payload: Value = serde_json::from_slice(content)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(content).into_owned()));
    if json {
        return Ok(Some(
            Report::new()
                .field("verified", "verified", false)
                .field("payload", "payload", payload)
                .field("payload_bytes", "content bytes", length)
                .field("signature_bytes", "signature bytes", signature.len()),
        ));
    }
    print_out(
        "UNVERIFIED: the signature was NOT checked, so anyone could have written this content.\nUse `license-gate offline verify --public-key FILE CODE` before trusting it.",
    );
    print_out(&format!(
        "  content: {length} bytes, signature: {} bytes",
        signature.len()
    ));
    print_out("payload (unverified):");
    print_out(&serde_json::to_string_pretty(&payload).unwrap_or_default());
    Ok(None)
}

/// Signs an offline code with the vendor's private key.
pub fn mint(args: &OfflineMintArgs) -> CliResult<Report> {
    let pem = read_file(&args.private_key, "private key")?;
    let minter = OfflineCodeMinter::from_pem(&pem).map_err(|e| {
        let fix = match e {
            MintKeyError::PublicKey => " (verify codes with it: `license-gate offline verify`)",
            _ => "",
        };
        CliError::usage(format!(
            "the private key file `{}` cannot sign codes: {e}{fix}",
            args.private_key.display()
        ))
    })?;
    let hardware_id = args.hardware_id.trim();
    if hardware_id.is_empty() {
        return Err(CliError::usage(
            "the hardware ID is empty: pass the ID `license-gate hardware-id` prints on the customer's machine",
        ));
    }
    let product = args.product.trim();
    if product.is_empty() {
        return Err(CliError::usage(
            "the product name is empty: pass it as the application configures it, with --product",
        ));
    }
    let (expires_at, written) = parse_expiry(&args.expires)?;
    let features: Vec<String> = args
        .features
        .iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    let mut spec = OfflineCodeSpec::new(product, hardware_id)
        .features(features.clone())
        .expiration_date(written.clone())
        .email(args.email.trim());
    spec.version = args.version.trim().to_owned();
    spec.product_id = args.product_id;
    spec.tenant_id = args.tenant_id;
    let code = minter.mint(&spec);
    let expired = expires_at <= SystemTime::now();
    let payload: Value = serde_json::from_str(&spec.to_json()).unwrap_or(Value::Null);
    Ok(Report::new()
        .headline(format!(
            "minted: an offline code for {product} on hardware ID {hardware_id}{}",
            if expired {
                " (ALREADY EXPIRED: its expiry is in the past)"
            } else {
                ""
            }
        ))
        .field("code", "code", code.as_str())
        .field("product_name", "product", product)
        .field("hardware_id", "hardware id", hardware_id)
        .field("features", "features", features)
        .field("expires", "expires", written.as_str())
        .field("expired", "already expired", expired)
        .field(
            "characters",
            "length",
            code.chars().filter(|c| *c != '-').count(),
        )
        .json_field("payload", payload))
}

/// An expiry flag: a date (the end of that day, UTC), an RFC 3339 instant,
/// or a time from now (`30d`, `12h`, `90m`, `45s`; negative for the past).
/// Returns the instant and the text written into the code.
pub fn parse_expiry(text: &str) -> CliResult<(SystemTime, String)> {
    let text = text.trim();
    let bad = || {
        CliError::usage(format!(
            "the expiry `{text}` cannot be read: give a date (2027-12-31), an RFC 3339 instant (2027-12-31T12:00:00Z) or a time from now (30d, 12h)"
        ))
    };
    if let Some(offset) = relative(text) {
        let at = match offset {
            Offset::Ahead(d) => SystemTime::now().checked_add(d),
            Offset::Behind(d) => SystemTime::now().checked_sub(d),
        }
        .ok_or_else(bad)?;
        return Ok((at, license_gate_testkit::instant::format_instant(at)));
    }
    let is_date = text.len() == 10 && !text.contains('T');
    if is_date {
        let written = format!("{text}T23:59:59Z");
        let at = license_gate_runtime::time::parse_iso8601(&written).ok_or_else(bad)?;
        return Ok((at, written));
    }
    let at = license_gate_runtime::time::parse_iso8601(text).ok_or_else(bad)?;
    Ok((at, text.to_owned()))
}

/// A signed offset from now.
enum Offset {
    Ahead(Duration),
    Behind(Duration),
}

/// `30d`, `-1d`, `12h`, `90m`, `45s`.
fn relative(text: &str) -> Option<Offset> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let unit = rest.chars().last()?;
    let seconds: u64 = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return None,
    };
    let number: u64 = rest[..rest.len() - 1].parse().ok()?;
    let duration = Duration::from_secs(number.checked_mul(seconds)?);
    Some(if negative {
        Offset::Behind(duration)
    } else {
        Offset::Ahead(duration)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_read_dates_instants_and_offsets() {
        let (_, written) = parse_expiry("2027-12-31").unwrap();
        assert_eq!(written, "2027-12-31T23:59:59Z");
        let (_, written) = parse_expiry("2027-12-31T12:00:00.1234567Z").unwrap();
        assert_eq!(written, "2027-12-31T12:00:00.1234567Z");
        let (at, _) = parse_expiry("30d").unwrap();
        assert!(at > SystemTime::now() + Duration::from_secs(29 * 86_400));
        let (at, _) = parse_expiry("-1d").unwrap();
        assert!(at < SystemTime::now());
        for bad in ["tomorrow", "", "12x", "d", "2027-13-45"] {
            assert_eq!(
                parse_expiry(bad).unwrap_err().kind,
                crate::error::Kind::Usage
            );
        }
    }

    #[test]
    fn short_texts_are_not_codes() {
        assert!(
            not_a_code("NOTACODE")
                .unwrap()
                .starts_with("not an offline code")
        );
        assert!(not_a_code(&"A".repeat(60)).is_none());
        assert!(not_a_code("").is_none());
    }
}
