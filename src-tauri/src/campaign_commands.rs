//! The campaigns panel's Tauri commands (bulk template sends): plan with ETA, start, pause,
//! resume, progress, failures. The logic lives in `coexist_engine::campaign`; the engine's
//! background tasks (started by the backend) do the sending, so a campaign continues after a
//! restart. Listed in build.rs (permissions), registered in lib.rs, granted in
//! capabilities/default.json.

use coexist_engine::campaign::{self, CampaignPlan, CampaignProgress, CampaignSpec, Duplicate, FailureReport, InvalidRow};
use coexist_engine::compose::TemplateParams;
use coexist_store::Campaign;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::actions::ActionResult;
use crate::backend::Backend;

/// How many bad or duplicate rows the panel lists (the counts are always complete).
const ROWS_SHOWN: usize = 50;

/// What the panel's form sends.
#[derive(Clone, Debug, Deserialize)]
pub struct CampaignForm {
    pub name: String,
    pub phone_number_id: String,
    pub template_name: String,
    pub language: String,
    /// The pasted list or the CSV file's text.
    pub recipients: String,
    /// `csv` (header row, parameters in columns) or `list` (numbers only).
    pub format: String,
    /// Body parameters for everyone, when the list has no parameter columns.
    #[serde(default)]
    pub params: Vec<String>,
    /// A media header for everyone: a public link...
    #[serde(default)]
    pub header_media_link: Option<String>,
    /// ...or the media id of a file uploaded for it (`upload_header_file`).
    #[serde(default)]
    pub header_media_id: Option<String>,
}

/// A plan as the panel shows it (not the built messages).
#[derive(Clone, Debug, Serialize)]
pub struct PlanView {
    pub id: String,
    pub recipients: usize,
    pub eta: String,
    pub eta_paced_secs: u64,
    pub duplicates: usize,
    pub duplicate_rows: Vec<Duplicate>,
    pub invalid: usize,
    pub invalid_rows: Vec<InvalidRow>,
    pub existing: Option<Campaign>,
}

fn plan(backend: &Backend, form: &CampaignForm) -> ActionResult<CampaignPlan> {
    let list = match form.format.as_str() {
        "csv" => campaign::parse_csv(&form.recipients),
        _ => campaign::parse_pasted(&form.recipients),
    }
    .map_err(|e| e.to_string())?;
    let spec = CampaignSpec {
        name: form.name.clone(),
        phone_number_id: form.phone_number_id.clone(),
        template_name: form.template_name.clone(),
        language: form.language.clone(),
        defaults: TemplateParams {
            body_positional: form.params.clone(),
            header_media_link: form.header_media_link.clone(),
            header_media_id: form.header_media_id.clone(),
            ..Default::default()
        },
    };
    backend.engine.plan_campaign(&spec, list).map_err(|e| e.to_string())
}

fn view(plan: &CampaignPlan) -> PlanView {
    PlanView {
        id: plan.id.clone(),
        recipients: plan.recipients.len(),
        eta: plan.eta.to_string(),
        eta_paced_secs: plan.eta.paced.as_secs(),
        duplicates: plan.duplicates.len(),
        duplicate_rows: plan.duplicates.iter().take(ROWS_SHOWN).cloned().collect(),
        invalid: plan.invalid.len(),
        invalid_rows: plan.invalid.iter().take(ROWS_SHOWN).cloned().collect(),
        existing: plan.existing.clone(),
    }
}

#[tauri::command]
pub async fn campaign_plan(backend: State<'_, Backend>, form: CampaignForm) -> ActionResult<PlanView> {
    Ok(view(&plan(&backend, &form)?))
}

#[tauri::command]
pub async fn campaign_start(backend: State<'_, Backend>, form: CampaignForm, skip_invalid: bool) -> ActionResult<Campaign> {
    let plan = plan(&backend, &form)?;
    backend.engine.start_campaign(&plan, skip_invalid).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn campaign_list(backend: State<'_, Backend>) -> ActionResult<Vec<Campaign>> {
    backend.engine.campaigns().map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn campaign_progress(backend: State<'_, Backend>, id: String) -> ActionResult<CampaignProgress> {
    backend.engine.campaign_progress(&id).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn campaign_pause(backend: State<'_, Backend>, id: String) -> ActionResult<Campaign> {
    backend.engine.pause_campaign(&id).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn campaign_resume(backend: State<'_, Backend>, id: String) -> ActionResult<Campaign> {
    backend.engine.resume_campaign(&id).map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn campaign_failures(backend: State<'_, Backend>, id: String) -> ActionResult<Vec<FailureReport>> {
    backend.engine.campaign_failures(&id).map_err(|e| e.to_string())
}
