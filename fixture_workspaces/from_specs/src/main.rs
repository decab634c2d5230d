//! Sends a serde_json greeting over UDP on the loopback interface to a tokio task and prints the echo.
//! Uses every tokio feature the crate.spec enables: macros, net, rt-multi-thread and signal.

mod message;

use message::Greeting;
use tokio::net::UdpSocket;

async fn echo_once(server: UdpSocket) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    let (len, peer) = server.recv_from(&mut buf).await?;
    let mut greeting = Greeting::decode(&buf[..len]).map_err(std::io::Error::other)?;
    greeting.seq += 1;
    server.send_to(&greeting.encode(), peer).await?;
    Ok(())
}

async fn round_trip() -> std::io::Result<Greeting> {
    let server = UdpSocket::bind("127.0.0.1:0").await?;
    let address = server.local_addr()?;
    let task = tokio::spawn(echo_once(server));
    let client = UdpSocket::bind("127.0.0.1:0").await?;
    client.send_to(&Greeting::here(1).encode(), address).await?;
    let mut buf = [0u8; 1024];
    let (len, _) = client.recv_from(&mut buf).await?;
    task.await.map_err(std::io::Error::other)??;
    Greeting::decode(&buf[..len]).map_err(std::io::Error::other)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    println!("hello from {}", std::env::consts::ARCH);
    let reply = tokio::select! {
        reply = round_trip() => reply?,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted");
            std::process::exit(130);
        }
    };
    println!("{}", String::from_utf8(reply.encode()).expect("JSON is UTF-8"));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn udp_round_trip_increments_seq() {
        let reply = super::round_trip().await.unwrap();
        assert_eq!(reply.seq, 2);
        assert_eq!(reply.from, std::env::consts::ARCH);
    }
}
