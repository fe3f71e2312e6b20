//! `coexist`: the headless Coexist Inbox client (same engine as the desktop app).
//!
//! ```text
//! coexist demo                                   # a simulated Meta + bridge on loopback
//! export COEXIST_BRIDGE_URL=http://127.0.0.1:PORT COEXIST_TOKEN=... COEXIST_DB=inbox.db
//! coexist sync --once
//! coexist list --filter unread
//! coexist show 110200300400501 14155550111
//! coexist send text 110200300400501 14155550111 "Hello!"
//! coexist send template 110200300400501 14155550111 order_update --lang en_US --param Ana --param A-1
//! coexist search shirt --export-format csv
//! coexist export --search shirt --format csv --out hits.csv
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use coexist_core::{ContactKey, ConversationKey, Side};
use coexist_engine::export::{self, terminal_safe, ExportFormat};
use coexist_engine::{
    display_name, Engine, EngineConfig, EngineEvent, Notifier, OutgoingFile, SyncMode,
};
use coexist_store::{ConversationFilter, SearchQuery, SnippetPart};

#[path = "../cli/admin.rs"]
mod admin_cli;
#[path = "../cli/campaign.rs"]
mod campaign_cli;
#[path = "../cli/template_args.rs"]
mod template_args;

#[derive(Parser)]
#[command(name = "coexist", version, about = "Coexist Inbox from the terminal: sync, read, search, send, export")]
struct Cli {
    /// The bridge's base URL, e.g. https://bridge.example.com
    #[arg(long, global = true, env = "COEXIST_BRIDGE_URL", default_value = "http://127.0.0.1:8080")]
    bridge: String,
    /// Your agent token (from `coexist-bridge add-user`).
    #[arg(long, global = true, env = "COEXIST_TOKEN", default_value = "", hide_env_values = true)]
    token: String,
    /// The local inbox database file.
    #[arg(long, global = true, env = "COEXIST_DB", default_value = "coexist-inbox.db")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pull new events from the bridge into the local inbox (and send queued messages).
    Sync {
        /// Pull what is there and exit, instead of following live.
        #[arg(long)]
        once: bool,
        #[arg(long, value_enum, default_value = "stream")]
        mode: Mode,
        /// Relay events asked for per request.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: u32,
        /// The most relay events applied in one transaction while catching up a backlog.
        #[arg(long, default_value_t = coexist_store::BACKLOG_BATCH as u32, value_parser = clap::value_parser!(u32).range(1..))]
        max_batch: u32,
    },
    /// List conversations, newest first.
    List {
        #[arg(long, value_enum)]
        filter: Option<ListFilter>,
        /// Only this business number.
        #[arg(long)]
        number: Option<String>,
        /// Only conversations carrying this label.
        #[arg(long)]
        label: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show a conversation's latest messages and pending sends.
    Show {
        /// The business number's Meta phone_number_id.
        phone_number_id: String,
        /// The customer's number (digits, country code first).
        contact: String,
        #[arg(long, default_value_t = 30)]
        limit: u32,
    },
    /// Send a message (queued in the local outbox, then sent through the bridge).
    #[command(subcommand)]
    Send(SendCommand),
    /// Try a failed send again (same idempotency key: it can never go out twice).
    Retry { idempotency_key: String },
    /// Give a conversation to a teammate (`--to NAME`), or back to the whole team (`--nobody`).
    Assign {
        phone_number_id: String,
        contact: String,
        #[arg(long, conflicts_with = "nobody")]
        to: Option<String>,
        #[arg(long)]
        nobody: bool,
    },
    /// Mark a conversation done (`--undo`: take it up again); the customer writing reopens it.
    Done {
        phone_number_id: String,
        contact: String,
        #[arg(long, conflicts_with = "snooze_hours")]
        undo: bool,
        /// Snooze: done for this many hours, then back on the queues.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=8784))]
        snooze_hours: Option<u32>,
    },
    /// Leave a note for the team on a conversation (the customer never sees it).
    Note { phone_number_id: String, contact: String, text: String },
    /// Put a label on a conversation for the whole team (`--remove`: take it off).
    Label {
        phone_number_id: String,
        contact: String,
        label: String,
        #[arg(long)]
        remove: bool,
    },
    /// Block a conversation's customer on its number, through Meta (`--unblock`: let them
    /// write again). Meta blocks only customers who wrote in the last 24 hours.
    Block {
        phone_number_id: String,
        contact: String,
        #[arg(long)]
        unblock: bool,
    },
    /// Who conversations can be assigned to.
    Team,
    /// The team's quick replies: answers typed as /shortcut in the app's reply box.
    #[command(subcommand)]
    QuickReply(QuickReplyCommand),
    /// Find people (by name or number), then every message and note that holds the words.
    Search {
        /// Words to find (plain text; word prefixes, accents and case ignored).
        text: String,
        #[command(flatten)]
        filters: SearchFilters,
    },
    /// Export a conversation or search results.
    Export {
        /// `PHONE_NUMBER_ID:CONTACT`
        #[arg(long, conflicts_with = "search", required_unless_present = "search")]
        conversation: Option<String>,
        #[arg(long)]
        search: Option<String>,
        #[command(flatten)]
        filters: SearchFilters,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        #[arg(long)]
        out: PathBuf,
    },
    /// Manage people, numbers and the webhook quarantine (needs an admin token).
    #[command(subcommand)]
    Admin(admin_cli::AdminCommand),
    /// Bulk template sends (campaigns): plan with ETA, start, pause, resume, status, failure report.
    #[command(subcommand)]
    Campaign(campaign_cli::CampaignCommand),
    /// Start a simulated Meta and a bridge on loopback, print how to connect, run until Ctrl-C.
    Demo {
        /// Where the demo keeps its files (recreated each time).
        #[arg(long, default_value = "coexist-demo")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum QuickReplyCommand {
    /// List them (as this inbox has them; `sync --once` first for the latest).
    List,
    /// Save one for the whole team (replaces one of that shortcut).
    Set { shortcut: String, text: String },
    Remove { shortcut: String },
}

#[derive(Subcommand)]
enum SendCommand {
    /// Free text (only while the customer's 24-hour window is open).
    Text {
        /// The business number's Meta phone_number_id.
        phone_number_id: String,
        /// The customer's number (digits, country code first).
        contact: String,
        /// What to say (at most 4,096 characters).
        text: String,
        /// Reply to this message of the conversation (its wamid, from `show`): quoted above.
        #[arg(long)]
        reply_to: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// A text with choices the customer taps to answer: up to 3 as buttons, 4 to 10 as a list
    /// (only while the window is open).
    Buttons {
        /// The business number's Meta phone_number_id.
        phone_number_id: String,
        /// The customer's number (digits, country code first).
        contact: String,
        /// The text above the buttons (at most 1,024 characters).
        text: String,
        /// A choice (at most 20 characters as a button, 24 in a list); give 1 to 10, e.g. --button Yes --button No.
        #[arg(long = "button", required = true)]
        buttons: Vec<String>,
        /// Reply to this message of the conversation (its wamid, from `show`): quoted above.
        #[arg(long)]
        reply_to: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// An approved template (any time).
    Template {
        /// The business number's Meta phone_number_id.
        phone_number_id: String,
        /// The customer's number (digits, country code first).
        contact: String,
        /// The template's name, e.g. order_update.
        name: String,
        /// The template's language code.
        #[arg(long, default_value = "en_US")]
        lang: String,
        #[command(flatten)]
        params: template_args::TemplateArgs,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// A photo, document, audio or video file (only while the window is open), uploaded through
    /// the bridge; JPEG/PNG up to 5 MB, PDF/Office/text up to 100 MB, audio and video up to 16 MB.
    File {
        /// The business number's Meta phone_number_id.
        phone_number_id: String,
        /// The customer's number (digits, country code first).
        contact: String,
        path: PathBuf,
        /// Text shown under the photo, video or document.
        #[arg(long, default_value = "")]
        caption: String,
        /// The file's MIME type, when its extension does not tell (e.g. application/pdf).
        #[arg(long = "type")]
        mime_type: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Args)]
struct WaitArgs {
    /// Only queue it; a running `coexist sync` or the app sends it.
    #[arg(long)]
    no_wait: bool,
    /// How long to wait for rate limits / the bridge before leaving it queued, seconds.
    #[arg(long, default_value_t = 30)]
    wait_secs: u64,
}

#[derive(Args)]
struct SearchFilters {
    #[arg(long)]
    number: Option<String>,
    #[arg(long)]
    contact: Option<String>,
    #[arg(long)]
    agent: Option<String>,
    #[arg(long, value_enum)]
    side: Option<SideArg>,
    /// From this Unix time (seconds).
    #[arg(long)]
    from: Option<i64>,
    /// Up to this Unix time (seconds).
    #[arg(long)]
    to: Option<i64>,
    /// Only in conversations carrying this label.
    #[arg(long)]
    label: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Stream,
    LongPoll,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFilter {
    /// Conversations assigned to you, or unassigned ones you answered last through Coexist (not done).
    Mine,
    /// Conversations nobody on the team is assigned to (and not done).
    Unassigned,
    /// Customers who wrote last, longest waiting first (not done, not blocked).
    Waiting,
    /// Conversations marked done (until the customer writes again).
    Done,
    /// Conversations last answered from the WhatsApp Business App.
    App,
    /// Windows closing within the hour.
    Closing,
    Unread,
}

#[derive(Clone, Copy, ValueEnum)]
enum SideArg {
    Customer,
    Api,
    App,
    History,
}

/// Notifications go to stderr in the terminal.
struct PrintNotifier;

impl Notifier for PrintNotifier {
    fn notify(&self, _about: Option<&coexist_core::ConversationKey>, title: &str, body: &str) {
        eprintln!("🔔 {} — {}", terminal_safe(title, 80), terminal_safe(body, 200));
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Demo { dir } = &cli.command {
        return demo(dir).await;
    }
    if let Command::Admin(cmd) = cli.command {
        // No local inbox needed: admin commands talk to the bridge only.
        return admin_cli::run(&coexist_engine::BridgeClient::new(&cli.bridge, &cli.token), cmd).await;
    }
    let mut config = EngineConfig::new(&cli.bridge, &cli.token);
    if let Command::Sync { mode, page_size, max_batch, .. } = &cli.command {
        config.sync.page_size = *page_size;
        config.sync.max_batch = *max_batch as usize;
        if let Mode::LongPoll = mode {
            config.sync.mode = SyncMode::LongPoll;
        }
    }
    let engine = Engine::open(&cli.db, config, Arc::new(PrintNotifier))
        .with_context(|| format!("opening the local inbox {}", cli.db.display()))?;
    match cli.command {
        Command::Sync { once: true, .. } => sync_once(&engine).await,
        Command::Sync { once: false, .. } => follow(&engine).await,
        Command::List { filter, number, label, limit } => list(&engine, filter, number, label, limit).await,
        Command::Show { phone_number_id, contact, limit } => show(&engine, &key(&phone_number_id, &contact)?, limit),
        Command::Send(cmd) => send(&engine, cmd).await,
        Command::Retry { idempotency_key } => {
            let item = engine.retry(&idempotency_key)?;
            let report = engine.drain_outbox(Duration::from_secs(30)).await?;
            print_item_state(&engine, &item.idempotency_key)?;
            eprintln!("sent {}, failed {}, waiting {}", report.sent, report.failed, report.waiting);
            Ok(())
        }
        Command::Assign { phone_number_id, contact, to, nobody } => {
            if to.is_none() && !nobody {
                bail!("say to whom: --to NAME (see `coexist team`), or --nobody to give it back to the whole team");
            }
            let key = key(&phone_number_id, &contact)?;
            engine.assign(&key, to.as_deref()).await?;
            println!("{} is {}", key.contact.as_str(), to.map_or("the whole team's".to_string(), |t| format!("assigned to {t}")));
            Ok(())
        }
        Command::Done { phone_number_id, contact, undo, snooze_hours } => {
            let until_ms = snooze_hours.map(|h| (now() + i64::from(h) * 3600) * 1000);
            engine.mark_done(&key(&phone_number_id, &contact)?, !undo, until_ms).await?;
            match (undo, until_ms) {
                (true, _) => println!("taken up again"),
                (false, Some(until)) => println!("snoozed until {} (or until the customer writes)", export::rfc3339(until / 1000)),
                (false, None) => println!("done (until the customer writes again)"),
            }
            Ok(())
        }
        Command::Note { phone_number_id, contact, text } => {
            engine.add_note(&key(&phone_number_id, &contact)?, &text).await?;
            println!("note left for the team");
            Ok(())
        }
        Command::Label { phone_number_id, contact, label, remove } => {
            engine.label(&key(&phone_number_id, &contact)?, &label, !remove).await?;
            println!("{} {}", if remove { "label taken off:" } else { "labelled" }, terminal_safe(&label, 40));
            Ok(())
        }
        Command::Block { phone_number_id, contact, unblock } => {
            engine.set_blocked(&key(&phone_number_id, &contact)?, !unblock).await?;
            println!("{} {}", if unblock { "unblocked" } else { "blocked" }, terminal_safe(&contact, 64));
            Ok(())
        }
        Command::QuickReply(QuickReplyCommand::List) => {
            let replies = engine.store().lock().map_err(|_| anyhow!("store lock poisoned"))?.quick_replies()?;
            if replies.is_empty() {
                println!("no quick replies yet: `coexist quick-reply set SHORTCUT TEXT` adds one for the team");
            }
            for q in replies {
                println!("/{:<24} {}  (by {})", terminal_safe(&q.shortcut, 24), terminal_safe(&q.text, 200), terminal_safe(&q.updated_by, 60));
            }
            Ok(())
        }
        Command::QuickReply(QuickReplyCommand::Set { shortcut, text }) => {
            engine.save_quick_reply(&shortcut, Some(&text)).await?;
            println!("saved for the team: /{}", shortcut.trim().trim_start_matches('/').to_lowercase());
            Ok(())
        }
        Command::QuickReply(QuickReplyCommand::Remove { shortcut }) => {
            engine.save_quick_reply(&shortcut, None).await?;
            println!("removed");
            Ok(())
        }
        Command::Team => {
            for member in engine.team().await? {
                println!("{} ({})", terminal_safe(&member.name, 60), member.role);
            }
            Ok(())
        }
        Command::Search { text, filters } => search(&engine, &text, &filters),
        Command::Export { conversation, search, filters, format, out } => {
            export_cmd(&engine, conversation, search, &filters, format, &out)
        }
        Command::Campaign(cmd) => campaign_cli::run(&engine, cmd).await,
        Command::Demo { .. } | Command::Admin(_) => unreachable!("handled above"),
    }
}

fn key(phone_number_id: &str, contact: &str) -> Result<ConversationKey> {
    let contact = contact.trim().trim_start_matches('+');
    if phone_number_id.trim().is_empty() || contact.is_empty() {
        bail!("give the business phone_number_id and the contact (the customer's number, digits only)");
    }
    Ok(ConversationKey { phone_number_id: phone_number_id.trim().to_string(), contact: ContactKey(contact.to_string()) })
}

async fn sync_once(engine: &Engine) -> Result<()> {
    let report = engine.sync_once().await?;
    println!("applied {} events, cursor {}, {} new messages", report.applied, report.cursor, report.new_inbound);
    if !report.problems.is_empty() {
        println!("{} events could not be understood (kept; seqs {:?})", report.problems.len(), report.problems);
    }
    engine.check_closing_windows()?;
    Ok(())
}

async fn follow(engine: &Engine) -> Result<()> {
    let mut events = engine.subscribe();
    let tasks = engine.start();
    eprintln!("following {} — Ctrl-C to stop", engine.client().base_url());
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            ev = events.recv() => match ev {
                Ok(ev) => print_event(&ev),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("({n} updates skipped)"),
                Err(_) => break,
            }
        }
    }
    tasks.stop();
    Ok(())
}

fn print_event(ev: &EngineEvent) {
    match ev {
        EngineEvent::NewInbound { sender, preview, conversation, .. } => {
            println!("← {} ({}): {}", terminal_safe(sender, 40), conversation.contact.as_str(), terminal_safe(preview, 120))
        }
        EngineEvent::SendState { idempotency_key, state, detail, .. } => {
            println!("→ {idempotency_key} {state:?}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())
        }
        EngineEvent::Connection { state } => eprintln!("connection: {state:?}"),
        EngineEvent::Problems { seqs } => eprintln!("{} events could not be understood: {seqs:?}", seqs.len()),
        _ => {}
    }
}

async fn list(engine: &Engine, filter: Option<ListFilter>, number: Option<String>, label: Option<String>, limit: u32) -> Result<()> {
    let filtered = filter.is_some() || label.is_some();
    let mut f = ConversationFilter { phone_number_id: number, label, limit, ..Default::default() };
    match filter {
        Some(ListFilter::Mine) => {
            f.only_mine = Some(engine.client().me().await.context("asking the bridge who you are")?.name);
            f.done = Some(false);
        }
        Some(ListFilter::App) => f.app_owned = true,
        Some(ListFilter::Closing) => f.window_closing_within_secs = Some(coexist_engine::notify::CLOSING_WARNING_SECS),
        Some(ListFilter::Unread) => f.unread_only = true,
        Some(ListFilter::Unassigned) => {
            f.unassigned = true;
            f.done = Some(false);
        }
        Some(ListFilter::Done) => f.done = Some(true),
        Some(ListFilter::Waiting) => {
            f.waiting = true;
            f.done = Some(false);
        }
        None => {}
    }
    let rows = engine.store().lock().map_err(|_| anyhow!("store lock poisoned"))?.conversations(&f, now())?;
    if rows.is_empty() {
        println!("no conversations{}", if filtered { " match" } else { " yet: run `coexist sync --once`" });
    }
    for c in rows {
        let window = match &c.window {
            coexist_core::rules::WindowState::Open { remaining_secs, .. } => format!("open {}h{:02}m", remaining_secs / 3600, remaining_secs % 3600 / 60),
            coexist_core::rules::WindowState::Closed { .. } => "closed".to_string(),
        };
        let owner = match &c.owner {
            coexist_core::rules::Owner::Unowned => "-".to_string(),
            coexist_core::rules::Owner::App => "app".to_string(),
            coexist_core::rules::Owner::Api { agent } => format!("api:{}", terminal_safe(agent, 20)),
        };
        let labels = if c.labels.is_empty() {
            String::new()
        } else {
            format!("[{}] ", c.labels.iter().map(|l| terminal_safe(l, 32)).collect::<Vec<_>>().join(", "))
        };
        println!(
            "{} {:<16} {:<22} {:<12} {:<13} unread {:<3} {labels}{}",
            c.conversation.phone_number_id,
            c.conversation.contact.as_str(),
            display_name(c.contact_name.as_deref(), &c.conversation),
            owner,
            window,
            c.unread,
            terminal_safe(c.preview.as_deref().unwrap_or(""), 60)
        );
    }
    Ok(())
}

fn show(engine: &Engine, key: &ConversationKey, limit: u32) -> Result<()> {
    let store = engine.store().lock().map_err(|_| anyhow!("store lock poisoned"))?;
    let Some(summary) = store.conversation(key, now())? else {
        bail!("no conversation with {} on {} in the local inbox; run `coexist sync --once`", key.contact.as_str(), key.phone_number_id);
    };
    println!("{} (+{}) — window: {} — assigned to: {}{}{}", display_name(summary.contact_name.as_deref(), key), key.contact.as_str(),
        summary.window_explanation.as_deref().map(|e| terminal_safe(e, 200)).unwrap_or_else(|| "open".into()),
        summary.assignee.as_deref().map(|a| terminal_safe(a, 60)).unwrap_or_else(|| "nobody".into()),
        if summary.done { " — done" } else { "" },
        summary.blocked_by.as_deref().map(|b| format!(" — blocked by {}", terminal_safe(b, 60))).unwrap_or_default());
    for m in store.messages(key, None, limit)? {
        let who = match m.side {
            Side::Customer => "customer".to_string(),
            Side::Api => format!("api:{}", terminal_safe(m.agent.as_deref().unwrap_or("?"), 20)),
            Side::App => "app".to_string(),
            Side::History => "history".to_string(),
        };
        let status = m.status.map(|s| format!(" [{s:?}]")).unwrap_or_default();
        let failure = m.failure.as_ref().map(|f| format!(" ({} {})", f.reason, f.what_to_do)).unwrap_or_default();
        // The wamid last: what `send text --reply-to` quotes.
        println!(
            "{} {:<14} {}{status}{failure}  {}",
            export::rfc3339(m.timestamp),
            who,
            terminal_safe(m.text.as_deref().unwrap_or("[media]"), 300),
            terminal_safe(&m.wamid, 120)
        );
    }
    for note in store.notes(key, None, None)? {
        let at = export::rfc3339(note.at_ms / 1000);
        println!("(note by {} at {at}) {}", terminal_safe(&note.author, 60), terminal_safe(&note.text, 600));
    }
    for item in store.outbox_for_conversation(key)? {
        let err = item.error_message.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
        println!("(outbox {} {:?}{err}) {}", item.idempotency_key, item.state, terminal_safe(&coexist_engine::compose::preview_of(&item.message), 200));
    }
    Ok(())
}

async fn send(engine: &Engine, cmd: SendCommand) -> Result<()> {
    let (item, wait) = match cmd {
        SendCommand::Text { phone_number_id, contact, text, reply_to, wait } => {
            (engine.send_text(&key(&phone_number_id, &contact)?, &text, reply_to.as_deref())?, wait)
        }
        SendCommand::Buttons { phone_number_id, contact, text, buttons, reply_to, wait } => {
            (engine.send_buttons(&key(&phone_number_id, &contact)?, &text, &buttons, reply_to.as_deref())?, wait)
        }
        SendCommand::Template { phone_number_id, contact, name, lang, params, wait } => {
            let p = params.to_params()?;
            (engine.send_template(&key(&phone_number_id, &contact)?, &name, &lang, &p)?, wait)
        }
        SendCommand::File { phone_number_id, contact, path, caption, mime_type, wait } => {
            let file = outgoing_file(&path, mime_type)?;
            (engine.send_file(&key(&phone_number_id, &contact)?, file, &caption, None).await?, wait)
        }
    };
    println!("queued {}", item.idempotency_key);
    if !wait.no_wait {
        engine.drain_outbox(Duration::from_secs(wait.wait_secs)).await?;
        print_item_state(engine, &item.idempotency_key)?;
        // Pull the bridge's record of the send so `show` and `export` have it at once.
        if let Err(e) = engine.sync_once().await {
            eprintln!("(could not sync after sending: {e})");
        }
    }
    Ok(())
}

/// A file from disk, its type from `--type` or else its extension.
fn outgoing_file(path: &Path, mime_type: Option<String>) -> Result<OutgoingFile> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mime_type = mime_type.unwrap_or_else(|| mime_guess::from_path(path).first_raw().unwrap_or_default().to_string());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(OutgoingFile { name, mime_type, bytes })
}

fn print_item_state(engine: &Engine, key: &str) -> Result<()> {
    let store = engine.store().lock().map_err(|_| anyhow!("store lock poisoned"))?;
    let item = store.outbox_item(key)?.ok_or_else(|| anyhow!("outbox item {key} vanished"))?;
    match (&item.wamid, &item.error_message) {
        (Some(w), _) => println!("{key} {:?} as {w}", item.state),
        (None, Some(e)) => println!("{key} {:?}: {e}", item.state),
        _ => println!("{key} {:?} (a running `coexist sync` or the app will send it)", item.state),
    }
    Ok(())
}

fn search_query(text: &str, f: &SearchFilters) -> SearchQuery {
    SearchQuery {
        text: text.to_string(),
        phone_number_id: f.number.clone(),
        contact: f.contact.as_ref().map(|c| ContactKey(c.trim_start_matches('+').to_string())),
        agent: f.agent.clone(),
        side: f.side.map(|s| match s {
            SideArg::Customer => Side::Customer,
            SideArg::Api => Side::Api,
            SideArg::App => Side::App,
            SideArg::History => Side::History,
        }),
        from_ts: f.from,
        to_ts: f.to,
        label: f.label.clone(),
        limit: f.limit,
    }
}

/// People whose name or number matches (`person`, only without filters on messages), then
/// messages, then the team's notes (marked `note by NAME:`), that match.
fn search(engine: &Engine, text: &str, filters: &SearchFilters) -> Result<()> {
    let query = search_query(text, filters);
    let about_messages = filters.contact.is_some()
        || filters.agent.is_some()
        || filters.side.is_some()
        || filters.from.is_some()
        || filters.to.is_some()
        || filters.label.is_some();
    let (people, hits, notes) = {
        let store = engine.store().lock().map_err(|_| anyhow!("store lock poisoned"))?;
        let people = if about_messages { Vec::new() } else { store.find_people(text, filters.number.as_deref(), 6, now())? };
        (people, store.search(&query)?, store.search_notes(&query)?)
    };
    if people.is_empty() && hits.is_empty() && notes.is_empty() {
        println!("nothing found");
    }
    for p in people {
        println!("person {} {:<22} {}", p.conversation.contact.as_str(),
            display_name(p.contact_name.as_deref(), &p.conversation), terminal_safe(p.preview.as_deref().unwrap_or(""), 120));
    }
    let marked = |snippet: &[SnippetPart]| -> String {
        let text: String = snippet.iter().map(|p| if p.matched { format!("[{}]", p.text) } else { p.text.clone() }).collect();
        terminal_safe(&text, 200)
    };
    for h in hits {
        println!("{} {} {:<22} {}", export::rfc3339(h.timestamp), h.conversation.contact.as_str(),
            display_name(h.contact_name.as_deref(), &h.conversation), marked(&h.snippet));
    }
    for n in notes {
        println!("{} {} {:<22} note by {}: {}", export::rfc3339(n.at_ms / 1000), n.conversation.contact.as_str(),
            display_name(n.contact_name.as_deref(), &n.conversation), terminal_safe(&n.author, 40), marked(&n.snippet));
    }
    Ok(())
}

fn export_cmd(
    engine: &Engine,
    conversation: Option<String>,
    search: Option<String>,
    filters: &SearchFilters,
    format: ExportFormat,
    out: &std::path::Path,
) -> Result<()> {
    let rows = {
        let store = engine.store().lock().map_err(|_| anyhow!("store lock poisoned"))?;
        match (conversation, search) {
            (Some(c), _) => {
                let (pnid, contact) = c.split_once(':').ok_or_else(|| anyhow!("--conversation takes PHONE_NUMBER_ID:CONTACT"))?;
                export::conversation_rows(&store, &key(pnid, contact)?)?
            }
            (None, Some(text)) => {
                let query = search_query(&text, filters);
                export::search_rows(&store.search(&query)?, &store.search_notes(&query)?)
            }
            (None, None) => bail!("give --conversation PHONE_NUMBER_ID:CONTACT or --search TEXT"),
        }
    };
    // Write to a temporary file beside the target, then rename: a failed export never leaves half a file.
    let tmp = out.with_extension("partial");
    let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    export::write_rows(&rows, format, std::io::BufWriter::new(file))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    println!("exported {} rows (messages and notes) to {}", rows.len(), out.display());
    Ok(())
}

async fn demo(dir: &std::path::Path) -> Result<()> {
    let handle = coexist_engine::demo::start_demo(dir).await?;
    println!("Coexist demo running (simulated Meta; nothing leaves this machine)");
    println!("  bridge:          {}", handle.bridge_url);
    println!("  token:           {}", handle.token);
    println!("  sandbox:         {}", handle.sandbox_url);
    println!("  phone_number_id: {} ({})", handle.phone_number_id, handle.display_number);
    println!("  inbox:           {}", handle.inbox_path.display());
    println!();
    println!("In another terminal:");
    println!(
        "  export COEXIST_BRIDGE_URL={} COEXIST_TOKEN={} COEXIST_DB={}",
        handle.bridge_url,
        handle.token,
        handle.inbox_path.display()
    );
    println!("  coexist sync");
    println!("Ctrl-C stops the demo.");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    handle.shutdown().await;
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
