//! The vdc's VM create wizard.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::Api;
use crate::components::layout::use_hydrated;
use crate::components::status::{ErrorNotice, Loading};
use crate::model::ImageQuery;

#[component]
pub fn VmWizardPage() -> impl IntoView {
    let api = Api::current();
    let images = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            async move { api.list_images(&ImageQuery::default()).await }
        },
    );
    let hydrated = use_hydrated();
    let (name, set_name) = signal(String::new());
    let name_ok = move || {
        let n = name.get();
        !n.trim().is_empty() && n.len() <= 63
    };
    view! {
        <Title text="New VM" />
        <section class="page">
            <div class="page-head">
                <h1>"Create a virtual machine"</h1>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match images.await {
                        Ok(list) => {
                            view! {
                                <p class="muted">
                                    {format!("{} installation images available in the cluster.", list.images.len())}
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
            <form class="card form" on:submit=|ev| ev.prevent_default()>
                <label>
                    "Name"
                    <input
                        type="text"
                        data-testid="vm-name"
                        prop:value=name
                        on:input=move |ev| set_name.set(event_target_value(&ev))
                    />
                </label>
                <button
                    class="btn btn-primary"
                    type="submit"
                    data-testid="wizard-next"
                    disabled=move || !hydrated.get() || !name_ok()
                >
                    "Next"
                </button>
            </form>
        </section>
    }
}
