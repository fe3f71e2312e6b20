//! A fake `org.freedesktop.Notifications` server on the test's private session bus: it records
//! every `Notify` call so the test can assert what the app showed (and what it did not).

use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Notified {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Notified>>>);

impl Recorder {
    pub fn all(&self) -> Vec<Notified> {
        self.0.lock().unwrap().clone()
    }
}

struct Server {
    seen: Recorder,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &mut self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        self.seen.0.lock().unwrap().push(Notified {
            app_name,
            summary,
            body,
        });
        self.next_id += 1;
        self.next_id
    }

    async fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    async fn get_server_information(&self) -> (String, String, String, String) {
        (
            "coexist-e2e-fake".into(),
            "coexist".into(),
            "1.0".into(),
            "1.2".into(),
        )
    }

    async fn close_notification(&self, _id: u32) {}
}

/// Serve the fake on the bus at `address`; keep the returned connection alive for the test.
pub async fn serve(address: &str) -> anyhow::Result<(zbus::Connection, Recorder)> {
    let seen = Recorder::default();
    let conn = zbus::connection::Builder::address(address)?
        .name("org.freedesktop.Notifications")?
        .serve_at(
            "/org/freedesktop/Notifications",
            Server {
                seen: seen.clone(),
                next_id: 0,
            },
        )?
        .build()
        .await?;
    Ok((conn, seen))
}
