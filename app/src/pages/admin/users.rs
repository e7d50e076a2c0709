use leptos::prelude::*;

use super::{confirm, local_time, Pager, RequireAdmin};
use crate::{
    api::{AdminUser, Role},
    calls::{self, ApiFailure},
    i18n::{role_name, t, tf, Msg},
};

const PAGE_SIZE: u32 = 20;

/// Users: search, paging, and role, active and session controls, each
/// confirmed first.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let page = RwSignal::new(1u32);
    let search = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let users = LocalResource::new(move || calls::admin_users(page.get(), search.get()));
    let outcome = RwSignal::new(None::<Result<Msg, String>>);
    let total = Signal::derive(move || {
        users
            .get()
            .and_then(|r| r.ok())
            .map(|p| p.total)
            .unwrap_or(0)
    });

    let act = move |question: String,
                    done: Msg,
                    call: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), ApiFailure>>>,
    >| {
        if !confirm(&question) {
            drop(call);
            return;
        }
        leptos::task::spawn_local(async move {
            let result = call.await;
            outcome.set(Some(result.map(|()| done).map_err(|e| failure_text(&e))));
            users.refetch();
        });
    };

    let row = move |u: AdminUser| {
        let AdminUser { user, created_at } = u;
        let (id, name) = (user.id, user.username.clone());
        let (next_role, role_action) = match user.role {
            Role::Admin => (Role::User, Msg::AdminUsersMakeUser),
            Role::User => (Role::Admin, Msg::AdminUsersMakeAdmin),
        };
        let active = user.is_active;
        let toggle_role = {
            let name = name.clone();
            move |_| {
                let question = tf(
                    Msg::AdminUsersConfirmRole,
                    &[("name", &name), ("role", role_name(next_role))],
                );
                act(
                    question,
                    Msg::AdminUsersRoleChanged,
                    Box::pin(async move { calls::set_role(id, next_role).await.map(|_| ()) }),
                )
            }
        };
        let toggle_active = {
            let name = name.clone();
            move |_| {
                let (question, done) = if active {
                    (Msg::AdminUsersConfirmDeactivate, Msg::AdminUsersDeactivated)
                } else {
                    (Msg::AdminUsersConfirmReactivate, Msg::AdminUsersReactivated)
                };
                act(
                    tf(question, &[("name", &name)]),
                    done,
                    Box::pin(async move { calls::set_active(id, !active).await.map(|_| ()) }),
                )
            }
        };
        let end_sessions = {
            let name = name.clone();
            move |_| {
                act(
                    tf(Msg::AdminUsersConfirmEndSessions, &[("name", &name)]),
                    Msg::AdminUsersSessionsEnded,
                    Box::pin(async move { calls::revoke_sessions(id).await.map(|_| ()) }),
                )
            }
        };
        let send_reset = {
            let name = name.clone();
            move |_| {
                act(
                    tf(Msg::AdminUsersConfirmSendReset, &[("name", &name)]),
                    Msg::AdminUsersResetSent,
                    Box::pin(calls::admin_password_reset(id)),
                )
            }
        };
        view! {
            <tr data-username=name.clone()>
                <td>{name.clone()}</td>
                <td>{user.email}</td>
                <td>{user.full_name}</td>
                <td class="role" data-role=user.role.as_str()>{role_name(user.role)}</td>
                <td class="active">
                    {if active { t(Msg::AdminUsersStatusActive) } else { t(Msg::AdminUsersStatusDeactivated) }}
                </td>
                <td><time datetime=created_at.clone()>{local_time(&created_at)}</time></td>
                <td class="row-actions">
                    <button type="button" class="button secondary small" on:click=toggle_role>{t(role_action)}</button>
                    <button type="button" class="button secondary small" on:click=toggle_active>
                        {if active { t(Msg::AdminUsersDeactivate) } else { t(Msg::AdminUsersReactivate) }}
                    </button>
                    <button type="button" class="button secondary small" on:click=end_sessions>{t(Msg::AdminUsersEndSessions)}</button>
                    <button type="button" class="button secondary small" on:click=send_reset>{t(Msg::AdminUsersSendReset)}</button>
                </td>
            </tr>
        }
    };

    view! {
        <RequireAdmin>
            <section class="card wide">
                <h1>{t(Msg::AdminUsersTitle)}</h1>
                <form class="toolbar" role="search" on:submit=move |ev| {
                    ev.prevent_default();
                    page.set(1);
                    search.set(typed.get_untracked());
                }>
                    <label for="user-search">{t(Msg::AdminUsersSearchLabel)}</label>
                    <input id="user-search" type="search" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
                    <button type="submit" class="button small">{t(Msg::AdminUsersSearch)}</button>
                </form>
                <p id="admin-outcome" aria-live="polite" class=move || match outcome.get() { Some(Err(_)) => "error", _ => "muted" }>
                    {move || outcome.get().map(|o| o.map(|done| t(done).to_string()).unwrap_or_else(|e| e))}
                </p>
                <div class="table-wrap">
                    <table id="users-table">
                        <thead>
                            <tr>
                                <th>{t(Msg::AdminUsersColUsername)}</th>
                                <th>{t(Msg::AdminUsersColEmail)}</th>
                                <th>{t(Msg::AdminUsersColFullName)}</th>
                                <th>{t(Msg::AdminUsersColRole)}</th>
                                <th>{t(Msg::AdminUsersColStatus)}</th>
                                <th>{t(Msg::AdminUsersColCreated)}</th>
                                <th>{t(Msg::AdminUsersColActions)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || match users.get() {
                                None => view! { <tr><td colspan="7" class="muted">{t(Msg::AdminLoading)}</td></tr> }.into_any(),
                                Some(Err(e)) => view! { <tr><td colspan="7" class="error">{failure_text(&e)}</td></tr> }.into_any(),
                                Some(Ok(page)) => page.items.into_iter().map(row).collect_view().into_any(),
                            }}
                        </tbody>
                    </table>
                </div>
                <Pager page=page total=total page_size=PAGE_SIZE/>
            </section>
        </RequireAdmin>
    }
}

fn failure_text(e: &ApiFailure) -> String {
    match e.errors().first() {
        Some(first) if first != &e.message() => format!("{} {}", e.message(), first),
        _ => e.message(),
    }
}
