//! Tariff output on a coil of a Modbus digital-output module (issue 7),
//! against a digital-output module emulated with tokio-modbus's server on
//! 127.0.0.1; and the rig file keys for GPIO pulse inputs and outputs.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::drivers::modbus_coil_tariff_output::ModbusCoilTariffOutput;
use harness::rig::tariff_output::{Tariff, TariffOutput};
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::{Server, accept_tcp_connection};
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};

/// Eight coils; `stuck` makes coil writes answer but change nothing.
#[derive(Clone)]
struct DoModule {
    coils: Arc<Mutex<[bool; 8]>>,
    stuck: bool,
}

impl Service for DoModule {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Result<Option<Response>, ExceptionCode>> + Send>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let mut coils = self.coils.lock().expect("lock");
        let r = match req.request {
            Request::WriteSingleCoil(a, v) if (a as usize) < 8 => {
                if !self.stuck {
                    coils[a as usize] = v;
                }
                Ok(Some(Response::WriteSingleCoil(a, v)))
            }
            Request::ReadCoils(a, n) if (a + n) as usize <= 8 => Ok(Some(Response::ReadCoils(
                coils[a as usize..(a + n) as usize].to_vec(),
            ))),
            Request::WriteSingleCoil(..) | Request::ReadCoils(..) => {
                Err(ExceptionCode::IllegalDataAddress)
            }
            _ => Err(ExceptionCode::IllegalFunction),
        };
        Box::pin(async move { r })
    }
}

async fn module(stuck: bool) -> (SocketAddr, Arc<Mutex<[bool; 8]>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let coils = Arc::new(Mutex::new([false; 8]));
    let service = DoModule {
        coils: coils.clone(),
        stuck,
    };
    tokio::spawn(async move {
        let server = Server::new(listener);
        let on_connected = move |stream, socket_addr| {
            let s = service.clone();
            async move { accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(s.clone()))) }
        };
        let _ = server.serve(&on_connected, |_| {}).await;
    });
    (addr, coils)
}

#[tokio::test]
async fn a_coil_selects_the_tariff_and_is_read_back() {
    let (addr, coils) = module(false).await;
    let mut out = ModbusCoilTariffOutput::new(0, addr, 1, 3, Duration::from_millis(500));
    out.select(Tariff::T2).await.expect("T2");
    assert!(coils.lock().expect("lock")[3], "coil 3 on for T2");
    out.select(Tariff::T1).await.expect("T1");
    assert!(!coils.lock().expect("lock")[3], "coil 3 off for T1");
}

#[tokio::test]
async fn a_module_that_ignores_the_write_stops_the_run() {
    let (addr, _) = module(true).await;
    let mut out = ModbusCoilTariffOutput::new(0, addr, 1, 3, Duration::from_millis(500));
    let e = out.select(Tariff::T2).await.expect_err("stuck");
    assert!(
        e.to_string().contains("reads [false] after writing true"),
        "{e}"
    );
    let (addr, _) = module(false).await;
    let mut out = ModbusCoilTariffOutput::new(0, addr, 1, 12, Duration::from_millis(500));
    let e = out.select(Tariff::T2).await.expect_err("no coil 12");
    assert!(e.to_string().contains("exception"), "{e}");
}

fn lab(position_extra: &str) -> Result<harness::station::RigFile, harness::files::FileError> {
    let meter =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/meters/legrand-412083.toml");
    harness::station::parse_rig(
        &format!(
            "[rig]\nname = \"b\"\nkind = \"lab\"\n[source]\nkind = \"none\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"none\"\n[[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"tcp\", address = \"127.0.0.1:502\" }}\n{position_extra}\n",
            meter.display()
        ),
        Path::new("lab.toml"),
    )
}

#[test]
fn gpio_keys_are_read_and_checked() {
    let c = lab("pulses = { kind = \"gpio\", chip = \"/dev/gpiochip0\", led = 17, s0 = 27, debounce_us = 500, active_low = true }\ntariff = { kind = \"modbus-coil\", address = \"10.0.0.5:502\", unit = 2, coil = 0 }")
        .expect("valid");
    let p = c.lab.positions[0].pulses.as_ref().expect("pulses");
    assert_eq!(p.lines.len(), 2);
    assert_eq!(p.debounce, Duration::from_micros(500));
    assert!(c.lab.positions[0].tariff.is_some());
    let e = lab("pulses = { kind = \"gpio\", chip = \"/dev/gpiochip0\", led = 4, s0 = 4 }")
        .expect_err("same line twice");
    assert!(e.to_string().contains("positions[0].pulses"), "{e}");
    let e = lab(
        "pulses = { kind = \"gpio\", chip = \"/dev/gpiochip0\", led = 4, debounce_us = 500000 }",
    )
    .expect_err("debounce too long");
    assert!(e.to_string().contains("debounce_us"), "{e}");
}

#[tokio::test]
async fn a_missing_gpio_chip_is_one_clear_error() {
    let c = lab("pulses = { kind = \"gpio\", chip = \"/dev/gpiochip-none\", led = 17 }")
        .expect("valid");
    let e = harness::rig::Rig::open(c).await.expect_err("no such chip");
    let m = e.to_string();
    assert!(
        m.starts_with("pulse input 1: cannot request lines [17] on /dev/gpiochip-none"),
        "{m}"
    );
}
