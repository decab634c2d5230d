//! Greets in the caller's language; prints the machine it runs on so tests can tell x86_64 from aarch64.

fn greeting(lang: &str) -> &'static str {
    match lang {
        "de" => "Hallo",
        "fr" => "Bonjour",
        _ => "Hello",
    }
}

fn main() {
    let lang = std::env::args().nth(1).unwrap_or_default();
    println!("{} from {}", greeting(&lang), std::env::consts::ARCH);
}

#[cfg(test)]
mod tests {
    #[test]
    fn knows_german() {
        assert_eq!(super::greeting("de"), "Hallo");
    }
}
