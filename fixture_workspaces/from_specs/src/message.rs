//! The message exchanged over UDP, serialised with serde_json.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    pub from: String,
    pub seq: u32,
}

impl Greeting {
    pub fn here(seq: u32) -> Self {
        Greeting { from: std::env::consts::ARCH.to_string(), seq }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a Greeting always serialises")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let greeting = Greeting::here(7);
        assert_eq!(Greeting::decode(&greeting.encode()).unwrap(), greeting);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Greeting::decode(b"{\"from\": 1}").is_err());
    }
}
