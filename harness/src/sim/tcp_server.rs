//! The simulated meter as a Modbus TCP server on loopback, through
//! tokio-modbus's server and its `Service` trait.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::{Server, accept_tcp_connection};
use tokio_modbus::{ExceptionCode, Response, SlaveRequest};

use super::modbus_server::{Answer, MeterService};

#[derive(Debug, Clone)]
struct TcpService(Arc<MeterService>);

impl Service for TcpService {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Result<Option<Response>, ExceptionCode>> + Send>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let (answer, delay) = self.0.handle(req.slave, &req.request, None);
        Box::pin(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match answer {
                Answer::Silent => Ok(None),
                Answer::Reply(Ok(r)) => Ok(Some(r)),
                Answer::Reply(Err(e)) => Err(e),
            }
        })
    }
}

/// Binds `addr` and serves the meter until the task is dropped. Returns the
/// bound address (port 0 picks a free one).
pub async fn spawn_tcp(
    service: Arc<MeterService>,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = super::accept::bind(addr).await?;
    let local = listener.local_addr()?;
    let server = Server::new(listener);
    let handle = tokio::spawn(async move {
        let on_connected = move |stream, socket_addr| {
            let service = TcpService(service.clone());
            async move { accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(service.clone()))) }
        };
        // `serve` returns at the first failed accept (EMFILE after a burst of
        // connections); the listener is still open, so serve it again.
        let mut backoff =
            super::accept::Backoff::new(format!("simulated meter TCP server on {local}"));
        loop {
            let on_error = |e| tracing::warn!("simulated meter TCP connection: {e}");
            if let Err(e) = server.serve(&on_connected, on_error).await {
                backoff.failed(&e).await;
            }
        }
    });
    Ok((local, handle))
}
