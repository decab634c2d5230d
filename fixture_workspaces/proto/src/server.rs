//! gRPC Greeter server: `greeter_server [--addr 127.0.0.1:50051]`; prints `listening on ADDR`.

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let address = match args.as_slice() {
        [] => "127.0.0.1:50051".to_string(),
        [flag, value] if flag == "--addr" => value.clone(),
        _ => {
            eprintln!("usage: greeter_server [--addr HOST:PORT]");
            std::process::exit(2);
        }
    };
    let (listener, local) = match greeter::bind(&address).await {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("greeter_server: cannot listen on {address}: {error}");
            std::process::exit(1);
        }
    };
    println!("listening on {local}");
    if let Err(error) = greeter::serve(listener, shutdown_signal()).await {
        eprintln!("greeter_server: {error}");
        std::process::exit(1);
    }
}
