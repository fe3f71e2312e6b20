//! `coexist admin ...`: people, numbers and the webhook quarantine, with an admin token.
//! (Included by src/bin/coexist.rs; it lives outside src/bin so cargo does not make it a binary.)

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use coexist_core::NumberMode;
use coexist_engine::admin::{NumberEdit, NumberInput};
use coexist_engine::export::terminal_safe;
use coexist_engine::BridgeClient;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// List everyone with a token (tokens themselves are never listed).
    Users,
    /// Add a person; prints their token once (the bridge keeps only its hash).
    AddUser {
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Revoke a person's token; it stops working at once.
    Revoke { name: String },
    /// List the business numbers with mode and throughput cap.
    Numbers,
    /// Add a business number.
    AddNumber {
        /// Meta's phone_number_id.
        #[arg(long)]
        phone_number_id: String,
        #[arg(long)]
        waba_id: String,
        /// E.164, e.g. +14155550100.
        #[arg(long)]
        display_number: String,
        #[arg(long, value_enum)]
        mode: ModeArg,
        /// Messages per second (standard numbers: 1-1000, default 80; Coexistence: 20).
        #[arg(long)]
        tier: Option<u32>,
    },
    /// Change a number's mode, tier, WABA or display number.
    EditNumber {
        phone_number_id: String,
        #[arg(long)]
        waba_id: Option<String>,
        #[arg(long)]
        display_number: Option<String>,
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
        #[arg(long)]
        tier: Option<u32>,
    },
    /// Write a new message template for Meta's review (its decision arrives later as a status
    /// update: `coexist templates` lists the approved ones).
    SubmitTemplate {
        phone_number_id: String,
        /// Lowercase letters, digits and underscores.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "en_US")]
        language: String,
        #[arg(long, value_enum, default_value_t = CategoryArg::Utility)]
        category: CategoryArg,
        /// With {{1}}, {{2}}… in order; one --example each.
        #[arg(long)]
        body: String,
        /// An example value for each body variable, in order (repeat the flag).
        #[arg(long = "example")]
        examples: Vec<String>,
        #[arg(long)]
        header: Option<String>,
        #[arg(long)]
        footer: Option<String>,
    },
    /// Signed webhooks the bridge kept but could not understand, newest first.
    Quarantine {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print each body too (made safe for the terminal).
        #[arg(long)]
        bodies: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Agent,
    Manager,
    Admin,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CategoryArg {
    Utility,
    Marketing,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Coexistence,
    Standard,
}

impl From<ModeArg> for NumberMode {
    fn from(m: ModeArg) -> NumberMode {
        match m {
            ModeArg::Coexistence => NumberMode::Coexistence,
            ModeArg::Standard => NumberMode::Standard,
        }
    }
}

pub async fn run(client: &BridgeClient, cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::Users => {
            for u in client.admin_users().await? {
                println!("{:<24} {:<8} since {}", u.name, u.role, coexist_engine::export::rfc3339(u.created_at_ms / 1000));
            }
        }
        AdminCommand::AddUser { name, role } => {
            let role = match role {
                RoleArg::Agent => "agent",
                RoleArg::Manager => "manager",
                RoleArg::Admin => "admin",
            };
            let user = client.admin_add_user(&name, role).await?;
            eprintln!("added {} as {}; their token (shown only now, give it to them privately):", user.name, user.role);
            println!("{}", user.token);
        }
        AdminCommand::Revoke { name } => {
            client.admin_revoke_user(&name).await?;
            println!("revoked {name}: their token no longer works");
        }
        AdminCommand::Numbers => {
            for n in client.admin_numbers().await? {
                println!("{:<20} {:<16} {:<12} {} msg/s (WABA {})", n.phone_number_id, n.display_number, mode_name(&n.mode), n.tier_mps, n.waba_id);
            }
        }
        AdminCommand::AddNumber { phone_number_id, waba_id, display_number, mode, tier } => {
            let input = NumberInput { phone_number_id, waba_id, display_number, mode: mode.into(), tier_mps: tier };
            let saved = client.admin_add_number(&input).await?;
            println!("added {} ({}, {} msg/s)", saved.number.display_number, mode_name(&saved.number.mode), saved.number.tier_mps);
        }
        AdminCommand::EditNumber { phone_number_id, waba_id, display_number, mode, tier } => {
            let edit = NumberEdit { waba_id, display_number, mode: mode.map(Into::into), tier_mps: tier };
            let saved = client.admin_edit_number(&phone_number_id, &edit).await?;
            println!("saved {} ({}, {} msg/s)", saved.number.display_number, mode_name(&saved.number.mode), saved.number.tier_mps);
        }
        AdminCommand::SubmitTemplate { phone_number_id, name, language, category, body, examples, header, footer } => {
            let category = match category {
                CategoryArg::Utility => "UTILITY",
                CategoryArg::Marketing => "MARKETING",
            };
            let draft = coexist_core::TemplateDraft { name, language, category: category.into(), header, body, examples, footer };
            let submitted = client.admin_submit_template(&phone_number_id, &draft).await?;
            let status = submitted.template["status"].as_str().unwrap_or("submitted");
            println!("{} ({}) sent to Meta for review: {}", draft.name, draft.language, terminal_safe(status, 40));
        }
        AdminCommand::Quarantine { limit, bodies } => {
            let items = client.admin_quarantine(limit).await?;
            if items.is_empty() {
                println!("the quarantine is empty");
            }
            for q in items {
                println!("#{} {} {} bytes: {}", q.id, coexist_engine::export::rfc3339(q.received_at_ms / 1000), q.size, terminal_safe(&q.reason, 200));
                if bodies {
                    println!("  {}{}", terminal_safe(&q.body, 4000), if q.truncated { " …(truncated)" } else { "" });
                }
            }
        }
    }
    Ok(())
}

fn mode_name(mode: &NumberMode) -> &'static str {
    match mode {
        NumberMode::Coexistence => "coexistence",
        NumberMode::Standard => "standard",
    }
}
