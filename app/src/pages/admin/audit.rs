use leptos::prelude::*;

use super::{local_time, Pager, RequireAdmin};
use crate::{
    api::AuditKind,
    calls::{self, AuditQuery},
};

/// The audit log: filters by user, kind, IP and time range, a page at a time,
/// times in the viewer's time zone.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let page = RwSignal::new(1u32);
    let applied = RwSignal::new(AuditQuery::default());
    let (user_id, kind, ip, from, to) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let events = LocalResource::new(move || {
        calls::audit(AuditQuery {
            page: page.get(),
            ..applied.get()
        })
    });
    let total = Signal::derive(move || {
        events
            .get()
            .and_then(|r| r.ok())
            .map(|p| p.total)
            .unwrap_or(0)
    });
    let input = |id: &'static str,
                 label: &'static str,
                 kind: &'static str,
                 value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type=kind prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            </div>
        }
    };

    view! {
        <RequireAdmin>
            <section class="card wide">
                <h1>"Audit log"</h1>
                <form class="filters" on:submit=move |ev| {
                    ev.prevent_default();
                    page.set(1);
                    applied.set(AuditQuery {
                        page: 1,
                        user_id: user_id.get_untracked(),
                        kind: kind.get_untracked(),
                        ip: ip.get_untracked(),
                        from: to_rfc3339(&from.get_untracked()),
                        to: to_rfc3339(&to.get_untracked()),
                    });
                }>
                    {input("filter-user", "User id", "text", user_id)}
                    <div class="field">
                        <label for="filter-kind">"Event"</label>
                        <select id="filter-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="">"Any"</option>
                            {AuditKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    {input("filter-ip", "IP address", "text", ip)}
                    {input("filter-from", "From", "datetime-local", from)}
                    {input("filter-to", "To", "datetime-local", to)}
                    <button type="submit" class="button small">"Apply filters"</button>
                </form>
                <div class="table-wrap">
                    <table id="audit-table">
                        <thead>
                            <tr><th>"Time"</th><th>"Event"</th><th>"User"</th><th>"IP"</th><th>"User agent"</th><th>"Detail"</th></tr>
                        </thead>
                        <tbody>
                            {move || match events.get() {
                                None => view! { <tr><td colspan="6" class="muted">"Loading…"</td></tr> }.into_any(),
                                Some(Err(e)) => view! { <tr><td colspan="6" class="error">{e.message()}</td></tr> }.into_any(),
                                Some(Ok(page)) => page
                                    .items
                                    .into_iter()
                                    .map(|e| view! {
                                        <tr>
                                            <td><time datetime=e.occurred_at.clone()>{local_time(&e.occurred_at)}</time></td>
                                            <td class="kind">{e.kind.as_str()}</td>
                                            <td>{e.username.or(e.user_id.map(|id| format!("#{id}"))).unwrap_or_default()}</td>
                                            <td>{e.ip.unwrap_or_default()}</td>
                                            <td class="ua">{e.user_agent.unwrap_or_default()}</td>
                                            <td>{e.detail.unwrap_or_default()}</td>
                                        </tr>
                                    })
                                    .collect_view()
                                    .into_any(),
                            }}
                        </tbody>
                    </table>
                </div>
                <Pager page=page total=total page_size=20/>
            </section>
        </RequireAdmin>
    }
}

/// A `datetime-local` value (the viewer's time zone) as RFC 3339 UTC.
fn to_rfc3339(local: &str) -> String {
    #[cfg(feature = "hydrate")]
    if !local.is_empty() {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(local));
        if !date.get_time().is_nan() {
            return date.to_iso_string().into();
        }
    }
    let _ = local;
    String::new()
}
