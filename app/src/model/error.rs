use serde::{Deserialize, Serialize};

/// The JSON body of every error answer: `{ "error": "<code>", "message": "<sentence>", "request_id": "…" }`.
///
/// `error` is a stable machine code (`not_found`, `invalid_folder`, …); `message` is a sentence a person
/// can act on; `request_id` names the request in the server's log (also in the `x-request-id` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    /// Absent from older peers, and from answers made outside a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
