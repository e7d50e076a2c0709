//! Two loads at once: logins during a page flood, and validation through two
//! processes that share PostgreSQL and Redis.

use reqwest::Client;

use super::{
    bcrypt_hash_secs,
    loads::{bearer_load, login_load},
    register, row, text, Run,
};
use crate::{
    load::Summary,
    server::{Server, Shared},
    wrk, Row,
};

impl Run {
    /// Logins (8 at once) while 32 connections ask for pages as fast as the
    /// server renders them: the logins must keep a share of the cores.
    pub(super) async fn logins_during_a_page_flood(
        &self,
        backend: &str,
        server: &Server,
        client: &Client,
    ) -> Row {
        eprintln!("[{backend}] logins during a page flood");
        let logins = tokio::spawn(login_load(
            self.budget(),
            8,
            client.clone(),
            server.url("/api/auth/login"),
        ));
        let pages = if self.use_wrk {
            wrk::page(
                &server.url("/login"),
                32,
                self.duration,
                self.wrk_cap(server, client),
            )
            .await
        } else {
            let target = vec![(client.clone(), server.url("/login"), String::new())];
            Summary::from(&bearer_load(self.budget(), 32, target).await)
        };
        let logins = logins.await.expect("logins");
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let limit = cores / bcrypt_hash_secs(self.bcrypt_cost);
        let note = format!(
            "{:.2} of the bcrypt limit ({limit:.1}/s), beside {:.0} pages/s (p99 {:.1} ms)",
            logins.rps() / limit,
            pages.rps,
            pages.p99_ms
        );
        row(
            backend,
            "login during a page flood",
            &logins,
            server.take_peak_rss_mb(),
            note,
        )
    }

    /// Two processes on one PostgreSQL and Redis: tokens issued by the first,
    /// validated through both, revoked through the second.
    pub(super) async fn scale_out(
        &self,
        backend: &str,
        shared: &Shared,
        first: &Server,
        client: &Client,
    ) -> Row {
        eprintln!("[{backend}] scale-out");
        let second = Server::start(&self.server, shared, self.bcrypt_cost);
        let issued = register(
            client,
            first,
            &format!("scale{}", uuid::Uuid::new_v4().simple()),
        )
        .await;
        let token = text(&issued, "accessToken");
        let targets = vec![
            (
                client.clone(),
                first.url("/api/auth/validate"),
                token.clone(),
            ),
            (
                client.clone(),
                second.url("/api/auth/validate"),
                token.clone(),
            ),
        ];
        let stats = bearer_load(self.budget(), 32, targets).await;
        let rss = first.take_peak_rss_mb().max(second.take_peak_rss_mb());
        let revoked = client
            .post(second.url("/api/auth/revoke"))
            .bearer_auth(&token)
            .send()
            .await
            .map(|r| r.status() == 200);
        let rejected = client
            .get(first.url("/api/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .map(|r| r.status() == 401);
        let note = match (revoked, rejected) {
            (Ok(true), Ok(true)) => "revoked via B, rejected by A at once".to_string(),
            _ => "REVOCATION NOT SHARED".to_string(),
        };
        row(backend, "scale-out: validate x2", &stats, rss, note)
    }
}
