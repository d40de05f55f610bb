//! Generates the `i18n` module from `locales/<locale>/<namespace>.json`.
//!
//! Every key must exist in every locale: a key missing from one, or one only a translation
//! has, fails the build, so a page never shows an untranslated key or quietly falls back to
//! the other language.

use std::{collections::BTreeSet, path::PathBuf};

use leptos_i18n_build::{Config, TranslationsInfos};

/// The UI's languages; the first is the default.
const LOCALES: [&str; 2] = ["en", "ko"];
/// One file per part of the UI.
const NAMESPACES: [&str; 5] = ["common", "auth", "account", "lab", "tools"];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    for namespace in NAMESPACES {
        let keys: Vec<BTreeSet<String>> = LOCALES
            .iter()
            .map(|locale| keys_of(locale, namespace))
            .collect();
        for (locale, found) in LOCALES.iter().zip(&keys).skip(1) {
            let missing: Vec<_> = keys[0].symmetric_difference(found).collect();
            assert!(
                missing.is_empty(),
                "locales/{locale}/{namespace}.json and locales/{}/{namespace}.json differ in: {missing:?}",
                LOCALES[0]
            );
        }
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("i18n");
    let config = Config::new(LOCALES[0])
        .and_then(|c| c.add_locales(&LOCALES[1..]))
        .and_then(|c| c.add_namespaces(NAMESPACES))
        .expect("the locale and namespace names are valid");
    let infos = TranslationsInfos::parse(config).expect("the translations parse");
    infos.rerun_if_locales_changed();
    infos.emit_diagnostics();
    infos
        .generate_i18n_module(out)
        .expect("the i18n module is written");
}

/// The keys of one namespace file, nested keys as `a.b`.
fn keys_of(locale: &str, namespace: &str) -> BTreeSet<String> {
    let path = format!("locales/{locale}/{namespace}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut keys = BTreeSet::new();
    collect(&value, "", &mut keys);
    keys
}

fn collect(value: &serde_json::Value, prefix: &str, into: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(map) = value {
        for (key, inner) in map {
            let key = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if inner.is_object() {
                collect(inner, &key, into);
            } else {
                into.insert(key);
            }
        }
    }
}
