//! gRPC Greeter client: `greeter_client [--addr http://127.0.0.1:50051] [--name NAME]`.

#[tokio::main]
async fn main() {
    let mut endpoint = "http://127.0.0.1:50051".to_string();
    let mut name = "world".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--addr", Some(value)) => endpoint = value,
            ("--name", Some(value)) => name = value,
            _ => {
                eprintln!("usage: greeter_client [--addr http://HOST:PORT] [--name NAME]");
                std::process::exit(2);
            }
        }
    }
    match greeter::say_hello(endpoint.clone(), &name).await {
        Ok(message) => println!("{message}"),
        Err(error) => {
            eprintln!("greeter_client: SayHello to {endpoint} failed: {error}");
            std::process::exit(1);
        }
    }
}
