//! `POST /registry`: the operator logs a change to the agency registry (a
//! `gazette.agency/v1` entry, `gazette_client::registry`). The entry's
//! signature by the log's own key is the authentication, as an agency's
//! is for its records; the sequencer decides, at the index the entry
//! would get, whether it keeps the registry's rules. A replayed entry is
//! refused by those rules (a key is registered once, cut off once).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use gazette_client::registry::{RegistryEntryError, RegistryError, SignedRegistryEntry};
use serde_json::{Value, json};

use super::error::ApiError;
use crate::log::Log;
use crate::registry::RegistryOutcome;

/// `POST /registry`: body, one signed registry entry; answers
/// `{"index"}` once it is durable; 403 unless the log's key signed it,
/// 409 when it breaks a rule of the registry as it stands.
pub async fn submit(State(log): State<Arc<Log>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    super::write::refuse_if_read_only(&log)?;
    let signed = SignedRegistryEntry::parse(&body).map_err(|e| match e {
        RegistryEntryError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
        _ => ApiError::Malformed(e.to_string()),
    })?;
    // Only the log's key opens the way to the sequencer.
    if !signed.signed_by(&log.verifier) {
        return Err(ApiError::Forbidden(
            RegistryError::NotSignedByLog {
                log: log.verifier.name().to_owned(),
            }
            .to_string(),
        ));
    }
    match log.sequencer.submit_registry(signed).await? {
        RegistryOutcome::Logged { index } => Ok(Json(json!({ "index": index }))),
        RegistryOutcome::Refused(why) => Err(match why {
            RegistryError::WrongLog { .. } | RegistryError::NotSignedByLog { .. } => {
                ApiError::Forbidden(why.to_string())
            }
            _ => ApiError::Refused(why.to_string()),
        }),
    }
}
