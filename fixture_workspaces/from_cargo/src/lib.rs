//! A greeting as JSON: the library half of the from_cargo fixture.
//! Written to compile in every edition (2015 needs the `extern crate` lines).

extern crate anyhow;
extern crate serde_json;

use anyhow::{bail, Result};

/// The CPU architecture this binary was compiled for (`x86_64`, `aarch64`, ...).
pub fn arch() -> &'static str {
    std::env::consts::ARCH
}

/// `hello from <arch>`: the line the binary prints first, which tests check under qemu too.
pub fn greeting() -> String {
    format!("hello from {}", arch())
}

/// A JSON document describing the greeting; `name` must not be empty.
pub fn greeting_json(name: &str) -> Result<String> {
    if name.is_empty() {
        bail!("name must not be empty");
    }
    let value = serde_json::json!({ "greeting": greeting(), "name": name, "arch": arch() });
    Ok(serde_json::to_string(&value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_names_the_architecture() {
        assert_eq!(greeting(), format!("hello from {}", std::env::consts::ARCH));
    }

    #[test]
    fn json_round_trips() {
        let text = greeting_json("bazel").unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["name"], "bazel");
        assert_eq!(value["arch"], arch());
    }

    #[test]
    fn empty_name_is_an_error() {
        assert!(greeting_json("").is_err());
    }
}
