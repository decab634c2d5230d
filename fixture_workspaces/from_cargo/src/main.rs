//! Prints `hello from <arch>` and a JSON line; exits non-zero on an empty name.

fn main() -> anyhow::Result<()> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".to_string());
    println!("{}", from_cargo::greeting());
    println!("{}", from_cargo::greeting_json(&name)?);
    Ok(())
}
