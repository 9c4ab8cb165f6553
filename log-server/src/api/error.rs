//! The one place where failures become HTTP statuses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gazette_client::record::RecordError;
use serde_json::json;

use crate::sequencer::SubmitError;
use crate::stored::StoredError;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request does not parse.
    #[error("{0}")]
    Malformed(String),
    /// 403: the issuer is not registered or its signature does not verify.
    #[error("{0}")]
    Forbidden(String),
    /// 404: nothing at this path (or not yet).
    #[error("{0}")]
    NotFound(String),
    /// 409: the same (issuer, kind, id) is logged with another digest.
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// Index of the record already logged.
        existing: u64,
    },
    /// 409: a registry change that breaks the registry's rules.
    #[error("{0}")]
    Refused(String),
    /// 413: the body or a record is too large.
    #[error("{0}")]
    TooLarge(String),
    /// 415: the body is not of the type the route reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: the agency is over its rate limit.
    #[error("{0}")]
    RateLimited(crate::rate::RateLimited),
    /// 503: overloaded; retry after the given seconds.
    #[error("{message}")]
    Overloaded {
        /// Why.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 507: the disk is full; retry after the given seconds.
    #[error("{message}")]
    InsufficientStorage {
        /// Why.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 500: the server failed.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The status for this failure.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::Refused(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage { .. } => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds the client should wait before retrying, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Overloaded { retry_after, .. }
            | ApiError::InsufficientStorage { retry_after, .. } => Some(*retry_after),
            // Whole seconds, rounded up: retrying early only fails again.
            ApiError::RateLimited(limited) => Some(
                limited.retry_after.as_secs() + u64::from(limited.retry_after.subsec_nanos() > 0),
            ),
            _ => None,
        }
    }

    /// The JSON body: `{"error": ..., "status": ...}` plus the conflicting
    /// index for a 409.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({ "error": self.to_string(), "status": self.status().as_u16() });
        if let ApiError::Conflict { existing, .. } = self {
            body["index"] = json!(existing);
        }
        body
    }
}

impl From<RecordError> for ApiError {
    fn from(err: RecordError) -> Self {
        match err {
            RecordError::TooLarge { .. } => ApiError::TooLarge(err.to_string()),
            RecordError::UnknownIssuer { .. }
            | RecordError::BadSignature { .. }
            | RecordError::IssuerMismatch { .. } => ApiError::Forbidden(err.to_string()),
            RecordError::Malformed { .. }
            | RecordError::Note(_)
            | RecordError::SignatureCount { .. } => ApiError::Malformed(err.to_string()),
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(err: SubmitError) -> Self {
        match err {
            SubmitError::QueueFull { .. } => ApiError::Overloaded {
                message: err.to_string(),
                retry_after: 1,
            },
            SubmitError::Failed(_) => ApiError::Internal(err.to_string()),
            SubmitError::Storage(ref trouble) => trouble_error(trouble, err.to_string()),
        }
    }
}

impl ApiError {
    /// 503 for what a log serving a read-only data directory cannot do
    /// (`what`), with why; it comes back by itself once the directory is
    /// writable.
    pub fn read_only(log: &crate::log::Log, what: &str) -> ApiError {
        let why = log
            .read_only
            .as_deref()
            .unwrap_or("the log only serves reads");
        ApiError::Overloaded {
            message: format!("{what}, and {why}"),
            retry_after: gazette_kit::takeover::EVERY.as_secs(),
        }
    }
}

/// Storage trouble being retried, as an answer: 507 for a full disk, 503
/// otherwise, both with `Retry-After`.
pub fn trouble_error(trouble: &crate::sequencer::StorageTrouble, message: String) -> ApiError {
    match trouble.disk_full {
        true => ApiError::InsufficientStorage {
            message,
            retry_after: 10,
        },
        false => ApiError::Overloaded {
            message,
            retry_after: 2,
        },
    }
}

impl From<StoredError> for ApiError {
    fn from(err: StoredError) -> Self {
        match err {
            StoredError::OutOfRange(message) => ApiError::NotFound(message),
            StoredError::Storage(message) => ApiError::Internal(message),
        }
    }
}

impl From<crate::index::IndexError> for ApiError {
    fn from(err: crate::index::IndexError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::Internal(_)) {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
