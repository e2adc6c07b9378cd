#!/usr/bin/env python3
"""Writes the PyTorch-parity fixture of `crates/seqrec-train/tests/pytorch_import.rs`.

It runs the reference gSASRec code (https://github.com/asash/gSASRec-pytorch), fetched at
generation time: nothing of it is copied into this repository. A tiny model (30 items,
window 12, dimension 16, 2 blocks, 2 heads) is trained for a few steps on synthetic sequences
so that its weights are away from their initialisation, then this script saves

- `gsasrec_tiny.pt`: its `state_dict`, as `torch.save(model.state_dict(), path)` writes it;
- `gsasrec_shared.pt`: a second model with `reuse_item_embeddings=True` (one head, one block);
- `gsasrec_zip64_trailer.pt`: the same state_dict saved under a 21-character file stem, which
  makes torch's ZIP trailer trip the `zip` crate (see `crates/seqrec-train/src/interop/torch_zip.rs`);
- `expected.json`: the reference's scores of every item and its top-k (with and without the
  history excluded, through `GSASRec.get_predictions`) for a handful of histories: one item,
  shorter than the window, exactly the window, longer than the window (the reference keeps
  the last `sequence_length` items), repeated items and the catalogue's first and last ids;
- `missing_tensor.pt`, `misshaped_tensor.pt`, `unexpected_tensor.pt`: the shared model's
  state_dict with one tensor removed, reshaped or added, for the typed errors.

Usage (needs `torch`; `pip install torch numpy`):

    python3 scripts/make_gsasrec_fixture.py [--reference PATH] [--out DIR]

PATH is a clone of the reference repository (a working tree or a bare repository); without
it the script clones https://github.com/asash/gSASRec-pytorch into a temporary directory.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import torch

REFERENCE_URL = "https://github.com/asash/gSASRec-pytorch"
REFERENCE_FILES = ["gsasrec.py", "transformer_decoder.py"]
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "crates",
    "seqrec-train",
    "tests",
    "fixtures",
    "gsasrec_tiny",
)


def reference_sources(path, workdir):
    """Returns (directory holding the reference modules, commit id)."""
    if path is None:
        path = os.path.join(workdir, "gSASRec-pytorch")
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", REFERENCE_URL, path], check=True)
    if all(os.path.isfile(os.path.join(path, f)) for f in REFERENCE_FILES):
        commit = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        return path, commit or "unknown"
    # A bare repository: take the files from HEAD.
    sources = os.path.join(workdir, "reference")
    os.makedirs(sources, exist_ok=True)
    for name in REFERENCE_FILES:
        text = subprocess.run(
            ["git", "--git-dir", path, "show", f"HEAD:{name}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        with open(os.path.join(sources, name), "w") as f:
            f.write(text)
    commit = subprocess.run(
        ["git", "--git-dir", path, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return sources, commit


def synthetic_batch(num_items, length, batch, generator):
    """Sequences with structure to learn (each item tends to be followed by its successor),
    left-padded with the reference's padding id `num_items + 1` to `length`."""
    pad = num_items + 1
    rows = []
    for _ in range(batch):
        n = int(torch.randint(2, length + 1, (1,), generator=generator))
        item = int(torch.randint(1, num_items + 1, (1,), generator=generator))
        seq = []
        for _ in range(n):
            seq.append(item)
            jump = int(torch.randint(0, 4, (1,), generator=generator))
            item = (item + (1 if jump else 7) - 1) % num_items + 1
        rows.append([pad] * (length - n) + seq)
    return torch.tensor(rows, dtype=torch.long)


def train_briefly(model, num_items, steps, negatives=4, generator=None):
    """A few Adam steps of next-item BCE with uniform negatives: enough to move every weight
    away from its initialisation (this is not the reference's training script)."""
    pad = num_items + 1
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        batch = synthetic_batch(num_items, model.sequence_length + 1, 16, generator)
        inputs, targets = batch[:, :-1], batch[:, 1:]
        hidden, _ = model(inputs)
        sampled = torch.randint(1, num_items + 1, targets.shape + (negatives,), generator=generator)
        candidates = torch.cat([targets.unsqueeze(-1), sampled], dim=-1)
        logits = (hidden.unsqueeze(2) * model.get_output_embeddings()(candidates)).sum(-1)
        labels = torch.zeros_like(logits)
        labels[..., 0] = 1.0
        mask = ((inputs != pad) & (targets != pad)).float()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels, reduction="none"
        ).mean(-1)
        loss = (loss * mask).sum() / mask.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return loss.item()


