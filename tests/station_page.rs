//! The station page (issue 18) in a real browser: Debian's chromium,
//! headless, driven through its command line (`--dump-dom`, `--screenshot`),
//! against `metrig station` serving a store that a simulated nightly writes.
//! chromium must be installed (`.ci/run` installs it): a missing browser
//! fails these tests, it does not skip them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use store::{LiveSample, LiveVerdict, Location, Points, Progress, Store};

const HOSTILE: &str = "<script>alert(\"x\")</script><img src=x onerror=alert(1)>";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A running `metrig station`, killed when dropped.
struct Station {
    child: Child,
    /// host:port to connect to.
    addr: String,
}

impl Drop for Station {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn station(store: &Path, listen: &str, token: Option<&str>) -> Station {
    station_at(&store.display().to_string(), listen, token)
}

fn station_at(store: &str, listen: &str, token: Option<&str>) -> Station {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_metrig"));
    cmd.args(["station", "--store", store, "--listen", listen])
        .current_dir(root())
        .env_remove("METRIG_STATION_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(t) = token {
        cmd.env("METRIG_STATION_TOKEN", t);
    }
    let mut child = cmd.spawn().expect("metrig station starts");
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout");
    BufReader::new(out)
        .read_line(&mut line)
        .expect("first line");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .replace("0.0.0.0", "127.0.0.1");
    Station { child, addr }
}

/// One HTTP/1.1 GET: status, headers, body.
fn get(addr: &str, path: &str, headers: &[&str]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n"
    )
    .expect("request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head.to_string(), body.to_string())
}

fn chromium(args: &[&str]) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs (apt-get install chromium; .ci/run installs it)");
    assert!(out.status.success(), "chromium {args:?}: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn dom(addr: &str, path: &str) -> String {
    chromium(&["--dump-dom", &format!("http://{addr}{path}")])
}

/// One page held open in headless chromium, driven over the DevTools
/// protocol on `--remote-debugging-pipe` (JSON messages ended by NUL on
/// fds 3 and 4, mapped here onto the child's stdin and stdout). The page is
/// loaded once and never reloaded, so whatever changes in its DOM was
/// changed by its own script: what `--dump-dom` (taken at load, and never
/// ending with an open EventSource under `--virtual-time-budget`) cannot show.
struct Browser {
    child: Child,
    to: std::process::ChildStdin,
    from: BufReader<std::process::ChildStdout>,
    next: u64,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn open(url: &str) -> Browser {
        let mut child = Command::new("sh")
            .args([
                "-c",
                "exec chromium --headless --no-sandbox --disable-gpu --remote-debugging-pipe about:blank 3<&0 4>&1 1>/dev/null",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium runs (apt-get install chromium; .ci/run installs it)");
        let to = child.stdin.take().expect("stdin");
        let from = BufReader::new(child.stdout.take().expect("stdout"));
        let mut b = Browser {
            child,
            to,
            from,
            next: 0,
            session: String::new(),
        };
        let target = b.call("Target.createTarget", serde_json::json!({ "url": url }));
        let id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = b.call(
            "Target.attachToTarget",
            serde_json::json!({ "targetId": id, "flatten": true }),
        );
        b.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        b
    }

    /// Sends one command and returns its result, skipping events.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next += 1;
        let mut msg = serde_json::json!({ "id": self.next, "method": method, "params": params });
        if !self.session.is_empty() {
            msg["sessionId"] = self.session.clone().into();
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.to.write_all(&bytes).expect("to chromium");
        loop {
            let mut buf = Vec::new();
            let n = self.from.read_until(0, &mut buf).expect("from chromium");
            assert!(n > 0, "chromium closed the pipe during {method}");
            buf.pop();
            let v: serde_json::Value = serde_json::from_slice(&buf).expect("a CDP message");
            if v["id"].as_u64() == Some(self.next) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// The text of the element with this id in the live DOM ("" if none).
    fn text(&mut self, id: &str) -> String {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({
                "expression": format!("(document.getElementById('{id}')||{{}}).textContent||''"),
                "returnByValue": true
            }),
        );
        r["result"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Screenshots for the lead's note, when METRIG_STATION_SHOTS names a folder.
fn shot(addr: &str, path: &str, name: &str, height: u32) {
    if let Ok(dir) = std::env::var("METRIG_STATION_SHOTS") {
        let file = Path::new(&dir).join(name);
        chromium(&[
            &format!("--screenshot={}", file.display()),
            &format!("--window-size=1280,{height}"),
            &format!("http://{addr}{path}"),
        ]);
        assert!(file.exists(), "{}", file.display());
    }
}

/// The text of the element with this id, in a dumped DOM.
fn text_of(dom: &str, id: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let rest = &dom[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(rest[start..start + end].to_string())
}

/// The default sim rig with a meter that answers Modbus 4–6 ms late: the
/// nightly's Modbus section then takes tens of seconds of wall time, long
/// enough to watch.
fn slow_rig(tmp: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("fixtures/rigs/sim.toml"))
        .expect("sim rig")
        .replace(
            "\"../meters/",
            &format!("\"{}/fixtures/meters/", root().display()),
        );
    let path = tmp.join("slow.toml");
    std::fs::write(
        &path,
        format!("{text}\n[positions.sim.faults]\nlatency_ms = [4, 6]\n"),
    )
    .expect("write rig");
    path
}

fn start_run(plan: &str, rig: &Path, out: &Path, store: &Path) -> Child {
    start_run_at(plan, rig, out, &store.display().to_string())
}

fn start_run_at(plan: &str, rig: &Path, out: &Path, store: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args([
            "run",
            plan,
            "--rig",
            &rig.display().to_string(),
            "--quiet",
            "--out",
            &out.display().to_string(),
            "--store",
            store,
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("metrig run starts")
}

/// A finished nightly in `store`; its run id.
fn finished_run(tmp: &Path, store: &Path) -> String {
    // A run folder of its own: `--out` must be empty or absent.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = tmp.join(format!("finished-{n}"));
    let mut child = start_run(
        "fixtures/plans/nightly.toml",
        &root().join("fixtures/rigs/sim.toml"),
        &out,
        store,
    );
    let status = child.wait().expect("run ends");
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    let mut s = Store::open(&Location::Sqlite(store.to_path_buf())).expect("store");
    s.history(&store::HistoryFilter::default())
        .expect("history")[0]
        .run_id
        .clone()
}

fn verdict_counts(record: &serde_json::Value) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for v in [
        "pass",
        "conditional_pass",
        "conditional_fail",
        "fail",
        "error",
        "skipped",
    ] {
        m.insert(v.to_string(), 0);
    }
    for p in record["points"].as_array().expect("points") {
        *m.entry(p["verdict"].as_str().expect("verdict").to_string())
            .or_insert(0) += 1;
    }
    m
}

#[test]
fn chromium_follows_a_simulated_nightly_then_shows_its_run_and_meter() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("metrig.sqlite");
    let out = tmp.path().join("run");
    // An earlier night, so the meter's trend has two runs.
    finished_run(tmp.path(), &db);
    let rig = slow_rig(tmp.path());
    let mut run = start_run("fixtures/plans/nightly.toml", &rig, &out, &db);
    let loc = Location::Sqlite(db.clone());
    // Wait for the run's first heartbeat.
    let t0 = Instant::now();
    let run_id = loop {
        let found = Store::open(&loc)
            .and_then(|mut s| s.live_runs(5))
            .ok()
            .and_then(|l| l.into_iter().find(|l| l.progress.point_key.is_some()));
        if let Some(l) = found {
            break l.run_id;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress row");
        std::thread::sleep(Duration::from_millis(100));
    };
    let st = station(&db, "127.0.0.1:0", None);
    let live = format!("/live/{run_id}");

    // The live page's script follows the run by server-sent events: one
    // page, never reloaded, whose counter of applied updates and progress
    // figure move while the run runs.
    let mut page = Browser::open(&format!("http://{}{live}", st.addr));
    let t0 = Instant::now();
    let mut seen = Vec::new();
    let moved = loop {
        let (updates, pct, state) = (page.text("updates"), page.text("pct"), page.text("state"));
        let n: u32 = updates.parse().unwrap_or(0);
        let pct: f64 = pct.parse().unwrap_or(-1.0);
        seen.push((n, pct, state.clone()));
        let first_pct = seen.iter().find(|s| s.1 >= 0.0).map_or(-1.0, |s| s.1);
        if n >= 2 && first_pct >= 0.0 && pct > first_pct && state == "running" {
            break true;
        }
        if t0.elapsed() > Duration::from_secs(30) || (state != "running" && !state.is_empty()) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(
        moved,
        "the live page's DOM did not follow the events (updates, %, state): {seen:?}"
    );
    drop(page);
    // While it runs, the page shows the current point, and progress advances.
    let first = dom(&st.addr, &live);
    assert_eq!(
        text_of(&first, "state").as_deref(),
        Some("running"),
        "{first}"
    );
    let point = text_of(&first, "point").expect("current point");
    assert!(point.contains('/'), "current point shown: {point:?}");
    assert!(!text_of(&first, "loads").unwrap_or_default().is_empty() || point.contains("modbus"));
    let pct = |d: &str| -> f64 {
        text_of(d, "pct")
            .and_then(|t| t.parse().ok())
            .expect("progress figure")
    };
    let p0 = pct(&first);
    shot(&st.addr, &live, "station-live.png", 1100);
    let mut advanced = None;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(500));
        let later = dom(&st.addr, &live);
        if text_of(&later, "state").as_deref() != Some("running") {
            break;
        }
        if pct(&later) > p0 {
            advanced = Some(later);
            break;
        }
    }
    let later = advanced.expect("progress advanced while the run ran");
    assert!(text_of(&later, "eta").is_some_and(|e| e.contains(" h ")));
    let status = run.wait().expect("run ends");
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");

    // The run's page shows the same verdict counts as record.json.
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("record.json")).expect("record.json"),
    )
    .expect("record json");
    let page = dom(&st.addr, &format!("/run/{run_id}"));
    for (verdict, n) in verdict_counts(&record) {
        assert_eq!(
            text_of(&page, &format!("count-{verdict}")),
            Some(n.to_string()),
            "{verdict}"
        );
    }
    assert!(page.contains("current I (A)"), "error curve with axes");
    // The report's own statement of conformity and results table (one set
    // of templates for the page and report.html).
    assert!(
        page.contains("Statement of conformity") && page.contains("conforms to clause"),
        "the report's conformity statement on the run page"
    );
    assert!(page.contains("°C / % RH"), "the report's results table");
    shot(&st.addr, &format!("/run/{run_id}"), "station-run.png", 2400);
    // After the end, the live page says so.
    let done = dom(&st.addr, &live);
    assert_eq!(text_of(&done, "state").as_deref(), Some("completed"));

    // The meter's page shows the trend plot.
    let serial = record["meters"][0]["said"]["serial_number"]
        .as_str()
        .expect("serial")
        .to_string();
    let meter = dom(&st.addr, &format!("/meter/{serial}"));
    assert!(meter.contains("class=\"trend\""), "{meter}");
    assert!(meter.contains("<svg"));
    assert!(meter.contains("mean error (%)"));
    shot(
        &st.addr,
        &format!("/meter/{serial}"),
        "station-meter.png",
        1600,
    );
}

fn progress(run_id: &str, i: usize) -> Progress {
    Progress {
        run_id: run_id.into(),
        state: "running".into(),
        point_key: Some(format!("accuracy-active/p1/point-{i}")),
        point_title: Some("a point".into()),
        point_loads: Some("230 V 5 A PF 1".into()),
        points_done: i,
        points_planned: 1000,
        rig_time_done_s: i as f64 * 10.0,
        rig_time_planned_s: 10_000.0,
        last_samples: vec![LiveSample {
            point_key: format!("accuracy-active/p1/point-{i}"),
            index: i,
            at_s: i as f64,
            value: 0.1,
            unit: "%".into(),
        }],
        last_verdicts: vec![LiveVerdict {
            point_key: "x".into(),
            verdict: "pass".into(),
            mean_error_pct: Some(0.1),
        }],
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("proc status")
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

/// 50 SSE clients on one live run: every client keeps receiving updates
/// and the server's memory stays bounded (one poller per run, not per
/// client). The run's progress is written with the listener's own call,
/// ten times a second.
#[test]
fn fifty_sse_clients_keep_receiving_with_bounded_memory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("metrig.sqlite");
    let run_id = finished_run(tmp.path(), &db);
    let st = station(&db, "127.0.0.1:0", None);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (db, run_id, stop) = (db.clone(), run_id.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut s = Store::open(&Location::Sqlite(db)).expect("store");
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.save_progress(&progress(&run_id, i)).expect("progress");
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    const CLIENTS: usize = 50;
    const WATCH: Duration = Duration::from_secs(8);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (addr, run_id) = (st.addr.clone(), run_id.clone());
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(&addr).expect("connect");
                s.set_read_timeout(Some(Duration::from_millis(500)))
                    .expect("timeout");
                write!(
                    s,
                    "GET /live/{run_id}/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
                )
                .expect("request");
                let t0 = Instant::now();
                let mut seen = String::new();
                let mut buf = [0u8; 8192];
                while t0.elapsed() < WATCH {
                    match s.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                        Err(_) => {}
                    }
                }
                // Events in the second half of the watch: updates keep flowing.
                seen.matches("event: progress").count()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let rss_early = rss_kib(st.child.id());
    let counts: Vec<usize> = clients
        .into_iter()
        .map(|c| c.join().expect("client"))
        .collect();
    let rss_late = rss_kib(st.child.id());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().expect("writer");
    let min = counts.iter().copied().min().unwrap_or(0);
    println!(
        "50 SSE clients, {WATCH:?}: events per client min {min} max {}; station RSS {rss_early} KiB after 2 s, {rss_late} KiB at the end",
        counts.iter().max().unwrap_or(&0)
    );
    // The poller reads twice a second and the progress changes ten times a
    // second: 8 s give about 16 updates; 8 is the floor for "keeps flowing".
    assert!(min >= 8, "a client starved: {counts:?}");
    assert!(
        rss_late < rss_early + 16 * 1024,
        "memory grew from {rss_early} KiB to {rss_late} KiB"
    );
}

#[test]
fn hostile_serial_and_plan_name_are_escaped_on_every_page() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("metrig.sqlite");
    let good = finished_run(tmp.path(), &db);
    let loc = Location::Sqlite(db.clone());
    let mut s = Store::open(&loc).expect("store");
    let mut r = s.record(&good).expect("record");
    r.run_id = "hostile-run".into();
    r.plan_name = HOSTILE.into();
    if let Some(said) = r.meters[0].said.as_mut() {
        said.serial_number = Some(HOSTILE.into());
        said.firmware = Some(HOSTILE.into());
    }
    r.message = HOSTILE.into();
    s.save(&r, None, Points::All).expect("save hostile run");
    let mut p = progress("hostile-run", 1);
    p.point_key = Some(HOSTILE.into());
    p.point_title = Some(HOSTILE.into());
    p.last_samples[0].point_key = HOSTILE.into();
    p.last_samples[0].unit = HOSTILE.into();
    p.last_verdicts[0].point_key = HOSTILE.into();
    s.save_progress(&p).expect("progress");
    drop(s);
    let st = station(&db, "127.0.0.1:0", None);
    let enc: String = HOSTILE.bytes().map(|b| format!("%{b:02X}")).collect();
    let pages = [
        "/".to_string(),
        format!("/?plan={enc}&meter={enc}"),
        "/run/hostile-run".into(),
        "/run/hostile-run/report.html".into(),
        "/live/hostile-run".into(),
        format!("/meter/{enc}"),
        "/compare?baseline=hostile-run&candidate=hostile-run".into(),
        format!("/run/{enc}"),
    ];
    for page in &pages {
        let (code, head, body) = get(&st.addr, page, &[]);
        assert!(matches!(code, 200 | 404), "{page}: {code}");
        assert!(
            !body.contains("<script>alert"),
            "{page}: raw script\n{body}"
        );
        assert!(!body.contains("<img src=x"), "{page}: raw img");
        assert!(
            body.contains("&lt;script&gt;"),
            "{page}: the hostile string is shown, escaped"
        );
        assert!(head.contains("content-security-policy"), "{page}: {head}");
    }
    // The browser sees text, not elements.
    let d = dom(&st.addr, &format!("/meter/{enc}"));
    assert!(!d.contains("<img src=\"x\""), "{d}");
    let d = dom(&st.addr, "/run/hostile-run");
    assert!(!d.contains("<img src=\"x\""));
}

#[test]
fn beyond_loopback_a_token_is_required() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("metrig.sqlite");
    // Without a token: refuses to start, and says why.
    let out = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args([
            "station",
            "--store",
            &db.display().to_string(),
            "--listen",
            "0.0.0.0:0",
        ])
        .env_remove("METRIG_STATION_TOKEN")
        .output()
        .expect("metrig station");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token") && err.contains("0.0.0.0"), "{err}");
    // With one: 401 without it, 200 with it (header, query, then cookie).
    let token = "s3cret-token-0123456789";
    let st = station(&db, "0.0.0.0:0", Some(token));
    let (code, head, _) = get(&st.addr, "/", &[]);
    assert_eq!(code, 401, "{head}");
    let (code, _, _) = get(&st.addr, "/live/x/events", &[]);
    assert_eq!(code, 401);
    let (code, _, _) = get(
        &st.addr,
        "/",
        &["Authorization: Bearer wrong-token-0123456789"],
    );
    assert_eq!(code, 401);
    let (code, _, body) = get(&st.addr, "/", &[&format!("Authorization: Bearer {token}")]);
    assert_eq!(code, 200);
    assert!(body.contains("Station"));
    let (code, head, _) = get(&st.addr, &format!("/?token={token}"), &[]);
    assert_eq!(code, 200);
    assert!(
        head.to_lowercase().contains("set-cookie: metrig_token="),
        "{head}"
    );
    let (code, _, _) = get(&st.addr, "/", &[&format!("Cookie: metrig_token={token}")]);
    assert_eq!(code, 200);
    // Read-only: no route takes a write.
    let mut s = TcpStream::connect(&st.addr).expect("connect");
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("post");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    assert!(resp.starts_with("HTTP/1.1 405"), "{resp}");
}

/// A rig of a fleet writing to PostgreSQL: the station page, reading the
/// same database, lists the run as running while it runs and shows its
/// verdict counts when it is done.
#[test]
fn live_view_follows_a_run_writing_to_postgresql() {
    let loc = store::testing::fresh_postgres("station")
        .unwrap_or_else(|e| panic!("PostgreSQL test database: {e}"));
    let Location::Postgres(url) = &loc else {
        unreachable!("fresh_postgres gives a PostgreSQL location")
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("run");
    let rig = slow_rig(tmp.path());
    let mut run = start_run_at("fixtures/plans/nightly.toml", &rig, &out, url);
    let t0 = Instant::now();
    let run_id = loop {
        let found = Store::open(&loc)
            .and_then(|mut s| s.live_runs(5))
            .ok()
            .and_then(|l| l.into_iter().find(|l| l.progress.point_key.is_some()));
        if let Some(l) = found {
            break l.run_id;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress row");
        std::thread::sleep(Duration::from_millis(100));
    };
    let st = station_at(url, "127.0.0.1:0", None);
    let (code, _, index) = get(&st.addr, "/", &[]);
    assert_eq!(code, 200);
    assert!(index.contains(&run_id), "{index}");
    assert!(index.contains("class=\"running\""), "{index}");
    let (_, _, live) = get(&st.addr, &format!("/live/{run_id}"), &[]);
    assert_eq!(text_of(&live, "state").as_deref(), Some("running"));
    let status = run.wait().expect("run ends");
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("record.json")).expect("record.json"),
    )
    .expect("record json");
    let (_, _, page) = get(&st.addr, &format!("/run/{run_id}"), &[]);
    for (verdict, n) in verdict_counts(&record) {
        assert_eq!(
            text_of(&page, &format!("count-{verdict}")),
            Some(n.to_string()),
            "{verdict}"
        );
    }
}

/// A run stopped by SIGTERM (the operator's Ctrl-C) is journaled as
/// interrupted; the live page says so instead of showing it running.
#[test]
fn an_interrupted_run_says_so() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("metrig.sqlite");
    let out = tmp.path().join("run");
    let rig = slow_rig(tmp.path());
    let mut run = start_run("fixtures/plans/nightly.toml", &rig, &out, &db);
    let loc = Location::Sqlite(db.clone());
    let t0 = Instant::now();
    let run_id = loop {
        let found = Store::open(&loc)
            .and_then(|mut s| s.live_runs(5))
            .ok()
            .and_then(|l| l.into_iter().find(|l| l.progress.points_done >= 3));
        if let Some(l) = found {
            break l.run_id;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no progress row");
        std::thread::sleep(Duration::from_millis(100));
    };
    let killed = Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = run.wait().expect("run ends");
    assert_ne!(status.code(), Some(0), "{status:?}");
    let st = station(&db, "127.0.0.1:0", None);
    let (code, _, live) = get(&st.addr, &format!("/live/{run_id}"), &[]);
    assert_eq!(code, 200);
    assert_eq!(
        text_of(&live, "state").as_deref(),
        Some("interrupted"),
        "{live}"
    );
    let (_, _, index) = get(&st.addr, "/", &[]);
    assert!(index.contains("class=\"interrupted\""), "{index}");
}

#[test]
fn compare_page_applies_and_shows_the_candidate_plans_thresholds_and_signatures() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("metrig.sqlite");
    // The candidate's folder holds its plan copy: the gate at α 0.05 and
    // half the limit, not the defaults (0.01, 0.2).
    let cand_dir = tmp.path().join("cand");
    std::fs::create_dir(&cand_dir).expect("folder");
    let plan = std::fs::read_to_string(root().join("fixtures/plans/firmware-gate.toml"))
        .expect("plan")
        .replace("alpha = 0.01", "alpha = 0.05")
        .replace(
            "practical_fraction_of_mpe = 0.2",
            "practical_fraction_of_mpe = 0.5",
        );
    std::fs::write(cand_dir.join("plan.toml"), &plan).expect("plan copy");
    let plan_ref = harness::run::events::FileRef::of(&cand_dir.join("plan.toml"));
    // Point 1 moves by 0.3 % of a 1 % limit: a regression at a fifth of the
    // limit, none at half of it.
    let mut base = store::testing::synthetic_record(
        "base",
        "2026-01-01T02:00:00Z",
        "SN-C",
        "1",
        &[0.1, 0.2],
        10,
        0.01,
    );
    let mut cand = store::testing::synthetic_record(
        "cand",
        "2026-01-02T02:00:00Z",
        "SN-C",
        "2",
        &[0.1, 0.5],
        10,
        0.01,
    );
    base.plan = plan_ref.clone();
    cand.plan = plan_ref;
    std::fs::write(
        cand_dir.join("record.json"),
        serde_json::to_string_pretty(&cand).expect("json"),
    )
    .expect("record");
    let key = tmp.path().join("lab.key");
    reports::signature::generate_key(&key).expect("key");
    let sk = reports::signature::read_secret_key(&key).expect("secret key");
    reports::signature::sign(&cand_dir, "cand", &sk).expect("signed");
    let mut s = Store::open(&Location::Sqlite(db.clone())).expect("store");
    s.save(&base, None, Points::All).expect("save base");
    s.save(&cand, Some(&cand_dir), Points::All)
        .expect("save cand");
    drop(s);
    let st = station(&db, "127.0.0.1:0", None);

    let (code, _, body) = get(&st.addr, "/compare?baseline=base&candidate=cand", &[]);
    assert_eq!(code, 200, "{body}");
    assert_eq!(text_of(&body, "alpha").as_deref(), Some("0.05"), "{body}");
    assert_eq!(text_of(&body, "fraction").as_deref(), Some("0.5"), "{body}");
    assert!(
        body.contains("the candidate&#39;s plan") || body.contains("the candidate's plan"),
        "{body}"
    );
    assert!(body.contains("0 regression(s)"), "{body}");
    assert!(
        body.contains("baseline <span class=\"signature\">unsigned"),
        "{body}"
    );
    assert!(body.contains("signed by ed25519:"), "{body}");

    // Thresholds given in the query win, and the page says so.
    let (code, _, body) = get(
        &st.addr,
        "/compare?baseline=base&candidate=cand&fraction=0.2",
        &[],
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(text_of(&body, "fraction").as_deref(), Some("0.2"), "{body}");
    assert!(body.contains("given in the query"), "{body}");
    assert!(body.contains("1 regression(s)"), "{body}");

    // Out of range: refused, naming the parameter and the range.
    let (code, _, body) = get(
        &st.addr,
        "/compare?baseline=base&candidate=cand&alpha=0.7",
        &[],
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("alpha=0.7") && body.contains("0..0.5"),
        "{body}"
    );

    // The run's page says whether it is signed; an edit after signing breaks it.
    let (_, _, body) = get(&st.addr, "/run/cand", &[]);
    assert!(
        body.contains("signed by ed25519:") && body.contains("valid"),
        "{body}"
    );
    std::fs::write(cand_dir.join("plan.toml"), format!("{plan}\n")).expect("edit");
    let (_, _, body) = get(&st.addr, "/run/cand", &[]);
    assert!(
        body.contains("signature BROKEN") && body.contains("plan.toml"),
        "{body}"
    );
}
