//! `GET /i18n/{tag}.{version}.json`: the texts of a language, for the
//! browser app (its bundle holds none). The name carries the version
//! of the texts, so a browser may keep the file for good.

use app::i18n::{self, Locale, CATALOG_VERSION};
use axum::{
    extract::Path,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

pub async fn catalog(Path(file): Path<String>) -> Response {
    let Some((tag, version)) = file
        .strip_suffix(".json")
        .and_then(|name| name.split_once('.'))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(locale) = Locale::parse(tag) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An older page asking for older texts gets today's, but must not keep them.
    let cache = if version == CATALOG_VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        i18n::catalog_json(locale),
    )
        .into_response()
}
