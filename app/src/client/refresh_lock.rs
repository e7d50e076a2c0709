//! One refresh at a time across every tab of this site, with the Web Locks
//! API (`navigator.locks.request`). Where a browser lacks it, the server's
//! grace window still gives concurrent refreshes the same new token.

use std::{cell::RefCell, future::Future, rc::Rc};

use futures::channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};

const LOCK_NAME: &str = "auth-refresh";

/// Runs `job` while holding the cross-tab refresh lock.
pub async fn with_refresh_lock<T: 'static>(job: impl Future<Output = T> + 'static) -> T {
    let locks = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &JsValue::from_str("locks")).ok())
        .filter(|l| !l.is_undefined() && !l.is_null());
    let request = locks
        .as_ref()
        .and_then(|l| Reflect::get(l, &JsValue::from_str("request")).ok())
        .and_then(|f| f.dyn_into::<Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return job.await;
    };

    // The job waits in a slot, so it can still run unlocked if the lock
    // request fails.
    let slot = Rc::new(RefCell::new(Some(Box::pin(job))));
    let (done, result) = oneshot::channel::<T>();
    let in_lock = slot.clone();
    // The lock is held until the promise returned by the callback settles.
    let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        wasm_bindgen_futures::future_to_promise(async move {
            let job = in_lock.borrow_mut().take();
            if let Some(job) = job {
                let _ = done.send(job.await);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    if request
        .call2(&locks, &JsValue::from_str(LOCK_NAME), &callback)
        .is_err()
    {
        leptos::logging::warn!("navigator.locks.request failed; refreshing without the lock");
    }
    if let Ok(value) = result.await {
        return value;
    }
    let job = slot.borrow_mut().take();
    match job {
        Some(job) => job.await,
        None => unreachable!("the job ran and sent its result"),
    }
}
