//! The server and the client really talk gRPC over 127.0.0.1 (a free port each time).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use greeter::helloworld::greeter_client::GreeterClient;
use greeter::helloworld::HelloRequest;

#[tokio::test]
async fn in_process_round_trip() {
    let (listener, address) = greeter::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(greeter::serve(listener, async {
        let _ = stopped.await;
    }));
    let endpoint = format!("http://{address}");
    let message = greeter::say_hello(endpoint.clone(), "Bazel").await.expect("SayHello succeeds");
    assert_eq!(message, "Hello Bazel!");

    let mut client = GreeterClient::connect(endpoint).await.unwrap();
    let status = client.say_hello(HelloRequest { name: " ".into() }).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    stop.send(()).unwrap();
    server.await.unwrap().expect("server shuts down cleanly");
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn server_and_client_binaries_talk() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_greeter_server"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _server = Server(child);
    let address = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {:?}", line));

    let out = Command::new(env!("CARGO_BIN_EXE_greeter_client"))
        .args(["--addr", &format!("http://{address}"), "--name", "rules_rust"])
        .output()
        .unwrap();
    assert!(out.status.success(), "client failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello rules_rust!\n");
}

#[test]
fn client_fails_when_nobody_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_greeter_client"))
        .args(["--addr", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SayHello"));
}
