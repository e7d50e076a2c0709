//! A real SMTP server for the tests: it speaks the protocol over TCP on a
//! free port and keeps every mail it accepts. It can be stopped (the port
//! refuses connections, as a dead relay does) and started again on the
//! same port.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::Notify,
    task::JoinHandle,
};

/// A mail as the relay received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("an RFC 5322 message")
    }

    pub fn subject(&self) -> String {
        use mailparse::MailHeaderMap;
        self.parsed()
            .headers
            .get_first_value("Subject")
            .unwrap_or_default()
    }

    /// The decoded body of the part of type `mime` (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> String {
        fn find(part: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if part.ctype.mimetype == mime {
                return part.get_body().ok();
            }
            part.subparts.iter().find_map(|p| find(p, mime))
        }
        find(&self.parsed(), mime).unwrap_or_else(|| panic!("no {mime} part"))
    }

    /// The link of the plain-text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        self.part("text/plain")
            .lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link to {prefix} in {}", self.part("text/plain")))
            .trim()
            .to_string()
    }

    /// The `token` of the mail's link.
    pub fn token(&self) -> String {
        let text = self.part("text/plain");
        let link = text
            .lines()
            .find(|line| line.contains("?token="))
            .unwrap_or_else(|| panic!("no link in {text}"));
        link.split("?token=").nth(1).unwrap().trim().to_string()
    }
}

#[derive(Default)]
struct Inbox {
    mails: Mutex<Vec<Received>>,
    arrived: Notify,
    /// How long the relay takes before each reply (a slow relay).
    delay: Mutex<Duration>,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
    server: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inbox = Arc::new(Inbox::default());
        let server = Some(tokio::spawn(serve(listener, inbox.clone())));
        SmtpSink {
            addr,
            inbox,
            server,
        }
    }

    /// `SMTP_URL` for a server that sends through this relay.
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// Makes the relay wait this long before each reply.
    pub fn set_delay(&self, delay: Duration) {
        *self.inbox.delay.lock().unwrap() = delay;
    }

    /// Stops listening: connections are refused until [`SmtpSink::resume`].
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.server = Some(tokio::spawn(serve(listener, self.inbox.clone())));
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.mails.lock().unwrap().clone()
    }

    /// The mails to `address`.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits (at most `within`) until `count` mails to `address` have
    /// arrived; returns them.
    pub async fn wait_for(&self, address: &str, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.inbox.arrived.notified();
            let mails = self.to(address);
            if mails.len() >= count {
                return mails;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "{} of {count} mails to {address} arrived within {within:?}",
                    self.to(address).len()
                );
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: TcpListener, inbox: Arc<Inbox>) {
    // The sessions belong to this task: stopping the relay (aborting it)
    // drops the connections it had open too.
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                sessions.spawn(session(stream, inbox.clone()));
            }
            Err(_) => return,
        }
    }
}

/// One SMTP session (RFC 5321): several mails may go through it.
async fn session(stream: TcpStream, inbox: Arc<Inbox>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to, mut line) = (String::new(), Vec::new(), Vec::new());
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let delay = *inbox.delay.lock().unwrap();
        tokio::time::sleep(delay).await;
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address_of(&command[10..]);
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address_of(&command[8..]));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = Vec::new();
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                if line == b".\r\n" {
                    break;
                }
                // A leading dot is doubled on the wire (RFC 5321 4.5.2).
                data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
            }
            inbox.mails.lock().unwrap().push(Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            });
            inbox.arrived.notify_waiters();
            b"250 OK queued\r\n"
        } else if upper == "RSET" {
            to.clear();
            b"250 OK\r\n"
        } else if upper == "NOOP" {
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// `<a@b> BODY=8BITMIME` → `a@b`.
fn address_of(s: &str) -> String {
    s.split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}
