"""torch's process-wide state, set for dse's work and given back to the caller after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def scoped_torch(threads: int) -> Iterator[None]:
    """torch with `threads` intra-op threads and a forked random state, both restored after.

    Small layers gain nothing from intra-op threads and lose much to their spinning on a
    loaded machine (LeNet trains 30x slower with 2 threads beside other work); scale out with
    workers instead, or raise `evaluator.threads` for large models. The thread count also
    fixes the order of floating-point reductions, so a model trained with another count has
    other weights: training and scoring both run under the study's count.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        torch.set_num_threads(before)