def reference_input(history, num_items, max_len):
    """The reference's evaluation input: the last `max_len` items, left-padded with `num_items + 1`."""
    window = history[-max_len:]
    return torch.tensor([[num_items + 1] * (max_len - len(window)) + window], dtype=torch.long)


def expectations(model, num_items, histories, k):
    out = []
    with torch.no_grad():
        for history in histories:
            x = reference_input(history, model.num_items, model.sequence_length)
            hidden, _ = model(x)
            scores = hidden[:, -1, :] @ model.get_output_embeddings().weight.T
            top, top_scores = model.get_predictions(x, k)
            top_ex, top_ex_scores = model.get_predictions(x, k, rated=[set(history)])
            out.append(
                {
                    "history": history,
                    # scores[i] is the score of item i + 1
                    "scores": scores[0, 1 : num_items + 1].tolist(),
                    "top_k": top[0].tolist(),
                    "top_k_scores": top_scores[0].tolist(),
                    "top_k_excluding_history": top_ex[0].tolist(),
                    "top_k_excluding_history_scores": top_ex_scores[0].tolist(),
                }
            )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", help="clone of gSASRec-pytorch (working tree or bare)")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        sources, commit = reference_sources(args.reference, workdir)
        sys.path.insert(0, sources)
        from gsasrec import GSASRec  # noqa: E402  (the reference code)

        os.makedirs(args.out, exist_ok=True)
        torch.manual_seed(0)
        generator = torch.Generator().manual_seed(0)

        num_items, max_len, k = 30, 12, 10
        tiny = GSASRec(num_items, sequence_length=max_len, embedding_dim=16, num_heads=2,
                       num_blocks=2, dropout_rate=0.2)
        loss = train_briefly(tiny, num_items, args.steps, generator=generator)
        torch.save(tiny.state_dict(), os.path.join(args.out, "gsasrec_tiny.pt"))
        histories = [
            [7],
            [3, 14, 22, 5, 9],
            list(range(1, 13)),
            [(3 * i) % num_items + 1 for i in range(20)],
            [4, 4, 17, 4, 30, 1],
        ]

        shared_items, shared_len = 10, 5
        shared = GSASRec(shared_items, sequence_length=shared_len, embedding_dim=8, num_heads=1,
                         num_blocks=1, dropout_rate=0.0, reuse_item_embeddings=True)
        train_briefly(shared, shared_items, args.steps // 2, generator=generator)
        state = shared.state_dict()
        torch.save(state, os.path.join(args.out, "gsasrec_shared.pt"))
        # The archive's inner name is the file stem: 21 characters make the first central
        # directory entry exactly as long as torch's ZIP64 end records.
        stem = "gsasrec_zip64_trailer"
        assert len(stem) == 21
        torch.save(state, os.path.join(args.out, stem + ".pt"))
        shared_histories = [[2], [1, 5, 10, 3, 3, 8, 6]]

        broken = dict(state)
        del broken["transformer_blocks.0.dense2.bias"]
        torch.save(broken, os.path.join(args.out, "missing_tensor.pt"))
        broken = dict(state)
        broken["transformer_blocks.0.multihead_attention.key_proj.weight"] = torch.zeros(8, 4)
        torch.save(broken, os.path.join(args.out, "misshaped_tensor.pt"))
        broken = dict(state)
        broken["extra_head.weight"] = torch.zeros(3)
        torch.save(broken, os.path.join(args.out, "unexpected_tensor.pt"))

        expected = {
            "reference": {"url": REFERENCE_URL, "commit": commit},
            "torch": torch.__version__,
            "training_steps": args.steps,
            "final_training_loss": loss,
            "models": {
                "gsasrec_tiny.pt": {
                    "num_items": num_items,
                    "max_len": max_len,
                    "dim": 16,
                    "blocks": 2,
                    "heads": 2,
                    "shared_output": False,
                    "k": k,
                    "cases": expectations(tiny, num_items, histories, k),
                },
                "gsasrec_shared.pt": {
                    "num_items": shared_items,
                    "max_len": shared_len,
                    "dim": 8,
                    "blocks": 1,
                    "heads": 1,
                    "shared_output": True,
                    "k": 3,
                    "cases": expectations(shared, shared_items, shared_histories, 3),
                },
            },
        }
        text = json.dumps(expected, indent=1)
        # One line per list of numbers.
        text = re.sub(r"\[[-0-9.e,\s]+\]", lambda m: " ".join(m.group(0).split()), text)
        with open(os.path.join(args.out, "expected.json"), "w") as f:
            f.write(text + "\n")
    print(f"wrote the fixture to {os.path.normpath(args.out)} (reference commit {commit})")


if __name__ == "__main__":
    main()
