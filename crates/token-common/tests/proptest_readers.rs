//! No panic from any input: the JWT claim readers and the INI reader take arbitrary text,
//! and JWTs whose claims are arbitrary valid-looking JSON (huge, negative and fractional
//! times included). Each must answer a value or an error, never panic — and the times it
//! derives must be computable without overflow.

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Value};
use token_common::credentials::Ini;
use token_common::jwt::{read_claims, read_times};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Claim values that stress time arithmetic.
fn claim() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(0), Just(-1)].prop_map(Value::from),
        Just(json!(1.0e300)),
        Just(json!(-1.0e300)),
        ".{0,8}".prop_map(Value::from),
        Just(Value::Null),
        Just(json!([1, 2])),
        Just(json!({"exp": 1})),
        any::<bool>().prop_map(Value::from),
    ]
}

/// Exercises everything a caller derives from the readers' answers.
fn use_answers(token: &str) {
    if let Ok(c) = read_claims(token) {
        let _ = (c.expires_at(), c.issued_at(), c.get_str("sub"));
    }
    if let Ok(t) = read_times(token) {
        let _ = (t.expires_at(), t.issued_at(), t.lifetime());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn jwt_readers_never_panic_on_any_text(text in ".{0,200}") {
        use_answers(&text);
    }

    #[test]
    fn jwt_readers_never_panic_on_any_payload_bytes(payload in prop::collection::vec(any::<u8>(), 0..200)) {
        use_answers(&format!("e30.{}.sig", b64(&payload)));
    }

    #[test]
    fn jwt_readers_never_panic_on_extreme_claims(exp in claim(), iat in claim(), extra in claim()) {
        let payload = json!({"exp": exp, "iat": iat, "sub": extra});
        use_answers(&format!("e30.{}.sig", b64(payload.to_string().as_bytes())));
        // And as the only claims, in either order, as an array, or nested.
        for p in [json!({"iat": iat, "exp": exp}), json!([exp, iat]), json!({"exp": {"exp": exp}})] {
            use_answers(&format!("e30.{}.", b64(p.to_string().as_bytes())));
        }
    }

    #[test]
    fn ini_reader_never_panics(text in "(\\[[^\\]\n]{0,8}\\]?\n|[a-z_ =#;\\[\\]\"'\t\u{feff}é]{0,20}\n|.{0,20}\n){0,12}") {
        if let Ok(ini) = Ini::parse(&text, "proptest") {
            for name in ["default", "DEFAULT", "basic", "global", ""] {
                if let Some(section) = ini.section(name) {
                    let _ = (section.name(), section.get("ak"), section.line_of("sk"));
                }
            }
        }
    }

    #[test]
    fn ini_reader_never_panics_on_any_text(text in "\\PC{0,300}") {
        let _ = Ini::parse(&text, "proptest");
    }
}

#[test]
fn lifetime_of_extreme_claims_is_computed_without_overflow() {
    let token = |exp: i64, iat: i64| {
        format!(
            "e30.{}.",
            b64(json!({"exp": exp, "iat": iat}).to_string().as_bytes())
        )
    };
    let t = read_times(&token(i64::MAX, i64::MIN)).unwrap();
    assert_eq!(
        t.lifetime(),
        Some(std::time::Duration::from_secs(u64::MAX)),
        "the span of the whole i64 range"
    );
    let t = read_times(&token(10, 20)).unwrap();
    assert_eq!(t.lifetime(), None, "exp before iat has no lifetime");
}
