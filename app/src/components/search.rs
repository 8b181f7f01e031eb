//! The search box of an image list: the URL follows after a short pause in typing.

use leptos::prelude::*;

/// `initial` is the search the page shows now; `on_search` gets the trimmed text once typing paused.
pub fn search_box(
    initial: String,
    placeholder: &'static str,
    on_search: Callback<String>,
    enabled: ReadSignal<bool>,
) -> impl IntoView {
    let text = RwSignal::new(initial);
    let typed = RwSignal::new(0u64);
    view! {
        <input
            class="search"
            type="search"
            placeholder=placeholder
            aria-label=placeholder
            data-testid="search"
            disabled=move || !enabled.get()
            prop:value=text
            on:input=move |ev| {
                text.set(event_target_value(&ev));
                let generation = typed.get_untracked() + 1;
                typed.set(generation);
                set_timeout(
                    move || {
                        if typed.get_untracked() == generation {
                            on_search.run(text.get_untracked().trim().to_owned());
                        }
                    },
                    std::time::Duration::from_millis(250),
                );
            }
        />
    }
}
