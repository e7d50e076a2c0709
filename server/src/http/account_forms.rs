//! The account pages' forms, posted before the app has loaded (or without
//! JavaScript): forgot and reset a password, verify an address, and the
//! signed-in user's own account. Each does what its API call does, then
//! redirects (303) to its page with a notice, or renders the page again
//! with what went wrong. Tokens of mailed links travel in the form's body,
//! never in the URL it posts to.

use app::api::{AccountUpdate, Locale, PasswordChangeRequest, ResetPasswordRequest};
use app::i18n::Msg;
use axum::response::{IntoResponse, Redirect, Response};

use super::{account::start_forgot_password, error::ApiError, forms::PostedForm, session};
use crate::auth::{recovery::forgot_address, AuthError};

/// `POST /forgot-password`: the same answer whether or not the address has
/// an account, like the API's.
pub async fn forgot_password(form: PostedForm) -> Response {
    let email = form.field("email");
    match forgot_address(&email) {
        Ok(address) => {
            start_forgot_password(&form.state, address.as_str(), form.client.clone());
            Redirect::to("/forgot-password?sent=1").into_response()
        }
        Err(e) => form.refused(e.into(), vec![("email".into(), email)]).await,
    }
}

/// `POST /reset-password`: on success the user signs in with the new password.
pub async fn reset_password(form: PostedForm) -> Response {
    let req = ResetPasswordRequest {
        token: form.field("token"),
        new_password: form.field("newPassword"),
        confirm_password: form.field("confirmPassword"),
    };
    match form.state.auth.reset_password(&req, &form.client).await {
        Ok(()) => Redirect::to("/login?reason=password-reset").into_response(),
        // The page needs the token again for the next try.
        Err(e) => {
            form.refused(e.into(), vec![("token".into(), req.token)])
                .await
        }
    }
}

/// `POST /verify-email`.
pub async fn verify_email(form: PostedForm) -> Response {
    let token = form.field("token");
    match form.state.auth.verify_email(&token, &form.client).await {
        Ok(_) => Redirect::to("/verify-email?verified=1").into_response(),
        Err(e) => form.refused(e.into(), vec![("token".into(), token)]).await,
    }
}

/// `POST /account`: one of the account page's forms, named by `form`. The
/// page middleware has sent a signed-out browser to the login page already.
pub async fn account(form: PostedForm) -> Response {
    let Some((user_id, family_id)) = session::signed_in_as(&form.browser).await else {
        return Redirect::to("/login?next=%2Faccount").into_response();
    };
    let intent = form.field("form");
    let auth = &form.state.auth;
    let done = match intent.as_str() {
        "profile" => {
            let locale = match form.field("locale").as_str() {
                "" => None,
                tag => match Locale::parse(tag) {
                    Some(locale) => Some(locale),
                    None => {
                        let e = AuthError::Validation(vec![Msg::ApiChooseLanguage.into()]);
                        return refused(form, intent, e).await;
                    }
                },
            };
            let update = AccountUpdate {
                full_name: Some(form.field("fullName")),
                locale,
            };
            auth.update_account(user_id, &update).await.map(|_| ())
        }
        "email" => {
            auth.request_email_change(
                user_id,
                &form.field("newEmail"),
                &form.field("currentPassword"),
                &form.client,
            )
            .await
        }
        "password" => {
            let req = PasswordChangeRequest {
                current_password: form.field("currentPassword"),
                new_password: form.field("newPassword"),
                confirm_password: form.field("confirmPassword"),
            };
            auth.change_password(user_id, &family_id, &req, &form.client)
                .await
        }
        "resend" => auth.resend_verification(user_id).await,
        "delete" if form.field("confirm") != "yes" => {
            Err(AuthError::Validation(vec![Msg::ApiConfirmDeletion.into()]))
        }
        "delete" => {
            match auth
                .delete_account(user_id, &form.field("currentPassword"), &form.client)
                .await
            {
                Ok(()) => {
                    session::forget(&form.browser).await;
                    return Redirect::to("/login?reason=account-deleted").into_response();
                }
                Err(e) => Err(e),
            }
        }
        _ => Err(AuthError::Validation(vec![Msg::ApiUnknownForm.into()])),
    };
    match done {
        Ok(()) => Redirect::to(&format!("/account?done={intent}")).into_response(),
        Err(e) => refused(form, intent, e).await,
    }
}

/// The account page again, with the failure shown at the form it belongs to.
async fn refused(form: PostedForm, intent: String, e: AuthError) -> Response {
    let mut typed = vec![("form".to_string(), intent)];
    for name in ["fullName", "newEmail"] {
        typed.push((name.to_string(), form.field(name)));
    }
    form.refused(ApiError::from(e), typed).await
}
