//! The vdc's list of VM definitions.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::Api;
use crate::components::{
    actions::{Actions, Notice},
    dialog::ConfirmDialog,
    status::{empty_state, error_notice, loading},
};
use crate::format;
use crate::model::VmDefinition;
use crate::session::can_write;

#[component]
pub fn VmsPage() -> impl IntoView {
    let api = Api::current();
    let deleting = RwSignal::new(None::<VmDefinition>);
    let actions = Actions::new(Callback::new(move |_| deleting.set(None)));
    let vms = Resource::new(
        move || actions.done.get(),
        move |_| {
            let api = api.clone();
            async move { api.vms().await }
        },
    );
    let writable = can_write();
    view! {
        <Title text="Virtual machines" />
        <section class="page">
            <div class="page-head">
                <h1>"Virtual machines"</h1>
                {writable.then(|| view! { <a class="btn btn-primary" href="/vms/new" data-testid="new-vm">"New VM"</a> })}
            </div>
            <Notice notice=actions.notice />
            <Transition fallback=loading>
                {move || vms.get().map(|r| match r {
                    Err(error) => error_notice(error).into_any(),
                    Ok(list) if list.vms.is_empty() => empty_state("No VM yet", "Create one with the wizard: it boots from an ISO of the library, on the host that holds it.").into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="images" data-testid="vms">
                                <thead><tr><th>"Name"</th><th>"Host"</th><th class="num">"vCPUs"</th><th class="num">"Memory"</th><th>"Disk"</th><th>"Installation media"</th><th class="cell-actions"><span class="sr-only">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.vms.into_iter().map(|vm| {
                                        let for_delete = vm.clone();
                                        view! {
                                            <tr data-testid="vm-row" data-name=vm.name.clone()>
                                                <td class="cell-name">{vm.name.clone()}</td>
                                                <td>{vm.node_id.to_string()}</td>
                                                <td class="num">{vm.vcpus}</td>
                                                <td class="num">{format::bytes(vm.memory_mib << 20)}</td>
                                                <td>{format!("{} GiB on {}", vm.disk_gib, vm.disk_pool_id)}</td>
                                                <td>{vm.iso_filename.clone().unwrap_or_else(|| "(no longer in the catalogue)".into())}<div class="cell-sub">{vm.iso_path.clone()}</div></td>
                                                <td class="cell-actions">
                                                    <a class="btn btn-small" href=format!("/api/v1/vms/{}/domain.xml", vm.id) data-testid="vm-xml">"Domain XML"</a>
                                                    {writable.then(|| view! {
                                                        " "
                                                        <button class="btn btn-small btn-danger" type="button" on:click=move |_| { actions.reset(); deleting.set(Some(for_delete.clone())) }>"Delete"</button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
        </section>
        {move || deleting.get().map(|vm| view! {
            <ConfirmDialog
                title=format!("Delete {}?", vm.name)
                message=format!("The definition of {} is removed. Nothing runs yet, so nothing stops; its ISO can be deleted afterwards.", vm.name)
                confirm_label="Delete VM"
                on_confirm=Callback::new(move |_| {
                    let (api, vm) = (Api::current(), vm.clone());
                    actions.run(async move {
                        api.delete_vm(&vm.id.to_string()).await?;
                        Ok(format!("Deleted the definition of {}.", vm.name))
                    })
                })
                on_close=actions.close
                busy=actions.busy
                error=actions.error
            />
        })}
    }
}
