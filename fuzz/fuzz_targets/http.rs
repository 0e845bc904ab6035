//! The receiver's HTTP handling over a real socket: arbitrary bytes as a client's whole
//! connection. Every input either gets an answer or a closed connection; a panic anywhere in
//! the receiver (even in a spawned task, which tokio would otherwise swallow) aborts the run.
#![no_main]

use hookscope::receiver::{Config, Receiver};
use hookscope::verify::{Secret, Verifier};
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

struct Harness {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    // Kept for the whole run (forgetting it instead reads as a leak to LeakSanitizer).
    _receiver: Receiver,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            std::process::abort();
        }));
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let (addr, receiver) = rt.block_on(async {
            let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
            let mut config = Config::new(
                "127.0.0.1:0".parse().expect("addr"),
                Verifier::new(vec![secret], 300),
            );
            config.header_timeout = Duration::from_millis(200);
            config.body_timeout = Duration::from_millis(200);
            config.max_body = 64 * 1024;
            let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
            tokio::spawn(async move { while rx.recv().await.is_some() {} });
            let receiver = Receiver::start(config, tx).await.expect("receiver");
            (receiver.local_addr(), receiver)
        });
        Harness {
            rt,
            addr,
            _receiver: receiver,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    h.rt.block_on(async {
        let Ok(mut stream) = tokio::net::TcpStream::connect(h.addr).await else {
            return;
        };
        let _ = stream.write_all(data).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer)).await;
    });
});
