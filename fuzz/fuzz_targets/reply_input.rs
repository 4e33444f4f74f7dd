//! The input format the two reply targets share, simple enough to write
//! seeds by hand: byte 0 picks the call, byte 1 the HTTP status, byte 2 the
//! number of header lines (`name: value`) that follow; the rest is the body.

use license_gate_runtime::fuzzing::http_reply;
use license_gate_runtime::transport::HttpReply;

/// Statuses the clients treat differently; other selectors give any status.
const STATUSES: [u16; 16] = [
    200, 201, 204, 400, 401, 403, 404, 409, 422, 426, 429, 500, 503, 302, 299, 600,
];

/// `(call selector, reply)`, or `None` for an input too short to hold both.
pub fn split(data: &[u8]) -> Option<(u8, HttpReply)> {
    let [call, status, header_lines, rest @ ..] = data else {
        return None;
    };
    let status = STATUSES
        .get(usize::from(*status))
        .copied()
        .unwrap_or(u16::from(*status) * 3);
    let mut headers = Vec::new();
    let mut body = rest;
    for _ in 0..(header_lines % 4) {
        let (line, after) = match body.iter().position(|b| *b == b'\n') {
            Some(end) => (&body[..end], &body[end + 1..]),
            None => (body, &[][..]),
        };
        body = after;
        if let Some(colon) = line.iter().position(|b| *b == b':') {
            let name = String::from_utf8_lossy(&line[..colon])
                .trim()
                .to_ascii_lowercase();
            let value = line[colon + 1..].trim_ascii().to_vec();
            headers.push((name, value));
        }
    }
    Some((*call, http_reply(status, &headers, body)))
}
