//! `license-gate offline verify|decode`: ExisOne offline activation codes.

use std::time::SystemTime;

use license_gate::exisone::offline::{
    OfflinePayload, decode_base32, read_offline_code, validate_offline_code,
};
use license_gate::exisone::{OfflineOutcome, OfflinePublicKey};
use license_gate::hardware_id;
use serde_json::{Value, json};

use crate::cli::{OfflineDecodeArgs, OfflineVerifyArgs};
use crate::error::{CliError, CliResult};
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

/// Verifies a code: exit 0 only when it is valid for the hardware ID.
pub fn verify(args: &OfflineVerifyArgs, json: bool) -> CliResult {
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
        _ => hardware_id::hardware_id(),
    };
    let result = validate_offline_code(&code, &hardware_id, Some(&key), SystemTime::now());
    let outcome = result.outcome();
    let reason = result.error_message.clone();
    let payload = read_offline_code(&code, &key).ok();

    let headline = match outcome {
        OfflineOutcome::Valid => {
            "valid: the code is signed by this key, bound to this hardware ID and not expired"
                .to_owned()
        }
        _ => format!(
            "{}: {}",
            outcome_word(outcome).replace('_', " "),
            reason.as_deref().unwrap_or("the code is not valid")
        ),
    };
    let mut report = Report::new()
        .headline(headline)
        .field("outcome", "outcome", outcome_word(outcome))
        .field("valid", "valid", result.is_valid)
        .field("reason", "reason", reason.clone())
        .field(
            "checked_hardware_id",
            "checked against",
            hardware_id.as_str(),
        )
        .field("signature_verified", "signature", payload.is_some());
    if let Some(payload) = &payload {
        report = payload_fields(report, payload);
    }
    report.print(json);
    match outcome {
        OfflineOutcome::Valid => Ok(()),
        _ => {
            Err(CliError::not_valid(reason.unwrap_or_else(|| {
                "the offline code is not valid".to_owned()
            })))
        }
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
pub fn decode(args: &OfflineDecodeArgs, json: bool) -> CliResult {
    let code = arg_or_stdin(&args.code, "offline code")?;
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
        let out = json!({
            "verified": false,
            "payload": payload,
            "payload_bytes": length,
            "signature_bytes": signature.len(),
        });
        print_out(&serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print_out(
            "UNVERIFIED: the signature was NOT checked, so anyone could have written this content.\nUse `license-gate offline verify --public-key FILE CODE` before trusting it.",
        );
        print_out(&format!(
            "  content: {length} bytes, signature: {} bytes",
            signature.len()
        ));
        print_out("payload (unverified):");
        print_out(&serde_json::to_string_pretty(&payload).unwrap_or_default());
    }
    Ok(())
}
