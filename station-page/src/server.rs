//! The router: GET routes only (the page is read-only by construction),
//! the token layer when one is set, and security headers on every answer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::Stream;
use futures_util::StreamExt as _;
use serde::Deserialize;
use store::{HistoryFilter, Store};
use tokio_stream::wrappers::WatchStream;

use harness::run::plan::CompareSettings;
use reports::signature::SignatureStatus;

use crate::hub::Hub;
use crate::{PageError, pages};

/// Reads the `[compare]` thresholds of a plan file: given by the binary,
/// which knows the suites a plan may name.
pub type PlanCompare = fn(&std::path::Path) -> Result<CompareSettings, String>;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    pub(crate) token: Option<Arc<str>>,
    pub(crate) hub: Arc<Hub>,
    plan_compare: Option<PlanCompare>,
}

impl AppState {
    pub fn new(store: Store, token: Option<String>) -> AppState {
        AppState {
            store: Arc::new(Mutex::new(store)),
            token: token.map(Arc::from),
            hub: Arc::new(Hub::default()),
            plan_compare: None,
        }
    }

    /// Lets the compare page read the candidate plan's own thresholds from
    /// the copy in its run folder, as `metrig compare` does.
    pub fn with_plan_compare(mut self, f: PlanCompare) -> AppState {
        self.plan_compare = Some(f);
        self
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Runs a store query on the blocking pool: the store's drivers are
    /// synchronous and must not hold up the server's threads.
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, store::StoreError> + Send + 'static,
    ) -> Result<T, PageError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut s = store
                .lock()
                .map_err(|_| PageError::Worker("the store connection is poisoned".into()))?;
            f(&mut s).map_err(PageError::from)
        })
        .await
        .map_err(|e| PageError::Worker(e.to_string()))?
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let code = match &self {
            PageError::NotFound(_) | PageError::Store(store::StoreError::NotFound(_)) => {
                StatusCode::NOT_FOUND
            }
            PageError::BadQuery(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (code, Html(pages::error(code.as_u16(), &self.to_string()))).into_response()
    }
}

/// The routes, with the token layer when `state` has a token.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .route("/", get(index))
        .route("/live.js", get(live_js))
        .route("/live/{run_id}", get(live))
        .route("/live/{run_id}/events", get(live_events))
        .route("/run/{run_id}", get(run))
        .route("/run/{run_id}/report.html", get(report))
        .route("/meter/{serial}", get(meter))
        .route("/compare", get(compare))
        .layer(axum::middleware::map_response(headers));
    let app = if state.token.is_some() {
        app.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_token,
        ))
    } else {
        app
    };
    app.with_state(state)
}

/// No inline script runs (the one script is `/live.js`), nothing is framed,
/// nothing is sniffed: a string that escaped escaping still could not run.
async fn headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Serves on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> Result<(), PageError> {
    let listen = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    axum::serve(listener, router(state))
        .await
        .map_err(|e| PageError::Listen {
            listen,
            message: e.to_string(),
        })
}

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    meter: Option<String>,
    firmware: Option<String>,
    rig: Option<String>,
    plan: Option<String>,
    since: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl HistoryQuery {
    fn filter(&self) -> HistoryFilter {
        HistoryFilter {
            meter: nonempty(self.meter.clone()),
            firmware: nonempty(self.firmware.clone()),
            rig: nonempty(self.rig.clone()),
            plan: nonempty(self.plan.clone()),
            since: nonempty(self.since.clone()),
            limit: Some(200),
        }
    }
}

async fn index(
    State(state): State<AppState>,
    Query(q): Query<HistoryQuery>,
) -> Result<Html<String>, PageError> {
    let filter = q.filter();
    let (live, runs) = state
        .with_store(move |s| Ok((s.live_runs(20)?, s.history(&filter)?)))
        .await?;
    Ok(Html(pages::index(&live, &runs, &q.filter())))
}

async fn live_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        pages::LIVE_JS,
    )
}

