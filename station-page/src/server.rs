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

use crate::hub::Hub;
use crate::{PageError, pages};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    pub(crate) token: Option<Arc<str>>,
    pub(crate) hub: Arc<Hub>,
}

impl AppState {
    pub fn new(store: Store, token: Option<String>) -> AppState {
        AppState {
            store: Arc::new(Mutex::new(store)),
            token: token.map(Arc::from),
            hub: Arc::new(Hub::default()),
        }
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

async fn run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Html<String>, PageError> {
    let record = state.with_store(move |s| s.record(&run_id)).await?;
    Ok(Html(pages::run(&record)?))
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
}

async fn compare(
    State(state): State<AppState>,
    Query(q): Query<CompareQuery>,
) -> Result<Html<String>, PageError> {
    let (Some(b), Some(c)) = (nonempty(q.baseline), nonempty(q.candidate)) else {
        return Ok(Html(pages::compare_form()));
    };
    let (br, cr) = state
        .with_store(move |s| {
            let b = s.resolve(&b)?;
            let c = s.resolve(&c)?;
            Ok((s.record(&b)?, s.record(&c)?))
        })
        .await?;
    // The page reads no plan file: the gate's default thresholds, named on
    // the page; `metrig compare` applies the candidate plan's own.
    let settings = harness::run::plan::CompareSettings::default();
    let cmp =
        reports::compare::compare(&br, &cr, settings.alpha, settings.practical_fraction_of_mpe);
    Ok(Html(pages::compare(&br, &cr, &cmp)))
}
