//! One refresh at a time across every tab of this site, with the Web Locks
//! API (`navigator.locks.request`). Where a browser lacks it, refuses it
//! (the call throws, or its promise rejects), the refresh runs unlocked:
//! the server's grace window still gives concurrent refreshes the same new
//! token.

use std::{cell::RefCell, future::Future, rc::Rc};

use futures::channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;

const LOCK_NAME: &str = "auth-refresh";

/// Runs `job` while holding the cross-tab refresh lock, or without it when
/// the lock cannot be had.
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
    // request fails; whoever takes it first runs it.
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
    let granted = request
        .call2(&locks, &JsValue::from_str(LOCK_NAME), &callback)
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok());
    let Some(granted) = granted else {
        leptos::logging::warn!("navigator.locks.request failed; refreshing without the lock");
        return run_unlocked(&slot, result).await;
    };
    // The request's promise settles once the callback's job is done, or
    // rejects when the lock is refused.
    if JsFuture::from(granted).await.is_err() {
        leptos::logging::warn!("the refresh lock was refused; refreshing without it");
    }
    run_unlocked(&slot, result).await
}

/// The job's result: from the lock's callback if it ran the job, else by
/// running it here.
async fn run_unlocked<T, F: Future<Output = T>>(
    slot: &Rc<RefCell<Option<std::pin::Pin<Box<F>>>>>,
    result: oneshot::Receiver<T>,
) -> T {
    let job = slot.borrow_mut().take();
    match job {
        Some(job) => job.await,
        None => match result.await {
            Ok(value) => value,
            // The callback took the job and dropped it unfinished (the page
            // is going away): nothing is waiting for the answer any more.
            Err(_) => std::future::pending().await,
        },
    }
}
