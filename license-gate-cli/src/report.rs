//! Printing results: aligned `label: value` lines for people, one JSON
//! object with `--json` for programs.

use std::io::Write;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// A result to print: an optional headline and named fields.
#[derive(Debug, Default)]
pub struct Report {
    headline: Option<String>,
    fields: Vec<Field>,
}

#[derive(Debug)]
struct Field {
    key: &'static str,
    label: &'static str,
    value: Value,
    /// Whether the text output shows it (JSON always does).
    in_text: bool,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// A line printed above the fields (text output only).
    pub fn headline(mut self, text: impl Into<String>) -> Self {
        self.headline = Some(text.into());
        self
    }

    /// Adds a field: `key` names it in JSON, `label` in text.
    pub fn field(
        mut self,
        key: &'static str,
        label: &'static str,
        value: impl Into<Value>,
    ) -> Self {
        self.fields.push(Field {
            key,
            label,
            value: value.into(),
            in_text: true,
        });
        self
    }

    /// Adds a field only the JSON output shows (text says it elsewhere,
    /// such as on the error line).
    pub fn json_field(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.fields.push(Field {
            key,
            label: key,
            value: value.into(),
            in_text: false,
        });
        self
    }

    /// The JSON object of the fields.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for field in &self.fields {
            map.insert(field.key.to_owned(), field.value.clone());
        }
        Value::Object(map)
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let shown: Vec<&Field> = self.fields.iter().filter(|f| f.in_text).collect();
        let width = shown
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        if let Some(headline) = &self.headline {
            out.push_str(headline);
            out.push('\n');
        }
        for field in shown {
            out.push_str(&format!(
                "  {:<width$}  {}\n",
                format!("{}:", field.label),
                text_of(&field.value),
                width = width + 1
            ));
        }
        out
    }

    /// Prints the report on stdout, as JSON when `json`.
    pub fn print(&self, json: bool) {
        if json {
            let text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
            print_out(&text);
        } else {
            print_out(self.to_text().trim_end_matches('\n'));
        }
    }
}

/// How a JSON value reads in text output.
fn text_of(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        Value::Object(_) => value.to_string(),
    }
}

/// An instant as RFC 3339 (UTC, at most seven fractional digits so every
/// parser reads it), or null.
pub fn time_value(at: Option<SystemTime>) -> Value {
    at.map(|t| Value::from(license_gate_testkit::instant::format_instant(t)))
        .unwrap_or(Value::Null)
}

/// An optional text, or null.
pub fn opt(text: Option<&str>) -> Value {
    text.map(Value::from).unwrap_or(Value::Null)
}

/// Writes a line on stdout; a closed pipe is not an error worth a panic.
pub fn print_out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// A license key as output shows it: masked.
pub fn masked(key: &str) -> String {
    license_gate::LicenseKey::new(key).masked()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_aligns_labels_and_reads_values() {
        let report = Report::new()
            .headline("head")
            .field("valid", "valid", true)
            .field("features", "features", vec!["a", "b"])
            .field("none", "nothing here", Value::Null);
        assert_eq!(
            report.to_text(),
            "head\n  valid:         yes\n  features:      a, b\n  nothing here:  -\n"
        );
        assert_eq!(report.to_json()["features"][1], "b");
    }

    #[test]
    fn keys_are_masked() {
        assert_eq!(masked("ABCD-EFGH-JKMN-PQRS"), "****-****-****-PQRS");
    }
}
