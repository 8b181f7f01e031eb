//! The one place that knows how a request leaves the page: `fetch` in the browser, an in-process call into
//! the REST router during server-side rendering.

use serde::de::DeserializeOwned;

use super::ApiError;

/// A handle for calling the API of the server that rendered the page. Get one with [`Api::current`].
#[derive(Clone)]
pub struct Api {
    #[cfg(feature = "ssr")]
    service: ApiService,
    /// The extensions of the page request being rendered: among them, who is calling (the server's
    /// resolved caller), so the in-process call is made as that user.
    #[cfg(feature = "ssr")]
    extensions: http::Extensions,
}

/// The REST router as a cloneable service, provided as context by the server for rendering.
#[cfg(feature = "ssr")]
pub type ApiService = tower::util::BoxCloneSyncService<
    http::Request<axum::body::Body>,
    http::Response<axum::body::Body>,
    std::convert::Infallible,
>;

#[cfg(feature = "ssr")]
impl Api {
    pub fn new(service: ApiService, extensions: http::Extensions) -> Self {
        Self { service, extensions }
    }

    /// The API of the server rendering this page. Call it in a component body, not inside a future: the
    /// handle lives in the reactive context.
    pub fn current() -> Self {
        leptos::prelude::expect_context::<Api>()
    }

    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<T, ApiError> {
        use tower::ServiceExt;
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body.unwrap_or_default()))
            .map_err(|e| ApiError::Network(e.to_string()))?;
        *request.extensions_mut() = self.extensions.clone();
        let response = match self.service.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let bytes =
            axum::body::to_bytes(response.into_body(), 64 << 20).await.map_err(|e| ApiError::Network(e.to_string()))?;
        ApiError::decode(status, &String::from_utf8_lossy(&bytes))
    }
}

#[cfg(not(feature = "ssr"))]
impl Api {
    pub fn current() -> Self {
        Self {}
    }

    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<T, ApiError> {
        #[cfg(feature = "hydrate")]
        {
            // Browser futures are not `Send`; the page runs on one thread, so wrapping them is sound.
            send_wrapper::SendWrapper::new(browser::fetch(method.to_owned(), path.to_owned(), body))
                .await
                .and_then(|(status, text)| ApiError::decode(status, &text))
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (method, path, body);
            Err(ApiError::Network("no transport in this build".into()))
        }
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::ApiError;

    fn js_err(e: JsValue) -> ApiError {
        ApiError::Network(e.as_string().unwrap_or_else(|| format!("{e:?}")))
    }

    pub async fn fetch(method: String, path: String, body: Option<String>) -> Result<(u16, String), ApiError> {
        let init = web_sys::RequestInit::new();
        init.set_method(&method);
        let headers = web_sys::Headers::new().map_err(js_err)?;
        headers.set("accept", "application/json").map_err(js_err)?;
        if method != "GET" {
            headers.set(crate::model::CSRF_HEADER, &crate::session::csrf_token()).map_err(js_err)?;
        }
        if let Some(body) = body {
            headers.set("content-type", "application/json").map_err(js_err)?;
            init.set_body(&JsValue::from_str(&body));
        }
        init.set_headers(&headers);
        let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(&path, &init)).await.map_err(js_err)?.unchecked_into();
        let text = JsFuture::from(response.text().map_err(js_err)?).await.map_err(js_err)?;
        Ok((response.status(), text.as_string().unwrap_or_default()))
    }
}
