//! `seqrec import-gsasrec`: a checkpoint of the PyTorch reference code → a model directory.

use std::path::PathBuf;

use seqrec::model::AttentionMode;
use seqrec::train::import_gsasrec_model_dir;

use super::{CliError, DeviceArg};

/// Arguments of `seqrec import-gsasrec`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The reference's `state_dict` (`torch.save(model.state_dict(), FILE)`, `.pt`), or the
    /// same tensors in a `.safetensors` file.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Number of attention heads the model was trained with (`num_heads` of its config: the
    /// tensors do not show it).
    #[arg(long)]
    heads: usize,
    /// Model directory to write (`seqrec recommend --model` serves it with the reference's
    /// item ids).
    #[arg(long)]
    out: PathBuf,
    /// Causal attention mask; the reference model always applies it.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    causal: bool,
    /// Print the imported model's settings as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArg,
}

pub fn run(args: ImportArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let device = args.device.open()?;
    let config = import_gsasrec_model_dir(
        &args.checkpoint,
        args.heads,
        args.causal,
        &args.out,
        &device,
    )?;
    let mask = match config.attention {
        AttentionMode::Causal => "causal",
        AttentionMode::Bidirectional => "bidirectional",
    };
    if args.json {
        let result = serde_json::json!({
            "checkpoint": args.checkpoint.display().to_string(),
            "model_dir": args.out.display().to_string(),
            "num_items": config.num_items,
            "max_len": config.max_len,
            "dim": config.dim,
            "blocks": config.blocks,
            "heads": config.heads,
            "attention": mask,
            "output_embeddings": format!("{:?}", config.output_embeddings).to_ascii_lowercase(),
        });
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "imported {}: {} items, window {}, dimension {}, {} blocks, {} heads, {mask} attention, \
         {:?} output embeddings -> {}",
        args.checkpoint.display(),
        config.num_items,
        config.max_len,
        config.dim,
        config.blocks,
        config.heads,
        config.output_embeddings,
        args.out.display()
    )?;
    Ok(())
}
