//! The template parameter flags shared by `coexist send template` and `coexist campaign` (module of the
//! `coexist` bin).

use anyhow::{anyhow, Result};
use clap::Args;
use coexist_engine::{ButtonParam, TemplateParams};

#[derive(Args, Clone, Debug, Default)]
pub struct TemplateArgs {
    /// A body parameter {{1}}, {{2}}, ... (repeat, in order).
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// A named body parameter NAME=VALUE (repeat).
    #[arg(long = "named")]
    pub named: Vec<String>,
    /// A TEXT header parameter (repeat, in order).
    #[arg(long = "header-text")]
    pub header_text: Vec<String>,
    /// A public link for an image/video/document header.
    #[arg(long = "header-link")]
    pub header_link: Option<String>,
    /// A dynamic button value INDEX=VALUE (repeat).
    #[arg(long = "button")]
    pub buttons: Vec<String>,
}

impl TemplateArgs {
    /// The flags as the engine's parameters; a malformed NAME=VALUE or INDEX=VALUE says which flag.
    pub fn to_params(&self) -> Result<TemplateParams> {
        let mut p = TemplateParams {
            body_positional: self.params.clone(),
            header_text: self.header_text.clone(),
            header_media_link: self.header_link.clone(),
            ..Default::default()
        };
        for kv in &self.named {
            let (k, v) = kv.split_once('=').ok_or_else(|| anyhow!("--named takes NAME=VALUE, got {kv:?}"))?;
            p.body_named.insert(k.to_string(), v.to_string());
        }
        for kv in &self.buttons {
            let (i, v) = kv.split_once('=').ok_or_else(|| anyhow!("--button takes INDEX=VALUE, got {kv:?}"))?;
            let index = i.parse().map_err(|_| anyhow!("--button index must be a number, got {i:?}"))?;
            p.buttons.push(ButtonParam { index, value: v.to_string() });
        }
        Ok(p)
    }
}
