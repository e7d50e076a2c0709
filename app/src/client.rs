//! Browser-only code: calls to the JSON API.

use serde::de::DeserializeOwned;

use crate::api::Envelope;

/// GETs a public endpoint and unwraps the envelope.
pub async fn get_public<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let response = gloo_net::http::Request::get(path)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let envelope: Envelope<T> = response.json().await.map_err(|e| e.to_string())?;
    match envelope.data {
        Some(data) if envelope.is_success => Ok(data),
        _ => Err(envelope.message),
    }
}
