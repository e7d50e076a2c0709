use leptos::prelude::*;

use super::{local_time, Pager, RequireAdmin};
use crate::{
    api::AuditKind,
    calls::{self, AuditQuery},
    i18n::{t, Msg},
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
                <h1>{t(Msg::AdminAuditTitle)}</h1>
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
                    {input("filter-user", t(Msg::AdminAuditFilterUser), "text", user_id)}
                    <div class="field">
                        <label for="filter-kind">{t(Msg::AdminAuditFilterEvent)}</label>
                        <select id="filter-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="">{t(Msg::AdminAuditFilterAny)}</option>
                            {AuditKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{kind_label(*k)}</option> }).collect_view()}
                        </select>
                    </div>
                    {input("filter-ip", t(Msg::AdminAuditFilterIp), "text", ip)}
                    {input("filter-from", t(Msg::AdminAuditFilterFrom), "datetime-local", from)}
                    {input("filter-to", t(Msg::AdminAuditFilterTo), "datetime-local", to)}
                    <button type="submit" class="button small">{t(Msg::AdminAuditApply)}</button>
                </form>
                <div class="table-wrap">
                    <table id="audit-table">
                        <thead>
                            <tr>
                                <th>{t(Msg::AdminAuditColTime)}</th>
                                <th>{t(Msg::AdminAuditColEvent)}</th>
                                <th>{t(Msg::AdminAuditColUser)}</th>
                                <th>{t(Msg::AdminAuditColIp)}</th>
                                <th>{t(Msg::AdminAuditColUserAgent)}</th>
                                <th>{t(Msg::AdminAuditColDetail)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || match events.get() {
                                None => view! { <tr><td colspan="6" class="muted">{t(Msg::AdminLoading)}</td></tr> }.into_any(),
                                Some(Err(e)) => view! { <tr><td colspan="6" class="error">{e.message()}</td></tr> }.into_any(),
                                Some(Ok(page)) => page
                                    .items
                                    .into_iter()
                                    .map(|e| view! {
                                        <tr>
                                            <td><time datetime=e.occurred_at.clone()>{local_time(&e.occurred_at)}</time></td>
                                            <td class="kind" data-kind=e.kind.as_str() title=e.kind.as_str()>{kind_label(e.kind)}</td>
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

/// The name of an event as the console shows it; its wire name stays
/// [`AuditKind::as_str`].
fn kind_label(kind: AuditKind) -> &'static str {
    t(match kind {
        AuditKind::Register => Msg::AdminKindRegister,
        AuditKind::LoginSucceeded => Msg::AdminKindLoginSucceeded,
        AuditKind::LoginFailed => Msg::AdminKindLoginFailed,
        AuditKind::Lockout => Msg::AdminKindLockout,
        AuditKind::Refresh => Msg::AdminKindRefresh,
        AuditKind::RefreshReuseDetected => Msg::AdminKindRefreshReuseDetected,
        AuditKind::Revoke => Msg::AdminKindRevoke,
        AuditKind::RoleChanged => Msg::AdminKindRoleChanged,
        AuditKind::UserDeactivated => Msg::AdminKindUserDeactivated,
        AuditKind::UserReactivated => Msg::AdminKindUserReactivated,
        AuditKind::SessionsRevoked => Msg::AdminKindSessionsRevoked,
        AuditKind::SessionEnded => Msg::AdminKindSessionEnded,
        AuditKind::LogoutAll => Msg::AdminKindLogoutAll,
        AuditKind::PasswordChanged => Msg::AdminKindPasswordChanged,
        AuditKind::EmailVerified => Msg::AdminKindEmailVerified,
        AuditKind::PasswordResetRequested => Msg::AdminKindPasswordResetRequested,
        AuditKind::PasswordReset => Msg::AdminKindPasswordReset,
        AuditKind::EmailChangeRequested => Msg::AdminKindEmailChangeRequested,
        AuditKind::EmailChanged => Msg::AdminKindEmailChanged,
        AuditKind::AccountDeleted => Msg::AdminKindAccountDeleted,
    })
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
