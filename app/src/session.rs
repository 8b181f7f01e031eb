//! Who is signed in on this page, on both sides of hydration. While rendering, the server provides the
//! user as context and writes them into the page's `<head>` (meta tags, outside what hydration
//! touches); the browser reads them back from there. No request and no JSON decoding in the bundle.

use crate::Role;
use crate::model::{Me, UserRole};

/// `<meta name=…>` of the page's user, role and CSRF token.
pub const USER_META: &str = "quantix-user";
pub const ROLE_META: &str = "quantix-role";
pub const CSRF_META: &str = "csrf-token";

/// The signed-in user the page is for; `None` on the sign-in page.
pub fn signed_in() -> Option<Me> {
    #[cfg(feature = "hydrate")]
    {
        let username = dom::meta(USER_META)?;
        let role = UserRole::parse(&dom::meta(ROLE_META)?)?;
        Some(Me { username, role, csrf_token: dom::meta(CSRF_META).unwrap_or_default() })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        leptos::prelude::use_context::<crate::model::SignedIn>().map(|s| s.0)
    }
}

/// Whether the page may offer upload, move, delete and folder controls (the API refuses them anyway).
pub fn can_write() -> bool {
    signed_in().is_some_and(|m| m.role.can_write())
}

/// Whether the page may link to the audit log.
pub fn is_admin() -> bool {
    signed_in().is_some_and(|m| m.role == UserRole::Admin)
}

/// The CSRF token every write made with the session cookie carries.
pub fn csrf_token() -> String {
    signed_in().map(|m| m.csrf_token).unwrap_or_default()
}

/// The role whose page this is (pages served by both roles ask).
pub fn page_role() -> Role {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("data-role"))
            .and_then(|r| Role::parse(&r))
            .unwrap_or(Role::Vdc)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        leptos::prelude::use_context::<Role>().unwrap_or(Role::Vdc)
    }
}

/// Where the sign-in page sends a user afterwards: a path of this site only (never `//host` or a URL:
/// the `next` parameter comes from a link anyone can craft).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']) => {
            n.to_owned()
        }
        _ => "/images".to_owned(),
    }
}

#[cfg(feature = "hydrate")]
mod dom {
    pub fn meta(name: &str) -> Option<String> {
        let doc = web_sys::window()?.document()?;
        doc.query_selector(&format!("meta[name=\"{name}\"]")).ok()??.get_attribute("content")
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/vms/new?x=1")), "/vms/new?x=1");
        for hostile in ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""] {
            assert_eq!(safe_next(Some(hostile)), "/images", "{hostile}");
        }
        assert_eq!(safe_next(None), "/images");
    }
}
