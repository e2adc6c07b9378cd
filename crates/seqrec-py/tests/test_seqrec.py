"""The Python package against the program it drives: the same data through a DataFrame or a
file gives the same model, errors keep the program's messages, the tables are the run's files.

Run with ``pytest crates/seqrec-py/tests`` after installing the wheel (README.md of the crate).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import seqrec

SHARED = Path(__file__).resolve().parents[4] / "shared"

# A model small enough to train in a second on the CPU.
TINY = dict(
    device="ndarray",
    dim=8,
    max_len=10,
    blocks=1,
    negatives=8,
    batch_size=16,
    eval_every=2,
)

# An ablation of one tiny variant for two steps (and the baselines).
TINY_ABLATION = dict(
    budget=2,
    variants=["no-mask-pe"],
    max_len=12,
    dim=8,
    negatives=16,
    eval_every=2,
)


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A simulated listening log of 150 users (CSV, the program's own writer)."""
    path = tmp_path_factory.mktemp("log") / "events.csv"
    summary = seqrec.simulate(path, users=150, tracks=300, seed=3)
    assert summary["users"] == 150
    return path


def frame_of(path: Path) -> pd.DataFrame:
    """The log as a notebook holds it: datetimes, a categorical user column, booleans."""
    frame = pd.read_csv(path)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["user_id"] = frame["user_id"].astype("category")
    frame["skipped"] = frame["skipped"].astype(bool)
    return frame


def test_a_dataframe_trains_the_model_its_file_trains(log, tmp_path):
    from_file = seqrec.train(log, out=tmp_path / "file", steps=2, **TINY)
    from_frame = seqrec.train(frame_of(log), out=tmp_path / "frame", steps=2, **TINY)
    assert from_file["steps"] == 2
    for key in ("steps", "best_step", "best_validation_ndcg@10", "test"):
        assert from_frame[key] == from_file[key], key
    a = seqrec.Recommender.load(tmp_path / "file")
    b = seqrec.Recommender.load(tmp_path / "frame")
    assert a.items == b.items
    histories = [a.items[:3], a.items[5:6], a.items[7:20]]
    assert a.recommend(histories, k=10, scores=True) == b.recommend(histories, k=10, scores=True)
    pyarrow = pytest.importorskip("pyarrow")
    table = pyarrow.Table.from_pandas(frame_of(log))
    from_table = seqrec.train(table, out=tmp_path / "table", steps=2, **TINY)
    assert from_table["best_validation_ndcg@10"] == from_file["best_validation_ndcg@10"]


@pytest.mark.parametrize("compression", ["zstd", "lz4", "snappy"])
def test_parquet_files_pandas_writes_train_the_model_the_csv_trains(log, tmp_path, compression):
    pytest.importorskip("pyarrow")
    path = tmp_path / f"events.{compression}.parquet"
    frame = frame_of(log)  # a category column is a dictionary, datetimes a UTC timestamp
    frame.to_parquet(path, compression=compression, index=False)
    from_file = seqrec.train(log, out=tmp_path / "csv", steps=2, **TINY)
    from_parquet = seqrec.train(path, out=tmp_path / "parquet", steps=2, **TINY)
    for key in ("steps", "best_validation_ndcg@10", "test"):
        assert from_parquet[key] == from_file[key], key


def test_recommend_ranks_each_history_as_alone(log, tmp_path):
    seqrec.train(log, out=tmp_path / "model", steps=2, **TINY)
    model = seqrec.Recommender.load(tmp_path / "model", device="ndarray")
    assert model.kind == "gsasrec"
    assert model.max_len >= 10  # the attention window, or the repeat term's longer one
    items = model.items
    histories = [items[:3], items[10:11], items[20:60]]
    together = model.recommend(histories, k=10, scores=True)
    assert len(together) == 3
    for history, row in zip(histories, together):
        assert [row] == model.recommend([history], k=10, scores=True)
        assert len(row) == 10
        scores = [score for _, score in row]
        assert scores == sorted(scores, reverse=True)
        assert all(track in items for track, _ in row)
    excluded = model.recommend(histories, k=10, exclude_history=True)
    for history, row in zip(histories, excluded):
        assert not set(history) & set(row)
    assert model.recommend(histories, k=5) == [[t for t, _ in row[:5]] for row in together]


def test_evaluate_on_events_gives_the_test_metrics_of_train(log, tmp_path):
    trained = seqrec.train(log, out=tmp_path / "model", steps=2, **TINY)
    model = seqrec.Recommender.load(tmp_path / "model")
    for events in (log, frame_of(log)):
        evaluated = model.evaluate(events, device="ndarray")
        for metric in ("ndcg@10", "recall@10", "recall@1", "mrr"):
            assert evaluated[metric] == trained["test"][metric], metric
    excluded = model.evaluate(log, metrics=["ndcg@10"], history="excluded")
    assert set(excluded) == {"ndcg@10"}


