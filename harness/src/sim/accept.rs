//! Backing off when a listener cannot accept. A burst of connections beyond
//! the open-file limit makes `accept` fail with EMFILE until some close; a
//! server that ends its accept loop then is dead for good while its process
//! runs on. The simulated servers instead log, wait (doubling up to a
//! second) and accept again.

use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_millis(10);
const LONGEST: Duration = Duration::from_secs(1);
/// Serving this long without a failure starts the next back-off afresh.
const CALM: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Backoff {
    what: String,
    next: Duration,
    last_failure: Option<Instant>,
    /// Failures seen, for the log and the tests.
    pub failures: u64,
}

impl Backoff {
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            next: FIRST,
            last_failure: None,
            failures: 0,
        }
    }

    /// How long to wait after a failure now, and the wait after it.
    fn advance(&mut self, now: Instant) -> Duration {
        if self
            .last_failure
            .is_some_and(|t| now.duration_since(t) > CALM)
        {
            self.next = FIRST;
        }
        self.failures += 1;
        self.last_failure = Some(now);
        let wait = self.next;
        self.next = (self.next * 2).min(LONGEST);
        wait
    }

    /// Logs `e` and waits before the next accept.
    pub async fn failed(&mut self, e: &std::io::Error) {
        let wait = self.advance(Instant::now());
        tracing::warn!(
            "{}: accepting a connection failed ({e}); accepting again in {} ms",
            self.what,
            wait.as_millis()
        );
        tokio::time::sleep(wait).await;
    }
}

/// Binds `addr`; the error names the address ("Address already in use" alone
/// does not say which).
pub async fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_to_a_second_and_starts_again_after_calm() {
        let mut b = Backoff::new("test");
        let t0 = Instant::now();
        let waits: Vec<u128> = (0..10)
            .map(|i| b.advance(t0 + Duration::from_millis(i)).as_millis())
            .collect();
        assert_eq!(&waits[..4], &[10, 20, 40, 80]);
        assert_eq!(waits[9], 1000);
        assert_eq!(b.failures, 10);
        assert_eq!(b.advance(t0 + Duration::from_secs(60)).as_millis(), 10);
    }

    #[tokio::test]
    async fn a_bind_error_names_the_address() {
        let first = bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bound");
        let addr = first.local_addr().expect("addr");
        let e = bind(addr).await.expect_err("in use");
        assert!(e.to_string().contains(&addr.to_string()), "{e}");
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    }
}
