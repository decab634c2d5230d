//! Just enough HTTP/1.1: parse a request head, answer it, close the connection.

/// The largest request head read before answering 431.
pub const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Response { status, body: body.into() }
    }

    fn reason(&self) -> &'static str {
        match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            431 => "Request Header Fields Too Large",
            _ => "Unknown",
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
            self.status,
            self.reason(),
            self.body.len()
        );
        if self.status == 405 {
            head.push_str("Allow: GET, HEAD\r\n");
        }
        head.push_str(&format!("X-Allocator: {}\r\nConnection: close\r\n\r\n", crate::allocator::describe()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// The body of a healthy answer: names the CPU architecture the binary was built for.
pub fn ok_body() -> String {
    format!("ok {}\n", std::env::consts::ARCH)
}

/// Answer a raw request head (bytes up to and including the blank line, or what arrived).
pub fn respond(head: &[u8]) -> Response {
    if head.len() >= MAX_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        return Response::new(431, "request head too large\n");
    }
    let Some(line) = head.split(|&b| b == b'\n').next().and_then(|l| std::str::from_utf8(l).ok()) else {
        return Response::new(400, "bad request\n");
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Response::new(400, "bad request line\n");
    };
    if !version.starts_with("HTTP/1.") {
        return Response::new(400, "only HTTP/1.x is spoken here\n");
    }
    let path = target.split('?').next().unwrap_or(target);
    match (method, path) {
        ("GET" | "HEAD", "/" | "/health") => Response::new(200, ok_body()),
        (_, "/" | "/health") => Response::new(405, "method not allowed\n"),
        _ => Response::new(404, "not found\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_and_root_answer_ok_with_the_arch() {
        for request in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health?probe=1 HTTP/1.0\r\n\r\n"] {
            let response = respond(request.as_bytes());
            assert_eq!(response, Response::new(200, format!("ok {}\n", std::env::consts::ARCH)));
        }
    }

    #[test]
    fn other_requests_get_4xx() {
        assert_eq!(respond(b"GET /nope HTTP/1.1\r\n\r\n").status, 404);
        assert_eq!(respond(b"POST / HTTP/1.1\r\n\r\n").status, 405);
        assert_eq!(respond(b"GARBAGE\r\n\r\n").status, 400);
        assert_eq!(respond(b"GET / SPDY/3\r\n\r\n").status, 400);
        assert_eq!(respond(&[b'a'; MAX_HEAD]).status, 431);
    }

    #[test]
    fn wire_format_has_length_and_closes() {
        let bytes = Response::new(200, "ok x\n").to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{}", text);
        assert!(text.contains("Content-Length: 5\r\n"));
        assert!(text.contains("Connection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nok x\n"));
    }
}
