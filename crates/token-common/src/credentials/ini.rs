//! A small INI reader for the providers' profile files.

use std::path::Path;

use crate::error::{Error, Result};
use crate::secret::SecretString;

/// A parsed INI file: sections of `key = value` lines.
///
/// Keys are matched case-insensitively (as Python's `configparser` does); `#` and `;` start
/// comment lines. Values are kept as secrets, since profile files hold secret keys.
#[derive(Debug, Default)]
pub struct Ini {
    sections: Vec<IniSection>,
}

/// One `[section]` of an INI file.
#[derive(Debug)]
pub struct IniSection {
    name: String,
    entries: Vec<(String, SecretString, usize)>,
}

impl IniSection {
    /// The section's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A key's value (keys compare case-insensitively).
    pub fn get(&self, key: &str) -> Option<&SecretString> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v, _)| v)
    }

    /// The line a key was read from.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, _, l)| *l)
    }
}

impl Ini {
    /// Parses INI text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut ini = Ini::default();
        for (idx, raw) in text.lines().enumerate() {
            let line_no = idx + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or_else(|| {
                    Error::credentials(
                        format!("{origin} line {line_no}"),
                        "a section header must end with `]`",
                    )
                })?;
                let name = name.trim();
                if name.is_empty() {
                    return Err(Error::credentials(
                        format!("{origin} line {line_no}"),
                        "empty section name",
                    ));
                }
                ini.sections.push(IniSection {
                    name: name.to_owned(),
                    entries: Vec::new(),
                });
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                // Never quote the line: it may be a secret pasted without its key.
                return Err(Error::credentials(
                    format!("{origin} line {line_no}"),
                    "expected `key = value`, `[section]` or a comment",
                ));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(Error::credentials(
                    format!("{origin} line {line_no}"),
                    "a line starts with `=`: the key is missing",
                ));
            }
            let Some(section) = ini.sections.last_mut() else {
                return Err(Error::credentials(
                    format!("{origin} line {line_no}"),
                    // The key is not quoted either: it may be a pasted secret.
                    "a `key = value` line appears before any `[section]` header",
                ));
            };
            section
                .entries
                .push((key.to_owned(), SecretString::new(value.trim()), line_no));
        }
        Ok(ini)
    }

    /// Reads and parses a file: `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::credentials(
                path.display().to_string(),
                format!("cannot read the file: {e}"),
            )),
        }
    }

    /// A section by name (exact match; the last one when repeated).
    pub fn section(&self, name: &str) -> Option<&IniSection> {
        self.sections.iter().rev().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_comments_and_case_insensitive_keys() {
        let ini = Ini::parse(
            "# comment\n[DEFAULT]\nNcloud_Access_Key_Id = AK1 \n; other\n[p2]\nk=v=w\n",
            "f",
        )
        .unwrap();
        let d = ini.section("DEFAULT").unwrap();
        assert_eq!(
            d.get("ncloud_access_key_id").unwrap().expose_secret(),
            "AK1"
        );
        assert_eq!(d.line_of("ncloud_access_key_id"), Some(3));
        assert_eq!(
            ini.section("p2").unwrap().get("k").unwrap().expose_secret(),
            "v=w"
        );
    }

    #[test]
    fn syntax_error_names_file_and_line_without_the_text() {
        let err =
            Ini::parse("[a]\nk = v\nTOPSECRETVALUE\n", "/home/u/.ncloud/configure").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/home/u/.ncloud/configure line 3"), "{msg}");
        assert!(!msg.contains("TOPSECRETVALUE"), "{msg}");
        let err = Ini::parse("[a\n", "f").unwrap_err();
        assert!(err.to_string().contains("f line 1"));
        let err = Ini::parse("k = v\n", "f").unwrap_err();
        assert!(err.to_string().contains("before any `[section]`"));
    }
}
