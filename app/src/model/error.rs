use serde::{Deserialize, Serialize};

/// The JSON body of every error answer: `{ "error": "<code>", "message": "<sentence>" }`.
///
/// `error` is a stable machine code (`not_found`, `invalid_folder`, …); `message` is a sentence a person
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}
