//! `seqrec export`: a model directory → the reference code's `state_dict` as SafeTensors.

use std::path::PathBuf;

use seqrec::train::{export_gsasrec_safetensors, load_model_dir};

use super::{CliError, DeviceArg};

/// Arguments of `seqrec export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Model directory written by `seqrec train` or `seqrec import-gsasrec`.
    #[arg(long)]
    model: PathBuf,
    /// SafeTensors file to write: the tensors of the reference's `GSASRec.state_dict()`
    /// (PyTorch: `model.load_state_dict(safetensors.torch.load_file(FILE))`).
    #[arg(long)]
    safetensors: PathBuf,
    /// Print the exported model's settings (the reference's `GSASRec` arguments) as one JSON
    /// object on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceArg,
}

pub fn run(args: ExportArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let device = args.device.open()?;
    let (model, manifest, _) = load_model_dir(&args.model, &device)?;
    export_gsasrec_safetensors(&model, &manifest.model, &args.safetensors)?;
    let config = &manifest.model;
    let reuse_item_embeddings = model.output_embedding.is_none();
    if args.json {
        let result = serde_json::json!({
            "safetensors": args.safetensors.display().to_string(),
            "num_items": config.num_items,
            "sequence_length": config.max_len,
            "embedding_dim": config.dim,
            "num_heads": config.heads,
            "num_blocks": config.blocks,
            "reuse_item_embeddings": reuse_item_embeddings,
        });
        writeln!(out, "{}", serde_json::to_string(&result)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "wrote {}: GSASRec(num_items={}, sequence_length={}, embedding_dim={}, num_heads={}, \
         num_blocks={}, reuse_item_embeddings={})",
        args.safetensors.display(),
        config.num_items,
        config.max_len,
        config.dim,
        config.heads,
        config.blocks,
        // Python's spelling, so that the line can be pasted.
        if reuse_item_embeddings {
            "True"
        } else {
            "False"
        }
    )?;
    Ok(())
}
