//! A small HTTP/1.1 service for a static musl scratch image, with jemalloc as global allocator.
//!
//! Listens on 0.0.0.0:3232 (the port the image exposes) and answers `GET /` and `GET /health`
//! with `200` and `ok <arch>`; every response closes its connection.

mod allocator;
mod http;

use std::net::SocketAddr;
use std::time::Duration;

use jemallocator::Jemalloc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// Jemalloc replaces the default memory allocator: musl's malloc degrades under multi-threaded load.
// https://www.linkedin.com/pulse/testing-alternative-c-memory-allocators-pt-2-musl-mystery-gomes
#[global_allocator]
static GLOBAL: Jemalloc = Jemalloc;

/// The port the service listens on and the container image exposes.
pub const DEFAULT_PORT: u16 = 3232;

const USAGE: &str = "usage: service [--bind ADDR] [--port N] [--once] [--allocator]
  --bind ADDR   address to listen on (default 0.0.0.0)
  --port N      TCP port (default 3232; 0 picks a free port)
  --once        exit after answering one connection
  --allocator   print the global allocator and its version, then exit";

struct Options {
    bind: String,
    port: u16,
    once: bool,
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options { bind: "0.0.0.0".into(), port: DEFAULT_PORT, once: false };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--allocator" => {
                println!("{}", allocator::describe());
                return Ok(None);
            }
            "--once" => options.once = true,
            "--bind" => options.bind = iter.next().ok_or("--bind needs an address")?.clone(),
            "--port" => {
                let value = iter.next().ok_or("--port needs a number")?;
                options.port = value.parse().map_err(|_| format!("--port expects 0..65535, got {value:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

async fn handle(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_complete = |b: &[u8]| b.windows(4).any(|w| w == b"\r\n\r\n");
    let read = async {
        while !head_complete(&buffer) && buffer.len() < http::MAX_HEAD {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    let response = match tokio::time::timeout(Duration::from_secs(10), read).await {
        Ok(result) => {
            result?;
            http::respond(&buffer)
        }
        Err(_) => http::Response::new(408, "request timeout\n"),
    };
    stream.write_all(&response.to_bytes()).await?;
    stream.shutdown().await
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    // As PID 1 in a scratch container the default SIGTERM action does not apply: handle it.
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let address: SocketAddr = format!("{}:{}", options.bind, options.port)
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad address: {e}")))?;
    let listener = TcpListener::bind(address).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = shutdown_signal() => return Ok(()),
        };
        if options.once {
            return handle(stream).await;
        }
        tokio::spawn(async move {
            if let Err(error) = handle(stream).await {
                eprintln!("connection error: {error}");
            }
        });
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(Some(options)) => options,
        Ok(None) => return,
        Err(message) => {
            eprintln!("service: {message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(error) = serve(options).await {
        eprintln!("service: {error}");
        std::process::exit(1);
    }
}
