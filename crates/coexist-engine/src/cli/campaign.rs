//! `coexist campaign ...`: bulk template sends from the terminal (module of the `coexist` bin).
//!
//! ```text
//! coexist campaign plan  --name spring --number PNID --template order_update --csv list.csv   # ETA, duplicates, bad rows; sends nothing
//! coexist campaign start --name spring --number PNID --template order_update --csv list.csv   # same, then sends and follows progress
//! coexist campaign pause ID | resume ID | status ID | report ID | list
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use coexist_engine::campaign::{self, eta::human, CampaignPlan, CampaignProgress, CampaignSpec, RecipientList};
use coexist_engine::export::terminal_safe;
use coexist_engine::Engine;
use coexist_store::CampaignState;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Check a campaign and show how long it will take; sends nothing.
    Plan(CampaignArgs),
    /// Show the plan and ETA, then send, following progress until done. Ctrl-C stops this
    /// terminal only: the campaign stays running and continues in the app or with `resume`.
    Start {
        #[command(flatten)]
        args: CampaignArgs,
        /// Send to the valid rows even if some rows are invalid (they are listed).
        #[arg(long)]
        skip_invalid: bool,
        /// Only store it; the app or a running `coexist sync` sends it.
        #[arg(long)]
        detach: bool,
    },
    /// Every campaign with its state.
    List,
    /// Progress of a campaign: sent / delivered / read / failed, time left.
    Status { id: String },
    /// Stop sending (what is already with the sender, about half a second of sends, still goes).
    Pause { id: String },
    /// Continue a paused (or interrupted) campaign and follow it until done.
    Resume {
        id: String,
        #[arg(long)]
        detach: bool,
    },
    /// The failures, grouped by Meta error code, in plain words.
    Report { id: String },
}

#[derive(Args)]
pub struct CampaignArgs {
    /// The campaign's name; starting the same name again continues it (never sends twice).
    #[arg(long)]
    name: String,
    /// The business number's Meta phone_number_id.
    #[arg(long)]
    number: String,
    /// The approved template's name.
    #[arg(long)]
    template: String,
    #[arg(long, default_value = "en_US")]
    lang: String,
    /// A CSV file: header `phone,1,2` (positional parameters) or `phone,customer_name,time` (named).
    #[arg(long, conflicts_with = "recipients")]
    csv: Option<PathBuf>,
    /// A file of numbers, one per line or separated by commas (`-` reads standard input).
    #[arg(long)]
    recipients: Option<PathBuf>,
    /// A recipient number (repeat); added to the file's.
    #[arg(long = "to")]
    to: Vec<String>,
    /// Parameters for everyone (when the list has no parameter columns).
    #[command(flatten)]
    shared: crate::template_args::TemplateArgs,
}

pub async fn run(engine: &Engine, cmd: CampaignCommand) -> Result<()> {
    match cmd {
        CampaignCommand::Plan(args) => {
            let plan = plan(engine, &args).await?;
            print_plan(&plan);
            Ok(())
        }
        CampaignCommand::Start { args, skip_invalid, detach } => {
            let plan = plan(engine, &args).await?;
            print_plan(&plan);
            let c = engine.start_campaign(&plan, skip_invalid)?;
            println!("campaign {} started ({} recipients)", c.id, c.total);
            if detach {
                println!("stored; the app or `coexist sync` sends it. Follow it with `coexist campaign status {}`", c.id);
                return Ok(());
            }
            follow(engine, &c.id).await
        }
        CampaignCommand::List => {
            let list = engine.campaigns()?;
            if list.is_empty() {
                println!("no campaigns yet");
            }
            for c in list {
                println!("{} {:<8} {:>6} recipients  {} ({})  {}", c.id, c.state.as_str(), c.total,
                    terminal_safe(&c.template_name, 40), terminal_safe(&c.language, 10), terminal_safe(&c.name, 60));
            }
            Ok(())
        }
        CampaignCommand::Status { id } => {
            // Pull the latest statuses first; offline is fine (the local view is shown).
            if let Err(e) = engine.sync_once().await {
                eprintln!("(showing the local view; could not sync: {e})");
            }
            print_progress(&engine.campaign_progress(&id)?);
            Ok(())
        }
        CampaignCommand::Pause { id } => {
            let c = engine.pause_campaign(&id)?;
            println!("campaign {} is {}", c.id, c.state.as_str());
            Ok(())
        }
        CampaignCommand::Resume { id, detach } => {
            let c = engine.resume_campaign(&id)?;
            println!("campaign {} is {}", c.id, c.state.as_str());
            if detach || c.state == CampaignState::Done {
                return Ok(());
            }
            follow(engine, &id).await
        }
        CampaignCommand::Report { id } => {
            if let Err(e) = engine.sync_once().await {
                eprintln!("(showing the local view; could not sync: {e})");
            }
            print_report(engine, &id)
        }
    }
}

