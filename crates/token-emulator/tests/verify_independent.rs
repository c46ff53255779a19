//! The emulator verifies signatures with its own code: nothing under src/ may use the
//! clients' signing or encoding (token_common::signing, token_common::encoding), or a shared
//! bug would pass every test. `.ci/run` runs the same check with grep.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The forbidden uses found in `source`: direct paths, and grouped imports such as
/// `use token_common::{clock, signing::huawei};`.
fn forbidden_uses(source: &str) -> Vec<String> {
    let flat: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let mut found = Vec::new();
    for module in ["signing", "encoding"] {
        if flat.contains(&format!("token_common::{module}")) {
            found.push(format!("token_common::{module}"));
        }
    }
    let mut rest = flat.as_str();
    while let Some(i) = rest.find("token_common::{") {
        let group = &rest[i + "token_common::{".len()..];
        let end = group.find("};").unwrap_or(group.len());
        for item in group[..end].split([',', '{', '}']) {
            let head = item.split("::").next().unwrap_or("");
            if head == "signing" || head == "encoding" {
                found.push(format!("token_common::{{{item}}}"));
            }
        }
        rest = group;
    }
    found
}

#[test]
fn the_checker_finds_every_form_of_import() {
    assert!(forbidden_uses("use token_common::clock::unix_millis;").is_empty());
    assert!(!forbidden_uses("use token_common::signing::ncp::string_to_sign;").is_empty());
    assert!(!forbidden_uses("use token_common :: signing;").is_empty());
    assert!(!forbidden_uses("use token_common::{clock, signing::huawei};").is_empty());
    assert!(!forbidden_uses("use token_common::{\n  encoding,\n  SecretString };").is_empty());
    assert!(!forbidden_uses("let x = token_common::encoding::encode_unreserved(s);").is_empty());
}

#[test]
fn emulator_sources_never_use_the_clients_signing_or_encoding() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 5, "found the sources: {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            forbidden_uses(&text)
                .into_iter()
                .map(move |u| format!("{}: {u}", f.display()))
        })
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}
