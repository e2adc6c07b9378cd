"""seqrec from Python: train gSASRec music recommenders, recommend, evaluate, and reproduce
the paper's Tables 1 and 2 (Greer et al., *Beyond Collaborative Filtering: Using Transformers
for Personalized Music Recommendation*).

Every call runs the `seqrec` program's own code in this process (the native module
``seqrec._seqrec``), so the settings, defaults and messages are those of the command line
(``seqrec train --help``): keyword arguments become its flags, ``dim=64`` is ``--dim 64``,
``no_repeat=True`` is ``--no-repeat``, a list is written comma-separated.

>>> import seqrec
>>> seqrec.train(events_df, out="runs/model", steps=300)        # doctest: +SKIP
>>> model = seqrec.Recommender.load("runs/model")               # doctest: +SKIP
>>> model.recommend([["t1", "t7"], ["t3"]], k=10)                # doctest: +SKIP
>>> table1 = seqrec.ablation(events_df, out="runs/ablation")     # doctest: +SKIP
>>> table1.seqrec.table("table2")                                # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import pandas as pd

from . import _seqrec
from ._seqrec import SeqrecError

__all__ = [
    "SeqrecError",
    "Recommender",
    "ablation",
    "read_ablation",
    "run",
    "simulate",
    "train",
]
__version__ = _seqrec.__version__

PathLike = Union[str, "os.PathLike[str]"]

#: Events a call accepts: a file or folder the program reads (CSV, TSV, Parquet, Spotify,
#: Last.fm, Yambda, RecBole ``.inter``, gzipped text...), or a table with the event columns
#: (``user_id``, ``track_id``, ``timestamp`` and optionally ``ms_played``,
#: ``track_length_ms``, ``skipped``; other names through ``user_col=`` and friends): a pandas
#: DataFrame, or anything with ``to_pandas()`` (a pyarrow Table, a Polars DataFrame).
Events = Any


def run(*args: str) -> str:
    """Runs a ``seqrec`` command line in this process and returns what it prints on stdout.

    ``seqrec.run("simulate", "--out", "events.csv", "--users", "200")`` is
    ``seqrec simulate --out events.csv --users 200``; ``seqrec.run("train", "--help")``
    returns the help text.
    """
    return _seqrec.run([str(a) for a in args])


def _flags(config: Mapping[str, Any]) -> list[str]:
    """Command-line flags for keyword arguments: ``max_len=50`` is ``--max-len 50``, ``True``
    a bare flag, ``False`` and ``None`` leave the flag out, a list or tuple is comma-separated."""
    flags: list[str] = []
    for key, value in config.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif isinstance(value, (list, tuple)):
            flags += [flag, ",".join(str(v) for v in value)]
        else:
            flags += [flag, str(value)]
    return flags


def _milliseconds(column: pd.Series) -> pd.Series:
    """A datetime or timedelta column as integer milliseconds (a datetime since the Unix epoch,
    UTC for a time-zone-aware one)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        tz = getattr(column.dt, "tz", None)
        epoch = pd.Timestamp("1970-01-01", tz="UTC" if tz is not None else None)
        column = column - epoch
    return (column // pd.Timedelta(milliseconds=1)).astype("Int64")


@contextlib.contextmanager
def _events_file(events: Events, config: dict) -> Iterator[Optional[str]]:
    """The path the program reads ``events`` from: the path itself, or a table written to a
    temporary CSV file (datetimes and durations as milliseconds, booleans as true/false) that
    lives as long as the call. Sets ``time_format`` in ``config`` when it wrote the time column."""
    if events is None:
        yield None
        return
    if isinstance(events, (str, os.PathLike)):
        yield os.fspath(events)
        return
    frame = events
    if not isinstance(frame, pd.DataFrame):
        if not hasattr(frame, "to_pandas"):
            raise TypeError(
                "events must be a path, a pandas DataFrame or a table with to_pandas() "
                f"(pyarrow, Polars), not {type(events).__name__}"
            )
        frame = frame.to_pandas()
    frame = frame.copy()
    time_col = config.get("time_col") or "timestamp"
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(
            column
        ):
            frame[name] = _milliseconds(column)
            if name == time_col and config.get("time_format") is None:
                config["time_format"] = "unix-millis"
        elif pd.api.types.is_bool_dtype(column):
            frame[name] = column.map({True: "true", False: "false"})
    with tempfile.TemporaryDirectory(prefix="seqrec-events-") as folder:
        path = os.path.join(folder, "events.csv")
        frame.to_csv(path, index=False)
        try:
            yield path
        except SeqrecError as error:
            # Name the table, not the temporary file: line L of the file is row L - 2.
            message = str(error).replace(
                path, "the events table (as CSV: line L is row L - 2)"
            )
            raise SeqrecError(message) from None


def _last_json(printed: str) -> dict:
    """The JSON object a ``--json`` command printed (its last line)."""
    lines = [line for line in printed.splitlines() if line.strip()]
    if not lines:
        raise SeqrecError("the command printed no result")
    return json.loads(lines[-1])


def train(
    events: Events = None,
    out: Optional[PathLike] = None,
    steps: Optional[int] = None,
    *,
    device: Optional[str] = None,
    verbose: bool = False,
    **config: Any,
) -> dict:
    """Trains a gSASRec model on ``events`` and saves the best one (by validation NDCG@10) to
    the directory ``out``; returns ``seqrec train --json``'s result (steps, seconds, best
    validation, test metrics, ``model_dir``).

    ``events`` is a path, a DataFrame or a table (see :data:`Events`; a listening log is split
    by time into 60 days of history and a held-out week), a directory in the gSASRec layout,
    or None for the built-in simulated data. ``steps`` (or ``epochs=``, ``time_limit="30m"``)
    bounds the run. Every other keyword is a flag of ``seqrec train`` (``dim=64``,
    ``loss="full-softmax"``, ``attention="bidirectional"``, ``config="run.toml"``, ...).
    ``device`` is ``ndarray``, ``flex``, ``wgpu`` or ``cuda[:N]``; ``verbose`` shows the
    progress bar.
    """
    if out is None:
        raise TypeError("train() needs out=: the model directory to write")
    with _events_file(events, config) as path:
        args = ["train", "--out", os.fspath(out), "--json"]
        if path is not None:
            args += ["--data", path]
        if steps is not None:
            args += ["--steps", str(steps)]
        if device is not None:
            args += ["--device", device]
        if not verbose:
            args.append("--quiet")
        args += _flags(config)
        return _last_json(run(*args))


def simulate(out: PathLike, **config: Any) -> dict:
    """Writes a simulated listening log to ``out`` (``seqrec simulate``; ``users=``,
    ``tracks=``, ``seed=``, ...) and returns its ``--json`` summary. The default settings
    write the built-in data, byte for byte."""
    return _last_json(run("simulate", "--out", os.fspath(out), "--json", *_flags(config)))


def ablation(
    events: Events = None,
    out: Optional[PathLike] = None,
    budget: Union[int, str, None] = None,
    *,
    verbose: bool = False,
    **config: Any,
) -> pd.DataFrame:
    """Reproduces the paper's ablation (``seqrec ablation``): item-item, popularity and
    personal popularity baselines and the four transformer variants trained alike on
    ``events`` (None: the built-in data) and evaluated with the profile protocol.

    Returns Table 1 as a DataFrame with one row per model (F1@k and its 95 % interval for
    every k; on a gSASRec-layout directory, whose ablation ranks next items, the next-item
    table: NDCG@10 and recall@10 with their intervals); the other tables come through the
    ``.seqrec`` accessor
    (``table1.seqrec.table("table2")``, ``.seqrec.names``). ``budget`` is each model's
    training budget: steps (``600``) or a duration (``"2m"``). Every other keyword is a flag of
    ``seqrec ablation`` (``variants=["no-mask-pe"]``, ``seed=7``, ``users=2000``, ...).
    """
    if out is None:
        raise TypeError("ablation() needs out=: the results directory to write")
    with _events_file(events, config) as path:
        args = ["ablation", "--out", os.fspath(out)]
        if path is not None:
            args += ["--data", path]
        if budget is not None:
            args += ["--budget", str(budget)]
        if not verbose:
            args.append("--quiet")
        args += _flags(config)
        run(*args)
    return read_ablation(out)


def read_ablation(out: PathLike, table: str = "table1") -> pd.DataFrame:
    """Table 1 (or ``table``, e.g. ``"table1_discovery"``) of an ablation's results directory
    as a DataFrame with one row per model: for every k, ``f1@k`` and its interval
    ``f1@k ci_lower``, ``f1@k ci_upper``; the index is the model's name, in the run's order.
    A next-item ablation (a gSASRec-layout dataset) has ``next_item`` instead, already one
    row per model, which is what Table 1 gives there."""
    if table == "table1" and not (Path(out) / "table1.csv").is_file():
        if (Path(out) / "next_item.csv").is_file():
            table = "next_item"
    if table == "next_item":
        wide = _read_table(Path(out), table).set_index("model")
        wide.attrs["seqrec.out"] = os.fspath(out)
        return wide
    long = _read_table(Path(out), table)
    overall = long[long["cohort"] == "All"]
    models = list(dict.fromkeys(overall["model"]))
    wide = pd.DataFrame(index=pd.Index(models, name="model"))
    wide["users"] = overall.groupby("model", sort=False)["users"].first()
    for (metric, k), rows in overall.groupby(["metric", "k"], sort=False):
        rows = rows.set_index("model")
        name = f"{metric}@{k}"
        wide[name] = rows["mean"]
        wide[f"{name} ci_lower"] = rows["ci_lower"]
        wide[f"{name} ci_upper"] = rows["ci_upper"]
    wide.attrs["seqrec.out"] = os.fspath(out)
    return wide


def _read_table(out: Path, name: str) -> pd.DataFrame:
    """The long form of table ``name`` (``out/NAME.csv``)."""
    path = out / f"{name}.csv"
    if not path.is_file():
        known = sorted(p.stem for p in out.glob("*.csv"))
        raise SeqrecError(f"{path}: no such table (this directory has: {', '.join(known)})")
    return pd.read_csv(path)


@pd.api.extensions.register_dataframe_accessor("seqrec")
class AblationTables:
    """``table1.seqrec``: the other tables of the ablation a Table 1 DataFrame came from."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    @property
    def out(self) -> Path:
        """The ablation's results directory."""
        try:
            return Path(self._frame.attrs["seqrec.out"])
        except KeyError:
            raise AttributeError(
                "this DataFrame is not a table of seqrec.ablation or seqrec.read_ablation"
            ) from None

    @property
    def names(self) -> list[str]:
        """The tables of the run: ``table1``, ``table2`` (by history length), their
        ``_discovery`` views (history tracks excluded), ``learning_curves``."""
        return sorted(p.stem for p in self.out.glob("*.csv"))

    def table(self, name: str = "table2") -> pd.DataFrame:
        """Table ``name`` in long form, one row per model, cohort, metric and k (the CSV file the
        run wrote: mean, interval, difference to the baseline)."""
        return _read_table(self.out, name)

    def wide(self, name: str = "table1_discovery") -> pd.DataFrame:
        """Table ``name`` with one row per model, as :func:`read_ablation` gives Table 1."""
        return read_ablation(self.out, name)


class Recommender:
    """A trained model directory (``seqrec train``, or a model of ``seqrec ablation``: a
    transformer, item-item or personal popularity) that ranks the whole catalogue for
    histories of the user's own track ids."""

    def __init__(self, native: "_seqrec.Recommender") -> None:
        self._native = native

    @classmethod
    def load(cls, dir: PathLike, device: Optional[str] = None) -> "Recommender":
        """Loads the model directory ``dir`` (onto ``device``: ``ndarray``, ``flex``, ``wgpu``,
        ``cuda[:N]``; default the fastest CPU backend)."""
        return cls(_seqrec.Recommender.load(os.fspath(dir), device))

    def recommend(
        self,
        histories: Sequence[Sequence[Any]],
        k: int = 10,
        exclude_history: bool = False,
        *,
        unknown: str = "error",
        scores: bool = False,
    ) -> list:
        """The top ``k`` track ids, best first, for each history (a list of the user's track
        ids, oldest first; ids are compared as text, so ``7`` and ``"7"`` are one track).
        ``exclude_history`` leaves a history's own tracks out; ``unknown="skip"`` leaves out
        tracks the model does not know instead of raising; ``scores`` returns
        ``(track id, score)`` pairs."""
        if isinstance(histories, (str, bytes)) or (
            len(histories) > 0 and isinstance(histories[0], (str, bytes, int))
        ):
            raise TypeError(
                "histories is a list of histories (lists of track ids): "
                "recommend([history]) for one"
            )
        texts = [[str(item) for item in history] for history in histories]
        return self._native.recommend(texts, k, exclude_history, unknown, scores)

    def evaluate(
        self,
        data: Events,
        split: str = "test",
        metrics: Optional[Sequence[str]] = None,
        *,
        per_user: Optional[PathLike] = None,
        device: Optional[str] = None,
        **flags: Any,
    ) -> dict:
        """Ranks the whole catalogue for the held-out users of ``data`` (``seqrec evaluate``)
        and returns the metrics by name: ``ndcg@10``, ``recall@10``, ``recall@1``, ``mrr`` by
        default, or ``metrics`` (``hit@k`` is RecBole's ``recall@k``). ``data`` is a
        gSASRec-layout directory, or listening events (a path or a table, see :data:`Events`)
        split by time as :func:`train` splits them, their tracks matched to the model's by id.
        ``per_user`` also writes every user's rank and metrics to a CSV file; other keywords are
        flags of ``seqrec evaluate`` (``history="excluded"``, ``user_col=...``)."""
        with _events_file(data, flags) as path:
            args = ["evaluate", "--model", os.fspath(self.dir), "--data", path]
            args += ["--split", split, "--json"]
            if metrics is not None:
                args += ["--metrics", ",".join(metrics)]
            if per_user is not None:
                args += ["--per-user", os.fspath(per_user)]
            if device is not None:
                args += ["--device", device]
            args += _flags(flags)
            return _last_json(run(*args))

    @property
    def kind(self) -> str:
        """``gsasrec``, ``item-item`` or ``personal-popularity``."""
        return self._native.kind

    @property
    def items(self) -> list[str]:
        """The track ids the model knows."""
        return self._native.items

    @property
    def max_len(self) -> int:
        """The most recent history tracks the model reads."""
        return self._native.max_len

    @property
    def dir(self) -> Path:
        """The model directory."""
        return Path(self._native.dir)

    def __repr__(self) -> str:
        return repr(self._native)
