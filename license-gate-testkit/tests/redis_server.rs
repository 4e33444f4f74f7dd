//! The test Redis server: it answers, stops like a crash, and comes back on
//! the same port, empty.

use std::io::{Read, Write};
use std::net::TcpStream;

use license_gate_testkit::redis::RedisServer;

/// Sends one inline command and reads the first reply line.
fn command(port: u16, line: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.write_all(format!("{line}\r\n").as_bytes())?;
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        stream.read_exact(&mut byte)?;
        reply.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&reply).trim_end().to_owned())
}

license_gate_testkit::redis_test! {
    #[test]
    fn a_server_stops_and_restarts_on_its_port_empty() {
        let mut server = RedisServer::start().expect("redis-server starts");
        let port = server.port();
        assert_eq!(server.url(), format!("redis://127.0.0.1:{port}/"));
        assert_eq!(command(port, "SET greeting hello").unwrap(), "+OK");
        assert_eq!(command(port, "EXISTS greeting").unwrap(), ":1");

        server.stop().unwrap();
        assert!(!server.is_running());
        assert!(command(port, "PING").is_err(), "a stopped server refuses connections");

        server.restart().unwrap();
        assert_eq!(server.port(), port);
        assert_eq!(command(port, "EXISTS greeting").unwrap(), ":0", "nothing was saved");
    }
}
