//! A small deterministic PRNG (SplitMix64 seeding an xorshift64*), so runs repeat exactly.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `stream` (e.g. a thread index) derived from `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }

    /// Object size: 16..=256 bytes three times in four, else 257..=4096 (a server-like mix).
    pub fn object_size(&mut self) -> usize {
        if self.below(4) < 3 {
            16 + self.below(241) as usize
        } else {
            257 + self.below(3840) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn deterministic_and_in_range() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42, 0);
            (0..100).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(42, 0);
        assert!(a.iter().all(|&x| x == r.next_u64()));
        assert_ne!(Rng::new(42, 1).next_u64(), a[0]);
        let mut r = Rng::new(7, 3);
        for _ in 0..10_000 {
            let size = r.object_size();
            assert!((16..=4096).contains(&size));
            assert!(r.below(10) < 10);
        }
    }
}
