#!/usr/bin/env python3
"""Checks, as a user would, that `seqrec` serves a model trained with the PyTorch reference
gSASRec (https://github.com/asash/gSASRec-pytorch) with the reference's recommendations.

1. Trains the reference `GSASRec` briefly on a dataset in the gSASRec layout (default: ML-1M,
   `../shared/data/ml1m-loo`) and saves its `state_dict` with `torch.save`, or takes a
   checkpoint given with `--checkpoint` (such as the reference's `pre_trained/*.pt`).
2. `seqrec import-gsasrec` turns it into a model directory.
3. For the first `--users` test users, compares the reference's top-10
   (`GSASRec.get_predictions` with the history excluded, as its evaluation does) with
   `seqrec recommend --exclude-history --json`: same items in the same order, and scores.
4. Compares the reference's test NDCG@10 (all users, computed here) with `seqrec evaluate`.

Usage (needs `torch`; the reference is cloned unless `--reference` points at a clone,
working tree or bare):

    cargo build -p seqrec
    python3 scripts/gsasrec_ml1m_parity.py --seqrec target/debug/seqrec \\
        [--reference PATH] [--data DIR] [--dim 128 --heads 1 --blocks 2 --max-len 200] \\
        [--steps 300] [--users 200] [--reuse-item-embeddings]
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_gsasrec_fixture import reference_sources  # noqa: E402


def read_sequences(path):
    with open(path) as f:
        return [[int(x) for x in line.split()] for line in f if line.strip()]


def window(history, max_len, pad):
    last = history[-max_len:]
    return [pad] * (max_len - len(last)) + last


def train(model, sequences, num_items, steps, batch_size, negatives, seed):
    """Next-item training with uniform negatives and BCE (t = 0 gBCE), Adam 1e-3: a short,
    ordinary run, enough for meaningful recommendations."""
    pad = num_items + 1
    rng = random.Random(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    started = time.time()
    for step in range(1, steps + 1):
        rows = [window(rng.choice(sequences), model.sequence_length + 1, pad) for _ in range(batch_size)]
        batch = torch.tensor(rows, dtype=torch.long)
        inputs, targets = batch[:, :-1], batch[:, 1:]
        hidden, _ = model(inputs)
        sampled = torch.randint(1, num_items + 1, targets.shape + (negatives,))
        candidates = torch.cat([targets.unsqueeze(-1), sampled], dim=-1)
        logits = torch.einsum("bsd,bsnd->bsn", hidden, model.get_output_embeddings()(candidates))
        labels = torch.zeros_like(logits)
        labels[..., 0] = 1.0
        mask = (inputs != pad).float()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(-1)
        loss = (loss * mask).sum() / mask.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 50 == 0 or step == steps:
            print(f"step {step}: loss {loss.item():.4f} ({time.time() - started:.0f} s)", flush=True)
    model.eval()


def reference_top10(model, histories, num_items):
    """(items, scores) per history: `get_predictions` with the history excluded."""
    pad = num_items + 1
    results = []
    with torch.no_grad():
        for start in range(0, len(histories), 256):
            chunk = histories[start : start + 256]
            x = torch.tensor([window(h, model.sequence_length, pad) for h in chunk], dtype=torch.long)
            items, scores = model.get_predictions(x, 10, rated=[set(h) for h in chunk])
            results += list(zip(items.tolist(), scores.tolist()))
    return results


def reference_ndcg10(model, histories, targets, num_items):
    """Mean NDCG@10 of the held-out items, history excluded (the reference's protocol)."""
    total = 0.0
    for (items, _), target in zip(reference_top10(model, histories, num_items), targets):
        if target in items:
            total += 1.0 / math.log2(items.index(target) + 2)
    return total / len(targets)


def run(command):
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{out.stdout}{out.stderr}")
    return out.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seqrec", required=True, help="the seqrec program")
    parser.add_argument("--reference", help="clone of gSASRec-pytorch (working tree or bare)")
    parser.add_argument("--data", default=os.path.join("..", "shared", "data", "ml1m-loo"))
    parser.add_argument("--checkpoint", help="a reference state_dict to use instead of training")
    parser.add_argument("--workdir", help="where to keep the checkpoint and model directory")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--max-len", type=int, default=200)
    parser.add_argument("--reuse-item-embeddings", action="store_true")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--negatives", type=int, default=64)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or tmp
        os.makedirs(workdir, exist_ok=True)
        sources, commit = reference_sources(args.reference, tmp)
        sys.path.insert(0, sources)
        from gsasrec import GSASRec  # noqa: E402  (the reference code)

        with open(os.path.join(args.data, "dataset_stats.json")) as f:
            num_items = json.load(f)["num_items"]
        model = GSASRec(num_items, sequence_length=args.max_len, embedding_dim=args.dim,
                        num_heads=args.heads, num_blocks=args.blocks, dropout_rate=0.2,
                        reuse_item_embeddings=args.reuse_item_embeddings)
        checkpoint = args.checkpoint
        if checkpoint:
            model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
            model.eval()
        else:
            train(model, read_sequences(os.path.join(args.data, "train", "input.txt")), num_items,
                  args.steps, args.batch_size, args.negatives, args.seed)
            checkpoint = os.path.join(workdir, "gsasrec.pt")
            torch.save(model.state_dict(), checkpoint)

        histories = read_sequences(os.path.join(args.data, "test", "input.txt"))
        with open(os.path.join(args.data, "test", "output.txt")) as f:
            targets = [int(line) for line in f if line.strip()]
        ndcg = reference_ndcg10(model, histories, targets, num_items)

        model_dir = os.path.join(workdir, "model")
        run([args.seqrec, "import-gsasrec", "--checkpoint", checkpoint, "--heads", str(args.heads),
             "--out", model_dir])
        ours_eval = json.loads(run([args.seqrec, "evaluate", "--model", model_dir, "--data", args.data,
                                    "--split", "test", "--json"]))

        users = histories[: args.users]
        same, tie_swaps, worst, disagreements = 0, 0, 0.0, []
        started = time.time()
        for user, ((items, scores), history) in enumerate(zip(reference_top10(model, users, num_items), users)):
            ours = json.loads(run([args.seqrec, "recommend", "--model", model_dir, "--history",
                                   " ".join(map(str, history)), "-k", "10", "--exclude-history", "--json"]))
            ours_items = [int(i) for i in ours["items"]]
            if ours_items == items:
                same += 1
            else:
                # An order that differs only between items whose scores tie within float
                # rounding: same items, and the scores rank by rank within 1e-4.
                if set(ours_items) == set(items) and all(
                    abs(a - b) < 1e-4 for a, b in zip(scores, ours["scores"])
                ):
                    tie_swaps += 1
                disagreements.append({"user": user, "reference": items, "seqrec": ours_items,
                                      "reference_scores": scores, "seqrec_scores": ours["scores"]})
            worst = max(worst, max(abs(a - b) for a, b in zip(scores, ours["scores"])))
        summary = {
            "reference_commit": commit,
            "torch": torch.__version__,
            "config": {"num_items": num_items, "dim": args.dim, "heads": args.heads, "blocks": args.blocks,
                       "max_len": args.max_len, "reuse_item_embeddings": args.reuse_item_embeddings,
                       "trained_steps": 0 if args.checkpoint else args.steps},
            "users_compared": len(users),
            "identical_top10": same,
            "top10_differing_only_by_tied_scores": tie_swaps,
            "max_top10_score_difference": worst,
            "reference_test_ndcg@10": ndcg,
            "seqrec_test_ndcg@10": ours_eval["ndcg@10"],
            "seconds_for_seqrec_recommend_calls": round(time.time() - started, 1),
            "disagreements": disagreements[:5],
        }
        print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
