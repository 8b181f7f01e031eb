//! The vdc's VM create wizard: basics, installation media (the ISO picker), disk (size, and a pool on the
//! chosen ISO's node), review. The VM is defined on the node that holds the ISO.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use crate::api::Api;
use crate::components::{iso_picker::IsoPicker, layout::use_hydrated};
use crate::format;
use crate::model::{
    CreateVmRequest, Firmware, IsoMetadata, NodeInfo, PoolId, Proposal, VmDefinition, firmware_problem, vm_limits,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Basics = 1,
    Media = 2,
    Disk = 3,
    Review = 4,
}

const STEPS: [(Step, &str); 4] =
    [(Step::Basics, "Basics"), (Step::Media, "Installation media"), (Step::Disk, "Disk"), (Step::Review, "Review")];

#[component]
pub fn VmWizardPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let step = RwSignal::new(Step::Basics);
    let name = RwSignal::new(String::new());
    let vcpus = RwSignal::new(2u32);
    let memory_mib = RwSignal::new(2048u64);
    let disk_gib = RwSignal::new(20u64);
    let iso = RwSignal::new(None::<IsoMetadata>);
    let pool = RwSignal::new(String::new());
    let nodes = RwSignal::new(Vec::<NodeInfo>::new());
    let firmware = RwSignal::new(Firmware::Bios);
    let firmware_why = RwSignal::new(None::<&'static str>);
    let created = RwSignal::new(None::<VmDefinition>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let request = move || CreateVmRequest {
        name: name.get().trim().to_owned(),
        vcpus: vcpus.get(),
        memory_mib: memory_mib.get(),
        disk_gib: disk_gib.get(),
        iso_id: iso.get().map(|i| i.id).unwrap_or_default(),
        disk_pool_id: PoolId::parse(&pool.get()).ok(),
        firmware: Some(firmware.get()),
    };
    // Choosing the media proposes what it needs: its firmware, and an appliance's hardware.
    Effect::new(move |_| {
        let Some(chosen) = iso.get() else { return };
        let p = Proposal::for_image(&chosen);
        firmware.set(p.firmware);
        firmware_why.set(p.why);
        if let Some(v) = p.vcpus {
            vcpus.set(v);
        }
        if let Some(m) = p.memory_mib {
            memory_mib.set(m);
        }
        if let Some(d) = p.disk_gib {
            disk_gib.set(d);
        }
    });
    let firmware_warning = move || iso.with(|i| i.as_ref().and_then(|i| firmware_problem(firmware.get(), i)));
    // The same checks the API makes, as the user types.
    let basics_problem =
        move || request().check().err().filter(|_| !name.get().is_empty() || step.get() > Step::Basics);
    let node_of_iso = move || {
        let node_id = iso.get()?.node_id?;
        nodes.get().into_iter().find(|n| n.id == node_id)
    };
    let pools = move || node_of_iso().map(|n| n.pools).unwrap_or_default();
    let disk_problem = move || {
        let p = pools().into_iter().find(|p| p.id == pool.get())?;
        (disk_gib.get() << 30 > p.free_bytes).then(|| {
            format!("Pool {} has {} free; the disk needs {} GiB.", p.name, format::bytes(p.free_bytes), disk_gib.get())
        })
    };
    let can_leave = move |s: Step| match s {
        Step::Basics => request().check().is_ok(),
        Step::Media => iso.get().is_some(),
        Step::Disk => !pool.get().is_empty() && disk_problem().is_none(),
        Step::Review => true,
    };
    // Entering the disk step: the chosen ISO's node's pools, the roomiest first selected.
    let enter_disk = move || {
        let api = Api::current();
        spawn_local(async move {
            if let Ok(list) = api.nodes().await {
                nodes.set(list.nodes);
                if !pools().iter().any(|p| p.id == pool.get_untracked())
                    && let Some(best) = pools().into_iter().max_by_key(|p| p.free_bytes)
                {
                    pool.set(best.id.to_string());
                }
            }
        });
        step.set(Step::Disk);
    };
    let next = move |_| {
        error.set(None);
        match step.get() {
            Step::Basics => step.set(Step::Media),
            Step::Media => enter_disk(),
            Step::Disk => step.set(Step::Review),
            Step::Review => {}
        }
    };
    let back = move |_| {
        error.set(None);
        step.update(|s| {
            *s = match s {
                Step::Basics | Step::Media => Step::Basics,
                Step::Disk => Step::Media,
                Step::Review => Step::Disk,
            }
        })
    };
    let submit = move |_| {
        let (api, req) = (Api::current(), request());
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api.create_vm(&req).await {
                Ok(vm) => created.set(Some(vm)),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    view! {
        <Title text="New VM" />
        <section class="page">
            <div class="page-head">
                <h1>"Create a virtual machine"</h1>
                <a class="btn" href="/vms">"All VMs"</a>
            </div>
            <ol class="steps" aria-label="Steps">
                {STEPS.iter().map(|(s, label)| {
                    let s = *s;
                    view! {
                        <li aria-current=move || (step.get() == s).then_some("step") class:done=move || { step.get() > s }>
                            {format!("{}. {label}", s as u8)}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || created.get().map(|vm| view! {
                <div class="card" data-testid="vm-created">
                    <h3>{format!("{} is defined", vm.name)}</h3>
                    <p>{format!(
                        "It runs on {} with {} vCPU(s), {} of memory and a {} GiB disk on pool {}, booting from {}.",
                        vm.node_id, vm.vcpus, format::bytes(vm.memory_mib << 20), vm.disk_gib, vm.disk_pool_id,
                        vm.iso_filename.clone().unwrap_or_default()
                    )}</p>
                    <div class="toolbar">
                        <a class="btn" href=format!("/api/v1/vms/{}/domain.xml", vm.id) data-testid="domain-xml">"Libvirt domain XML"</a>
                        <a class="btn" href="/vms">"All VMs"</a>
                        <a class="btn btn-primary" href="/vms/new" rel="external">"Create another"</a>
                    </div>
                </div>
            })}
            <Show when=move || created.get().is_none()>
                <div class="card wizard" data-testid="wizard" data-step=move || (step.get() as u8).to_string()>
                    {move || match step.get() {
                        Step::Basics => view! {
                            <div class="form">
                                <label>"Name"
                                    <input type="text" autofocus data-testid="vm-name" maxlength=vm_limits::NAME_MAX.to_string()
                                        placeholder="e.g. web-01" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                                    <span class="field-hint">"Letters, digits, '-', '_' and '.'; unique in the cluster."</span>
                                </label>
                                <label>"vCPUs"
                                    <input type="number" data-testid="vm-vcpus" min=vm_limits::VCPUS.0 max=vm_limits::VCPUS.1
                                        prop:value=move || vcpus.get().to_string()
                                        on:input=move |ev| vcpus.set(event_target_value(&ev).parse().unwrap_or(0)) />
                                </label>
                                <label>"Memory (MiB)"
                                    <input type="number" data-testid="vm-memory" min=vm_limits::MEMORY_MIB.0 max=vm_limits::MEMORY_MIB.1 step="256"
                                        prop:value=move || memory_mib.get().to_string()
                                        on:input=move |ev| memory_mib.set(event_target_value(&ev).parse().unwrap_or(0)) />
                                </label>
                                <span class="field-error" role="alert" data-testid="basics-error">{basics_problem}</span>
                            </div>
                        }.into_any(),
                        Step::Media => view! {
                            <p class="muted">"Choose the ISO to install from. The VM will run on the host that holds it."</p>
                            <IsoPicker selected=iso />
                            <p data-testid="chosen-iso">{move || iso.get().map(|i| format!(
                                "Chosen: {} on {} ({})", i.filename, i.node(), i.path
                            ))}</p>
                            <p class="muted" data-testid="ova-hint">{move || iso.with(|i| i.as_ref().and_then(|i| i.ova.as_ref()).map(|o| format!(
                                "From the appliance's descriptor: {} vCPU(s), {} of memory, {} disk(s).",
                                o.vcpus.unwrap_or(0), format::bytes(o.memory_mib.unwrap_or(0) << 20), o.disks.len()
                            )))}</p>
                        }.into_any(),
                        Step::Disk => view! {
                            <div class="form">
                                <label>"Disk size (GiB)"
                                    <input type="number" data-testid="vm-disk" min=vm_limits::DISK_GIB.0 max=vm_limits::DISK_GIB.1
                                        prop:value=move || disk_gib.get().to_string()
                                        on:input=move |ev| disk_gib.set(event_target_value(&ev).parse().unwrap_or(0)) />
                                </label>
                                <label>{move || format!("Pool on {}", iso.with(|i| i.as_ref().map(|i| i.node().to_owned())).unwrap_or_default())}
                                    <select data-testid="vm-pool" prop:value=pool on:change=move |ev| pool.set(event_target_value(&ev))>
                                        {move || pools().into_iter().map(|p| {
                                            let label = format!("{} — {} free", p.name, format::bytes(p.free_bytes));
                                            view! { <option value=p.id.to_string()>{label}</option> }
                                        }).collect_view()}
                                    </select>
                                    <span class="field-hint">"The disk lives on the same host as the ISO."</span>
                                </label>
                                <label>"Firmware"
                                    <select data-testid="vm-firmware" prop:value=move || firmware.get().as_str()
                                        on:change=move |ev| firmware.set(Firmware::parse(&event_target_value(&ev)).unwrap_or_default())>
                                        <option value="bios">"BIOS"</option>
                                        <option value="uefi">"UEFI (OVMF)"</option>
                                    </select>
                                    <span class="field-hint" data-testid="firmware-why">{firmware_why}</span>
                                </label>
                                <span class="field-error" role="alert" data-testid="firmware-problem">{firmware_warning}</span>
                                <span class="field-error" role="alert">{disk_problem}</span>
                            </div>
                        }.into_any(),
                        Step::Review => {
                            let r = request();
                            let chosen = iso.get();
                            view! {
                                <dl class="review" data-testid="review">
                                    <dt>"Name"</dt><dd>{r.name}</dd>
                                    <dt>"vCPUs"</dt><dd>{r.vcpus}</dd>
                                    <dt>"Memory"</dt><dd>{format::bytes(r.memory_mib << 20)}</dd>
                                    <dt>"Disk"</dt><dd>{format!("{} GiB on pool {}", r.disk_gib, r.disk_pool_id.map(|p| p.to_string()).unwrap_or_default())}</dd>
                                    <dt>"Firmware"</dt><dd data-testid="review-firmware">{r.firmware.unwrap_or_default().as_str().to_ascii_uppercase()}</dd>
                                    <dt>"Installation media"</dt><dd>{chosen.as_ref().map(|i| i.filename.clone())}</dd>
                                    <dt>"Host"</dt><dd>{chosen.as_ref().map(|i| i.node().to_owned())}</dd>
                                    <dt>"ISO path"</dt><dd>{chosen.map(|i| i.path)}</dd>
                                </dl>
                            }.into_any()
                        }
                    }}
                    {move || error.get().map(|e| view! { <div class="notice notice-error" role="alert" data-testid="wizard-error">{e}</div> })}
                    <div class="dialog-actions">
                        <button class="btn" type="button" data-testid="wizard-back" disabled=move || !hydrated.get() || step.get() == Step::Basics on:click=back>
                            "Back"
                        </button>
                        {move || if step.get() == Step::Review {
                            view! {
                                <button class="btn btn-primary" type="button" data-testid="wizard-create" disabled=move || !hydrated.get() || busy.get() on:click=submit>
                                    "Create VM"
                                </button>
                            }.into_any()
                        } else {
                            view! {
                                <button class="btn btn-primary" type="button" data-testid="wizard-next" disabled=move || !hydrated.get() || !can_leave(step.get()) on:click=next>
                                    "Next"
                                </button>
                            }.into_any()
                        }}
                    </div>
                </div>
            </Show>
        </section>
    }
}