def test_errors_are_python_exceptions_with_the_programs_messages(log, tmp_path):
    with pytest.raises(TypeError, match="--no-such-flag"):
        seqrec.train(log, out=tmp_path / "m", steps=2, no_such_flag=3)
    with pytest.raises(ValueError, match="--dim"):
        seqrec.train(log, out=tmp_path / "m", steps=2, dim="wide")
    with pytest.raises(TypeError, match="out="):
        seqrec.train(log, steps=2)
    without_user = pd.read_csv(log).drop(columns=["user_id"])
    with pytest.raises(seqrec.SeqrecError, match="user_id") as error:
        seqrec.train(without_user, out=tmp_path / "m", steps=2, **TINY)
    assert "the events table" in str(error.value)
    with pytest.raises(seqrec.SeqrecError, match="no-model"):
        seqrec.Recommender.load(tmp_path / "no-model")
    seqrec.train(log, out=tmp_path / "model", steps=2, **TINY)
    model = seqrec.Recommender.load(tmp_path / "model")
    known = model.items[0]
    with pytest.raises(seqrec.SeqrecError, match="history 1: unknown item `nope` at position 1"):
        model.recommend([[known], [known, "nope"]])
    assert model.recommend([[known, "nope"]], unknown="skip") == model.recommend([[known]])
    with pytest.raises(TypeError, match="list of histories"):
        model.recommend([known, known])
    with pytest.raises(ValueError, match="k must be at least 1"):
        model.recommend([[known]], k=0)


def test_ablation_returns_table1_with_one_row_per_model(log, tmp_path):
    out = tmp_path / "ablation"
    table1 = seqrec.ablation(frame_of(log), out=out, **TINY_ABLATION)
    assert list(table1.index) == [
        "Item-item",
        "Popularity",
        "Personal popularity",
        "No mask, PE",
    ]
    long = pd.read_csv(out / "table1.csv")
    for k in (10, 50, 100, 200):
        for model, row in table1.iterrows():
            want = long[(long["model"] == model) & (long["k"] == k)].iloc[0]
            assert row[f"f1@{k}"] == want["mean"]
            assert row[f"f1@{k} ci_lower"] <= row[f"f1@{k}"] <= row[f"f1@{k} ci_upper"]
    assert {"table2", "table1_discovery", "learning_curves"} <= set(table1.seqrec.names)
    table2 = table1.seqrec.table("table2")
    assert set(table2["model"]) == set(table1.index)
    assert "(0, 50]" in set(table2["cohort"])
    discovery = table1.seqrec.wide("table1_discovery")
    assert list(discovery.index) == list(table1.index)
    assert seqrec.read_ablation(out).equals(table1)
    with pytest.raises(seqrec.SeqrecError, match="no such table"):
        table1.seqrec.table("table9")


@pytest.mark.skipif(not (SHARED / "data" / "ml1m-loo").is_dir(), reason="needs ../shared")
def test_evaluate_gives_the_metrics_by_name(tmp_path):
    data = SHARED / "data" / "ml1m-loo"
    seqrec.train(data, out=tmp_path / "ml1m", steps=2, **TINY)
    model = seqrec.Recommender.load(tmp_path / "ml1m")
    default = model.evaluate(data, split="val")
    assert set(default) == {"ndcg@10", "recall@10", "recall@1", "mrr"}
    assert all(0.0 <= value <= 1.0 for value in default.values())
    chosen = model.evaluate(data, split="val", metrics=["hit@10", "ndcg@10"], per_user=tmp_path / "u.csv")
    assert chosen["hit@10"] == default["recall@10"]
    assert chosen["ndcg@10"] == default["ndcg@10"]
    per_user = pd.read_csv(tmp_path / "u.csv")
    assert per_user["ndcg@10"].mean() == pytest.approx(default["ndcg@10"], rel=1e-9)


@pytest.mark.skipif(not (SHARED / "data" / "ml1m-loo").is_dir(), reason="needs ../shared")
def test_an_ablation_on_next_item_data_returns_its_next_item_table(tmp_path):
    out = tmp_path / "ml1m"
    table = seqrec.ablation(SHARED / "data" / "ml1m-loo", out=out, **TINY_ABLATION)
    assert "Item-item" in table.index and "No mask, PE" in table.index
    assert table.loc["Item-item", "users"] == 6040
    assert (table["ndcg_lower"] <= table["ndcg@10"]).all()
    assert table.seqrec.out == out


def test_run_is_the_command_line(tmp_path):
    assert "Usage: seqrec train" in seqrec.run("train", "--help")
    printed = seqrec.run("simulate", "--out", str(tmp_path / "e.csv"), "--users", "20", "--json")
    assert json.loads(printed)["users"] == 20
