//! A fake `org.freedesktop.Notifications` server on the test's private session bus: it records
//! every `Notify` call so the test can assert what the app showed (and what it did not), and
//! clicks a notification as a real server reports it (the `ActionInvoked` signal).

use std::sync::{Arc, Mutex, OnceLock};

const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

#[derive(Clone, Debug)]
pub struct Notified {
    /// The id the server answered, which a click names.
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// Action keys and labels, in pairs (`"default"` is the click on the notification).
    pub actions: Vec<String>,
}

#[derive(Clone, Default)]
pub struct Recorder {
    seen: Arc<Mutex<Vec<Notified>>>,
    bus: Arc<OnceLock<zbus::Connection>>,
}

impl Recorder {
    pub fn all(&self) -> Vec<Notified> {
        self.seen.lock().unwrap().clone()
    }

    /// The user clicks notification `id`: the server says its default action was invoked.
    pub async fn click(&self, id: u32) {
        let bus = self.bus.get().expect("the fake notification server is serving");
        bus.emit_signal(None::<&str>, PATH, INTERFACE, "ActionInvoked", &(id, "default"))
            .await
            .expect("emit ActionInvoked");
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
        actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        self.next_id += 1;
        self.seen.seen.lock().unwrap().push(Notified {
            id: self.next_id,
            app_name,
            summary,
            body,
            actions,
        });
        self.next_id
    }

    async fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into()]
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
            PATH,
            Server {
                seen: seen.clone(),
                next_id: 0,
            },
        )?
        .build()
        .await?;
    let _ = seen.bus.set(conn.clone());
    Ok((conn, seen))
}
