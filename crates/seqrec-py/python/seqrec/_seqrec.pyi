"""Type stubs of the native module (src/lib.rs): the `seqrec` package wraps it."""

from os import PathLike
from pathlib import Path
from typing import List, Optional, Tuple, Union

__version__: str

class SeqrecError(Exception):
    """A seqrec operation failed; the message is the one the `seqrec` program prints."""

def run(args: List[str]) -> str:
    """Runs the `seqrec` command line `args` in-process; returns what it prints on stdout."""

class Recommender:
    """A model directory of any kind, ranking the whole catalogue for histories."""

    @staticmethod
    def load(dir: Union[str, "PathLike[str]"], device: Optional[str] = None) -> "Recommender": ...
    def recommend(
        self,
        histories: List[List[str]],
        k: int = 10,
        exclude_history: bool = False,
        unknown: str = "error",
        scores: bool = False,
    ) -> Union[List[List[str]], List[List[Tuple[str, float]]]]: ...
    @property
    def kind(self) -> str: ...
    @property
    def items(self) -> List[str]: ...
    @property
    def max_len(self) -> int: ...
    @property
    def dir(self) -> Path: ...
