//! `GET /metrics`. Monitoring sends `server.health_token` as a bearer token
//! (as for `/readyz`'s details); supervisors' sessions may look too. With no
//! token configured, a scraper on this host or a private network is let in,
//! so Prometheus works out of the box while the public internet — where the
//! widget and the webhook live — never sees queue or mailbox names.

use std::net::IpAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::api::error::ApiError;
use crate::client_addr::ClientAddr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Loopback, RFC 1918, unique-local and link-local addresses.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local()
        }
    }
}

async fn metrics(
    State(state): State<AppState>,
    client: ClientAddr,
    mut parts: axum::http::request::Parts,
) -> Result<Response, ApiError> {
    let open_to_network = state.config.server.health_token.expose().is_empty() && is_private(client.0);
    if !open_to_network && !crate::web::sees_details(&state, &mut parts).await {
        return Err(ApiError::Forbidden(
            "send server.health_token as a bearer token to read the metrics".into(),
        ));
    }
    let sampled = super::sampled::read(&state).await?;
    let text = state
        .metrics
        .render(&sampled.registry())
        .map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_and_private_networks_count_as_private() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.5.5",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap_or(IpAddr::from([8, 8, 8, 8]))), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!is_private(ip.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))), "{ip}");
        }
    }
}
