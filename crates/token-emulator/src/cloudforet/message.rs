//! Reading requests the way protobuf's JSON parser (`json_format.Parse`) does, as
//! console-api-v2 reads them: unknown fields and enum names are refused with 500
//! `ERROR_UNKNOWN`, unknown enum numbers with 400, `null` and default values are absent.

use serde_json::{Map, Value};

use super::errors::{invalid, not_json, unknown_error};
use super::{DEFAULT_TIMEOUT, MAX_TIMEOUT};
use crate::server::{Incoming, Reply};
/// Reads a request as protobuf's JSON parser would: an object whose keys are the message's
/// fields (snake_case, or their lowerCamelCase JSON names); `null` values are absent.
pub(super) fn parse_message(
    inc: &Incoming,
    message: &str,
    fields: &[&str],
) -> Result<Map<String, Value>, Reply> {
    if inc.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let Ok(value) = serde_json::from_slice::<Value>(&inc.body) else {
        return Err(not_json());
    };
    let Value::Object(raw) = value else {
        return Err(unknown_error(&format!(
            "Failed to parse {message}: the body is not a JSON object."
        )));
    };
    let mut out = Map::new();
    for (key, value) in raw {
        let name = fields
            .iter()
            .find(|f| **f == key || camel_case(f) == key)
            .ok_or_else(|| {
                unknown_error(&format!(
                    "Message type \"spaceone.api.identity.v2.{message}\" has no field named \"{key}\"."
                ))
            })?;
        if !value.is_null() {
            out.insert((*name).to_owned(), value);
        }
    }
    Ok(out)
}

pub(super) fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn type_error(key: &str, expected: &str) -> Reply {
    unknown_error(&format!(
        "Failed to parse {key} field: {expected} expected."
    ))
}

/// A string field; the empty string is the default, so absent.
pub(super) fn string_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Reply> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(type_error(key, "a string")),
    }
}

pub(super) fn struct_field(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>, Reply> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(type_error(key, "an object")),
    }
}

/// An enum by name (unknown → 500) or number (unknown → 400); 0 is the default, so absent.
pub(super) fn enum_field(
    body: &Map<String, Value>,
    key: &str,
    values: &[(&str, i64)],
) -> Result<Option<i64>, Reply> {
    let number = match body.get(key) {
        None => return Ok(None),
        Some(Value::String(name)) => values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                unknown_error(&format!("Invalid enum value {name} for enum type {key}."))
            })?,
        Some(Value::Number(n)) => {
            let v = n
                .as_i64()
                .ok_or_else(|| type_error(key, "an enum name or number"))?;
            if !values.iter().any(|(_, x)| *x == v) {
                return Err(invalid(key, &format!("unknown enum number {v}")));
            }
            v
        }
        Some(_) => return Err(type_error(key, "an enum name or number")),
    };
    Ok((number != 0).then_some(number))
}

/// `timeout`: int32 seconds; absent or 0 means 1800, more than 604800 is capped at 604800
/// (the server answers a 604800 s token, it does not refuse). A negative value is refused
/// (the emulator's choice: the real answer is not documented).
pub(super) fn timeout_field(body: &Map<String, Value>) -> Result<i64, Reply> {
    let value = match body.get("timeout") {
        None => return Ok(DEFAULT_TIMEOUT),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    let value = value
        .filter(|v| i32::try_from(*v).is_ok())
        .ok_or_else(|| type_error("timeout", "an int32"))?;
    match value {
        0 => Ok(DEFAULT_TIMEOUT),
        t if t < 0 => Err(invalid("timeout", "must not be negative")),
        t => Ok(t.min(MAX_TIMEOUT)),
    }
}

pub(super) fn permissions_field(body: &Map<String, Value>) -> Result<Vec<String>, Reply> {
    match body.get("permissions") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| type_error("permissions", "strings"))
            })
            .collect(),
        Some(_) => Err(type_error("permissions", "a list of strings")),
    }
}
