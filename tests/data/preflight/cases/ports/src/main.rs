use std::net::TcpListener;

fn main() {
    let l = TcpListener::bind("0.0.0.0:8080").unwrap();
    drop(l);
}
