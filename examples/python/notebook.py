"""A notebook's first cells, as one script: a pandas DataFrame of listening events, a model
trained on it, recommendations for three listeners, and the paper's Table 1 as a DataFrame.

    pip install target/wheels/seqrec-*.whl      # built by `maturin build --release` in crates/seqrec-py
    python examples/python/notebook.py          # the default run: the ablation takes minutes
    python examples/python/notebook.py --quick  # a small log and tiny budgets (CI runs this)
"""

import argparse
import tempfile
from pathlib import Path

import pandas as pd

import seqrec

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="a small log and tiny budgets")
parser.add_argument("--out", type=Path, help="where to write (default: a temporary folder)")
options = parser.parse_args()
work = options.out or Path(tempfile.mkdtemp(prefix="seqrec-notebook-"))
work.mkdir(parents=True, exist_ok=True)

# 1. Listening events in pandas. Here the simulator's log, read back as a notebook reads its
#    own export; any DataFrame with user_id, track_id and timestamp columns will do (ms_played,
#    track_length_ms and skipped are used when present; other names: user_col=..., ...).
users = 300 if options.quick else 5000
seqrec.simulate(work / "events.csv", users=users)
events = pd.read_csv(work / "events.csv", parse_dates=["timestamp"])
print(f"{len(events)} plays of {events['user_id'].nunique()} listeners")
print(events.head(3).to_string(index=False))

# 2. A transformer trained on the DataFrame (60 days of history, the last week held out).
steps = 20 if options.quick else 300
quick_model = dict(dim=16, max_len=20) if options.quick else {}
result = seqrec.train(events, out=work / "model", steps=steps, **quick_model)
print(f"\ntrained {result['steps']} steps in {result['seconds']:.1f} s; test {result['test']}")

# 3. Recommendations for three listeners, from their own plays (oldest first).
model = seqrec.Recommender.load(work / "model")
histories = events.sort_values("timestamp").groupby("user_id")["track_id"].agg(list)
three = histories.iloc[:3]
recommended = model.recommend(list(three), k=10, unknown="skip")
print()
for user, tracks in zip(three.index, recommended):
    print(f"{user}: {' '.join(tracks)}")
new = model.recommend(list(three), k=5, exclude_history=True, unknown="skip")
print(f"{three.index[0]}, new tracks only: {' '.join(new[0])}")

# 4. The paper's Table 1: every model trained alike, F1@k with 95 % intervals, one row per model.
budget = 20 if options.quick else 600
quick_ablation = dict(variants=["no-mask-pe"], dim=16, max_len=20) if options.quick else {}
table1 = seqrec.ablation(events, out=work / "ablation", budget=budget, **quick_ablation)
pd.set_option("display.width", 120)
print("\nTable 1 (F1@k):")
print(table1[[f"f1@{k}" for k in (10, 50, 100, 200)]].round(4))
table2 = table1.seqrec.table("table2")
print("\nTable 2 (F1@10 by history length):")
at_10 = table2[table2["k"] == 10]
by_cohort = at_10.pivot(index="cohort", columns="model", values="mean")
cohorts = list(dict.fromkeys(at_10["cohort"]))  # the run's order: lightest listeners first
print(by_cohort.reindex(index=cohorts, columns=table1.index).round(4))
