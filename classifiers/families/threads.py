"""How many math threads training uses: the `threads` run setting every family declares, and applying it.

A run setting, not a hyperparameter: it changes how fast a model trains on this machine, never what it learns,
so the card leaves it out (`Param.in_card`). The default is half the CPUs this process may use (at least one):
on a 2-core machine shared with other work, torch's 2-thread pool trained deep-v1 at 37-63 images/s against
183-268 with one thread (OpenMP threads spin-wait for a core the other work holds; docs/architecture.md, "Math
threads"). The other half decodes images in DataLoader workers and keeps the GUI responsive. The pipeline sets
OMP_NUM_THREADS per job (its CPU share), which the default follows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from classifiers.families.params import Param

THREADS = Param(
    "threads",
    "int",
    None,
    "math threads for training, a setting of this machine that the card does not record (none: OMP_NUM_THREADS "
    "when set, else half the CPUs, at least 1)",
    low=1,
    high=1024,
    optional=True,
    in_card=False,
)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one, else the CPU count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    """`threads`, or the default: OMP_NUM_THREADS when it holds a positive integer, else half the usable CPUs."""
    if threads is not None:
        return threads
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, usable_cpus() // 2)


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run the block with torch's intra-op pool at `resolve_threads(threads)`; the previous size comes back after.

    Inter-op threads are set once per process, the first time (torch refuses later changes once parallel work
    has run); the deep families run no inter-op parallel work on the CPU, so the intra-op pool is what counts.
    """
    import torch  # lazy: torch

    count = resolve_threads(threads)
    previous = torch.get_num_threads()
    with contextlib.suppress(RuntimeError):  # "cannot set number of interop threads after parallel work has started"
        torch.set_num_interop_threads(count)
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def native_threads(threads: int | None) -> Iterator[int]:
    """Run the block with the OpenMP / BLAS pools (NumPy, scikit-learn) and OpenCV at `resolve_threads(threads)`."""
    import cv2  # lazy: OpenCV's own pool (cv2.filter2D in the shallow features)
    from threadpoolctl import threadpool_limits  # lazy: a scikit-learn dependency

    count = resolve_threads(threads)
    previous = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        with threadpool_limits(limits=count):
            yield count
    finally:
        cv2.setNumThreads(previous)


def tensorflow_threads(threads: int | None) -> int:
    """Set TensorFlow's intra- and inter-op pools to `resolve_threads(threads)` and return the count in effect.

    TensorFlow fixes its pools when it first runs an op: later in the same process (a second training run in
    the GUI) the first run's count stays, and this returns it.
    """
    import tensorflow as tf  # lazy: tensorflow

    count = resolve_threads(threads)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(count)
        tf.config.threading.set_inter_op_parallelism_threads(min(count, 2))
    except RuntimeError:  # already initialised
        return tf.config.threading.get_intra_op_parallelism_threads() or count
    return count
