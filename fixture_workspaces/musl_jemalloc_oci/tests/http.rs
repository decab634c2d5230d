//! Starts the real service binary on 127.0.0.1 (a free port) and talks HTTP/1.1 to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Service {
    child: Child,
    address: SocketAddr,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Service {
    let mut child = Command::new(env!("CARGO_BIN_EXE_service"))
        .args(["--bind", "127.0.0.1", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("service starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("service prints its address");
    let address = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {:?}", line));
    Service { address: address.parse().unwrap(), child }
}

fn request(address: SocketAddr, raw: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("the service answers and closes the connection");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

#[test]
fn answers_root_and_health_with_the_architecture() {
    let service = start(&[]);
    let expected = format!("ok {}\n", std::env::consts::ARCH);
    for path in ["/", "/health"] {
        let (status, head, body) = request(service.address, &format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n"));
        assert_eq!((status, body.as_str()), (200, expected.as_str()), "{path}: {head}");
        assert!(head.contains("X-Allocator: jemalloc 5."), "{}", head);
        assert!(head.contains(&format!("Content-Length: {}", expected.len())));
    }
    assert_eq!(request(service.address, "GET /missing HTTP/1.1\r\n\r\n").0, 404);
    assert_eq!(request(service.address, "DELETE / HTTP/1.1\r\n\r\n").0, 405);
}

#[test]
fn once_exits_after_one_connection() {
    let mut service = start(&["--once"]);
    assert_eq!(request(service.address, "GET /health HTTP/1.0\r\n\r\n").0, 200);
    let status = service.child.wait().unwrap();
    assert!(status.success(), "{:?}", status);
}

#[test]
fn allocator_flag_names_jemalloc() {
    let out = Command::new(env!("CARGO_BIN_EXE_service")).arg("--allocator").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("jemalloc 5."));
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_service")).args(["--port", "http"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
