//! The browser entry point: `hydrate` is called by the script the server puts in every page. Built once per
//! page group ([`app::Bundle`]), chosen by a cargo feature, so each page downloads only its own group's code.

use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(not(any(feature = "host", feature = "library", feature = "vms", feature = "account")))]
compile_error!("build the frontend for one page group: --features host, library, vms or account");

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(feature = "host")]
    leptos::mount::hydrate_body(app::NodeApp);
    #[cfg(feature = "library")]
    leptos::mount::hydrate_body(app::LibraryApp);
    #[cfg(feature = "vms")]
    leptos::mount::hydrate_body(app::VmsApp);
    #[cfg(feature = "account")]
    leptos::mount::hydrate_body(app::AccountApp);
}
