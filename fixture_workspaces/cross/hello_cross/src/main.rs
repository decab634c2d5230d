//! Prints `hello from <arch>`, the architecture the binary was compiled for, so a test can tell an
//! x86_64 build from an aarch64 one by running it (natively or under qemu).

fn greeting(arch: &str) -> String {
    format!("hello from {}", arch)
}

fn main() {
    println!("{}", greeting(std::env::consts::ARCH));
    println!("pointer width: {} bits", usize::BITS);
}

#[cfg(test)]
mod tests {
    use super::greeting;

    #[test]
    fn greets_with_the_architecture() {
        assert_eq!(greeting("aarch64"), "hello from aarch64");
    }

    #[test]
    fn compiled_for_a_known_architecture() {
        assert!(["x86_64", "aarch64"].contains(&std::env::consts::ARCH));
    }
}
