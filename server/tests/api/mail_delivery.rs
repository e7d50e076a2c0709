//! Mail is sent after the response and never lost: a dead or stalled relay
//! costs the client nothing, a failed send waits in the outbox and goes out
//! once the relay is back (once, across a restart too), and with no relay
//! each mail is a private `.eml` file.

use std::{
    os::unix::fs::PermissionsExt,
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::{helpers::*, on_every_backend, on_every_backend_with_mail};

const MAIL_WAIT: Duration = Duration::from_secs(15);

impl TestApp {
    /// Waits until the outbox holds a mail of `kind` whose send failed and
    /// waits for its retry.
    async fn wait_for_failed_send(&self, kind: &'static str) {
        let deadline = Instant::now() + MAIL_WAIT;
        while self
            .count(
                "SELECT COUNT(*) FROM outbox WHERE last_error IS NOT NULL AND kind = $1",
                kind,
            )
            .await
            == 0
        {
            assert!(
                Instant::now() < deadline,
                "no failed send of {kind} was recorded"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn outbox_len(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM outbox WHERE kind <> $1", "")
            .await
    }
}

on_every_backend_with_mail! {
    async fn a_mail_written_while_the_relay_is_down_is_sent_once_it_is_back(app, relay) {
        relay.stop();
        let started = Instant::now();
        app.register("patient").await;
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        app.wait_for_failed_send("verify_email").await;
        assert!(relay.received().is_empty());

        relay.resume().await;
        // The retry is due after the backoff, not before.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(relay.received().is_empty(), "retried before its backoff");
        app.clock.advance(11);
        let mails = relay.wait_for("patient@example.com", 1, MAIL_WAIT).await;
        assert_eq!(mails[0].subject(), "Confirm your email address");
        // The link of the retried mail works.
        assert_eq!(app.verify(&mails[0].token()).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(relay.to("patient@example.com").len(), 1, "sent exactly once");
        assert_eq!(app.outbox_len().await, 0);
    }

    async fn the_outbox_survives_a_restart(app, relay) {
        relay.stop();
        app.register("durable").await;
        app.wait_for_failed_send("verify_email").await;
        app.restart().await;
        relay.resume().await;
        app.clock.advance(11);
        let mails = relay.wait_for("durable@example.com", 1, MAIL_WAIT).await;
        assert_eq!(app.verify(&mails[0].token()).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(relay.to("durable@example.com").len(), 1, "sent exactly once");
    }

    async fn a_stalled_relay_costs_the_client_nothing(app, relay) {
        relay.set_delay(Duration::from_secs(5));
        let started = Instant::now();
        app.register("unhurried").await;
        assert_eq!(app.forgot("unhurried@example.com").await.0, StatusCode::ACCEPTED);
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        relay.set_delay(Duration::ZERO);
    }
}

on_every_backend! {
    async fn with_no_relay_each_mail_is_a_private_file_with_its_link(app with &[("PUBLIC_URL", "https://auth.example.com")]) {
        app.register("offline").await;
        let outbox = app.dir.path().join("data").join("outbox");
        let deadline = Instant::now() + MAIL_WAIT;
        let file = loop {
            let found = std::fs::read_dir(&outbox)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "eml"));
            if let Some(file) = found {
                break file;
            }
            assert!(Instant::now() < deadline, "no .eml in {}", outbox.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        let mail = Received {
            from: String::new(),
            to: vec![],
            data: std::fs::read(&file).unwrap(),
        };
        assert_eq!(mail.subject(), "Confirm your email address");
        mail.link("https://auth.example.com/verify-email?token=");
        let (status, body) = app.verify(&mail.token()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["emailVerified"], true);
    }
}