async fn live(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Html<String>, PageError> {
    let id = run_id.clone();
    let l = state.with_store(move |s| s.live_run(&id)).await?;
    let l = l.ok_or_else(|| PageError::NotFound(format!("no live progress for run `{run_id}`")))?;
    Ok(Html(pages::live(
        &crate::hub::LiveUpdate::from_live(&l),
        &l,
    )))
}

async fn live_events(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = Hub::subscribe(&state, &run_id);
    let stream = WatchStream::new(rx)
        .filter(|json| std::future::ready(!json.is_empty()))
        .map(|json| Ok(Event::default().event("progress").data(&*json)));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The signature of the run folder the store says `run_id` was written to
/// (`reports::signature`); a run without a reachable folder is unsigned here.
async fn signature(run_dir: Option<String>) -> SignatureStatus {
    let Some(dir) = run_dir else {
        return SignatureStatus::Unsigned;
    };
    tokio::task::spawn_blocking(move || {
        let dir = std::path::Path::new(&dir);
        if dir.is_dir() {
            reports::signature::check(dir, None)
        } else {
            SignatureStatus::Unsigned
        }
    })
    .await
    .unwrap_or(SignatureStatus::Unsigned)
}

async fn run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Html<String>, PageError> {
    let (record, dir) = state
        .with_store(move |s| Ok((s.record(&run_id)?, s.run_dir(&run_id)?)))
        .await?;
    let sig = signature(dir).await;
    Ok(Html(pages::run(&record, &sig)?))
}

async fn report(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Html<String>, PageError> {
    let record = state.with_store(move |s| s.record(&run_id)).await?;
    Ok(Html(reports::html::render(&record)))
}

async fn meter(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Html<String>, PageError> {
    let sn = serial.clone();
    let trends = state
        .with_store(move |s| {
            let mut out = Vec::new();
            for (suite, id) in s.meter_points(&sn)? {
                let rows = s.trend(&sn, &suite, &id)?;
                out.push((suite, id, rows));
            }
            Ok(out)
        })
        .await?;
    if trends.is_empty() {
        return Err(PageError::NotFound(format!(
            "no points of a meter with serial `{serial}` in the store"
        )));
    }
    Ok(Html(pages::meter(&serial, &trends)?))
}

#[derive(Debug, Default, Deserialize)]
pub struct CompareQuery {
    baseline: Option<String>,
    candidate: Option<String>,
    /// Welch's significance level; default: the candidate plan's.
    alpha: Option<String>,
    /// The practical threshold as a fraction of the limit; default: the candidate plan's.
    fraction: Option<String>,
}

/// The thresholds the compare page applies and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub settings: CompareSettings,
    pub source: String,
}

/// A threshold given in the page's query, checked against the range the
/// plan's `[compare]` table allows (`harness::run::plan`).
fn given(
    name: &str,
    v: Option<String>,
    ok: fn(f64) -> bool,
    range: &str,
) -> Result<Option<f64>, PageError> {
    let Some(v) = nonempty(v) else {
        return Ok(None);
    };
    match v.trim().parse::<f64>() {
        Ok(x) if ok(x) => Ok(Some(x)),
        _ => Err(PageError::BadQuery(format!(
            "{name}={v}: must be a number {range}"
        ))),
    }
}

/// The candidate plan's `[compare]` thresholds, read from the plan copy in
/// its run folder when that copy is the plan the run used (by hash).
fn plan_thresholds(f: Option<PlanCompare>, dir: Option<&str>, c: &reports::Record) -> Thresholds {
    let defaults = |why: String| Thresholds {
        settings: CompareSettings::default(),
        source: format!("the gate's defaults ({why})"),
    };
    let Some(f) = f else {
        return defaults("this server reads no plan files".into());
    };
    let Some(dir) = dir else {
        return defaults("the store knows no run folder for the candidate".into());
    };
    let copy = std::path::Path::new(dir).join(reports::integrity::PLAN_COPY_FILE);
    if !copy.is_file() {
        return defaults(format!("{} not found", copy.display()));
    }
    if harness::run::events::FileRef::of(&copy).sha256 != c.plan.sha256 {
        return defaults(format!("{} is not the plan the run used", copy.display()));
    }
    match f(&copy) {
        Ok(settings) => Thresholds {
            settings,
            source: format!("the candidate's plan, {}", copy.display()),
        },
        Err(e) => defaults(e),
    }
}

async fn compare(
    State(state): State<AppState>,
    Query(q): Query<CompareQuery>,
) -> Result<Html<String>, PageError> {
    let alpha = given(
        "alpha",
        q.alpha,
        |x| x > 0.0 && x < 0.5,
        "within 0..0.5 (exclusive)",
    )?;
    let fraction = given(
        "fraction",
        q.fraction,
        |x| (0.0..=1.0).contains(&x),
        "within 0..=1",
    )?;
    let (Some(b), Some(c)) = (nonempty(q.baseline), nonempty(q.candidate)) else {
        return Ok(Html(pages::compare_form()));
    };
    let (br, cr, bdir, cdir) = state
        .with_store(move |s| {
            let b = s.resolve(&b)?;
            let c = s.resolve(&c)?;
            Ok((s.record(&b)?, s.record(&c)?, s.run_dir(&b)?, s.run_dir(&c)?))
        })
        .await?;
    // The thresholds `metrig compare` applies (the candidate plan's own),
    // unless the page's query gives others; the page names which.
    let f = state.plan_compare;
    let cr2 = cr.clone();
    let cdir2 = cdir.clone();
    let mut t = tokio::task::spawn_blocking(move || plan_thresholds(f, cdir2.as_deref(), &cr2))
        .await
        .map_err(|e| PageError::Worker(e.to_string()))?;
    if alpha.is_some() || fraction.is_some() {
        t.source = format!("given in the query (otherwise {})", t.source);
    }
    if let Some(a) = alpha {
        t.settings.alpha = a;
    }
    if let Some(x) = fraction {
        t.settings.practical_fraction_of_mpe = x;
    }
    let cmp = reports::compare::compare(
        &br,
        &cr,
        t.settings.alpha,
        t.settings.practical_fraction_of_mpe,
    );
    let sigs = (signature(bdir).await, signature(cdir).await);
    Ok(Html(pages::compare(&br, &cr, &cmp, &t, &sigs)))
}
