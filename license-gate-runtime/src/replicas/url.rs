//! Redis URLs in logs and errors: the password masked, wherever it appears.

/// The URL with its password (and a user name given alone, which Redis
/// reads as a password) replaced by `***`.
///
/// ```
/// use license_gate::replicas::masked_url;
///
/// assert_eq!(masked_url("redis://app:s3cret@10.0.0.5:6379/0"), "redis://app:***@10.0.0.5:6379/0");
/// assert_eq!(masked_url("redis://:s3cret@cache/"), "redis://:***@cache/");
/// assert_eq!(masked_url("redis://127.0.0.1:6379/"), "redis://127.0.0.1:6379/");
/// ```
pub fn masked_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL we can read: show nothing of it.
        return "<a Redis URL that does not parse>".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        None => format!("{scheme}://{authority}{tail}"),
        Some((credentials, host)) => {
            let user = match credentials.split_once(':') {
                Some((user, _password)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{scheme}://{user}@{host}{tail}")
        }
    }
}

/// `text` with the URL's password (and the URL itself) removed, for a
/// client library's error message that might quote them.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let mut text = text.replace(url, &masked_url(url));
    if let Some((_, rest)) = url.split_once("://") {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some((credentials, _)) = authority.rsplit_once('@') {
            let password = credentials.split_once(':').map_or(credentials, |(_, p)| p);
            if !password.is_empty() {
                text = text.replace(password, "***");
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_masking() {
        let cases = [
            ("redis://user:hunter2@h:1/0", "redis://user:***@h:1/0"),
            ("rediss://:hunter2@h/", "rediss://:***@h/"),
            ("redis://hunter2@h", "redis://***@h"),
            ("redis://h:6379", "redis://h:6379"),
            (
                "redis://u:p%40ss@h/2?protocol=resp3",
                "redis://u:***@h/2?protocol=resp3",
            ),
            ("no scheme hunter2", "<a Redis URL that does not parse>"),
        ];
        for (url, masked) in cases {
            assert_eq!(masked_url(url), masked, "{url}");
        }
        let scrubbed = scrub(
            "failed: redis://u:hunter2@h/ said hunter2",
            "redis://u:hunter2@h/",
        );
        assert!(!scrubbed.contains("hunter2"), "{scrubbed}");
    }
}
