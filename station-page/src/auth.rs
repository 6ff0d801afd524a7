//! The token check for a bind beyond loopback. A request carries the token
//! as `Authorization: Bearer TOKEN`, as the `metrig_token` cookie, or once as
//! `?token=TOKEN` (a browser's first visit; the answer then sets the cookie,
//! so links and the live view's EventSource, which cannot send headers,
//! keep working). Anything else gets 401.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::AppState;

const COOKIE: &str = "metrig_token";

/// Compares without an early exit, so the time taken does not tell how
/// much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

fn from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(b) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(b.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn from_query(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v.to_string())
}

/// The middleware: passes a request with the right token, else 401.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = state.token.as_deref() else {
        return next.run(req).await;
    };
    if from_headers(req.headers()).is_some_and(|t| same(&t, token)) {
        return next.run(req).await;
    }
    if from_query(req.uri().query()).is_some_and(|t| same(&t, token)) {
        let mut res = next.run(req).await;
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
        )) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
        return res;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "401: this station page needs its token (Authorization: Bearer, or ?token=)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_is_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
    }

    #[test]
    fn token_is_found_in_bearer_cookie_and_query() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; metrig_token=xyz"),
        );
        assert_eq!(from_headers(&h).as_deref(), Some("xyz"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer qq"));
        assert_eq!(from_headers(&h).as_deref(), Some("qq"));
        assert_eq!(from_query(Some("x=1&token=t")).as_deref(), Some("t"));
        assert_eq!(from_query(Some("x=1")), None);
    }
}
