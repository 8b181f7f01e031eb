//! `Json` and `Query` extractors whose rejections are the shared JSON error body (axum's own answer in
//! plain text).

use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ApiError;

#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                rejection.status(),
                "body_too_large",
                "The request body is larger than this endpoint accepts.",
            )),
            Err(rejection) => Err(ApiError::bad_request("invalid_body", sentence(rejection.body_text()))),
        }
    }
}

#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(rejection) => Err(ApiError::bad_request("invalid_query", sentence(rejection.body_text()))),
        }
    }
}

/// axum's rejection texts lack a final full stop; ours are sentences.
pub fn sentence(text: String) -> String {
    let trimmed = text.trim_end_matches('.');
    format!("{trimmed}.")
}

/// An id (a UUID) from the path's `{id}`: an image, a VM. Malformed ids are a 400 with the shared body.
#[derive(Debug)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::bad_request("invalid_id", sentence(r.body_text())))?;
        Uuid::parse_str(&raw).map(PathId).map_err(|_| {
            let shown: String = raw.chars().take(80).flat_map(char::escape_debug).collect();
            ApiError::bad_request("invalid_id", format!("\"{shown}\" is not a valid id (a UUID)."))
        })
    }
}

/// How the API document describes a [`PathId`]: the path's `{id}`, a UUID. Handlers list it as
/// `params(PathId)`, so the extractor and its description are one thing.
impl utoipa::IntoParams for PathId {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::{
            KnownFormat, ObjectBuilder, Required, SchemaFormat, Type,
            path::{ParameterBuilder, ParameterIn},
        };
        let uuid =
            ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(
                    "The id (a UUID) of what the path names; another text is refused with 400 `invalid_id`.",
                ))
                .schema(Some(uuid))
                .build(),
        ]
    }
}