async fn plan(engine: &Engine, args: &CampaignArgs) -> Result<CampaignPlan> {
    // Templates and number settings come from the bridge through the relay.
    if let Err(e) = engine.sync_once().await {
        eprintln!("(could not sync templates from the bridge, using the local copy: {e})");
    }
    let list = recipients(args)?;
    let spec = CampaignSpec {
        name: args.name.clone(),
        phone_number_id: args.number.trim().to_string(),
        template_name: args.template.clone(),
        language: args.lang.clone(),
        defaults: args.shared.to_params()?,
    };
    Ok(engine.plan_campaign(&spec, list)?)
}

fn recipients(args: &CampaignArgs) -> Result<RecipientList> {
    let read = |p: &PathBuf| -> Result<String> {
        if p.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("reading recipients from standard input")
        } else {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
        }
    };
    let mut text = String::new();
    if let Some(p) = &args.csv {
        if !args.to.is_empty() {
            bail!("--to cannot be combined with --csv; add those numbers to the CSV file");
        }
        return Ok(campaign::parse_csv(&read(p)?)?);
    }
    if let Some(p) = &args.recipients {
        text = read(p)?;
    }
    for to in &args.to {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(to);
        text.push('\n');
    }
    Ok(campaign::parse_pasted(&text)?)
}

fn print_plan(plan: &CampaignPlan) {
    println!("campaign {} \"{}\": template {} ({}) on {}", plan.id, terminal_safe(&plan.spec.name, 60),
        terminal_safe(&plan.spec.template_name, 40), terminal_safe(&plan.spec.language, 10), plan.spec.phone_number_id);
    println!("ETA: {}", plan.eta);
    if !plan.duplicates.is_empty() {
        println!("{} duplicate number(s) removed (each is sent once):", plan.duplicates.len());
        for d in plan.duplicates.iter().take(20) {
            println!("  line {}: {} (first on line {})", d.line, d.to, d.first_line);
        }
    }
    if !plan.invalid.is_empty() {
        println!("{} row(s) cannot be sent:", plan.invalid.len());
        for r in plan.invalid.iter().take(20) {
            println!("  line {}: {}", r.line, terminal_safe(&r.reason, 200));
        }
    }
    if let Some(c) = &plan.existing {
        println!("a campaign with this name exists ({}, {}): starting continues it; nobody gets it twice", c.id, c.state.as_str());
    }
}

fn print_progress(p: &CampaignProgress) {
    let c = &p.counts;
    let left = if p.campaign.state == CampaignState::Running && c.pending + c.queued > 0 {
        format!(", about {} left", human(p.eta_remaining.paced))
    } else {
        String::new()
    };
    println!(
        "{} {}: {}/{} accepted by Meta (sent {}, delivered {}, read {}), failed {}, waiting {}{left}",
        p.campaign.id,
        p.campaign.state.as_str(),
        c.accepted(),
        c.total,
        c.sent,
        c.delivered,
        c.read,
        c.failed,
        c.pending + c.queued
    );
}

fn print_report(engine: &Engine, id: &str) -> Result<()> {
    let failures = engine.campaign_failures(id)?;
    if failures.is_empty() {
        println!("no failures");
    }
    for f in failures {
        let code = f.code.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
        println!("{} × error {code}: {}", f.count, terminal_safe(&f.reason, 200));
        println!("    what to do: {}", terminal_safe(&f.what_to_do, 200));
        println!("    e.g. {}", f.recipients.iter().take(5).cloned().collect::<Vec<_>>().join(", "));
    }
    Ok(())
}

/// Run the engine (sync + outbox + campaign feeder) and print progress until the campaign is
/// done and its statuses have settled (or Ctrl-C).
async fn follow(engine: &Engine, id: &str) -> Result<()> {
    let tasks = engine.start();
    let mut last = None;
    let mut settle_until = None;
    loop {
        let p = engine.campaign_progress(id)?;
        if last.as_ref() != Some(&p.counts) {
            print_progress(&p);
            last = Some(p.counts.clone());
        }
        if p.campaign.state == CampaignState::Paused {
            println!("paused; `coexist campaign resume {id}` continues it");
            break;
        }
        if p.campaign.state == CampaignState::Done {
            // Give Meta's statuses (delivered, read, late failures) a moment to arrive.
            let until = *settle_until.get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_secs(5));
            if p.counts.sent == 0 || tokio::time::Instant::now() > until {
                break;
            }
        }
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                println!("stopped following; the campaign is still {} and continues in the app or with `coexist campaign resume {id}`",
                    p.campaign.state.as_str());
                return Ok(());
            }
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    tasks.stop();
    print_report(engine, id)
}
