"""Files that hold a run: written atomically, read without running anything.

Every file is written to a temporary file beside its target, flushed, fsynced and
renamed over the target, so a reader or a crash never sees half a file: either the
old version or the new one. Torch files carry a header (``format``, ``kind``,
``version``) and are read with ``weights_only=True``, which unpickles tensors and
plain values only: a file that holds anything else is refused, never executed.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "state.pt"
>>> save_torch({"step": 3}, path, kind="checkpoint")
>>> load_torch(path, kind="checkpoint")["step"]
3
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from .errors import InputValueError

__all__ = ["FORMAT", "VERSIONS", "atomic_write", "load_torch", "plain", "save_torch"]

FORMAT = "pinnkan"
# The version of each kind of torch file this pinnkan writes and reads.
VERSIONS: dict[str, int] = {"checkpoint": 1, "model": 1}


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` so that the file is never seen half-written.

    The bytes go to a temporary file in the same folder, which is flushed,
    fsynced and renamed over ``path``; the folder is fsynced too, so the rename
    survives a power cut. On any error the temporary file is removed and ``path``
    keeps its old contents.
    """
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def save_torch(payload: Mapping[str, object], path: str | os.PathLike[str], *, kind: str) -> None:
    """Save ``payload`` (tensors and plain values) atomically, under a header naming its ``kind``."""
    if kind not in VERSIONS:
        raise InputValueError(f"kind must be one of {sorted(VERSIONS)}, got {kind!r}")
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "kind": kind, "version": VERSIONS[kind], **payload}, buffer)
    atomic_write(path, buffer.getvalue())


def load_torch(
    path: str | os.PathLike[str], *, kind: str, map_location: torch.device | str | None = None
) -> dict[str, object]:
    """The payload of a file written by :func:`save_torch` with the same ``kind``.

    Raises
    ------
    ValueError
        Naming the file, when it is missing, damaged (e.g. truncated), holds
        Python objects other than tensors and plain values (it is not unpickled),
        is not a pinnkan file, is another kind of pinnkan file, or has a format
        version this pinnkan does not read.
    """
    path = Path(path)
    if not path.is_file():
        raise InputValueError(f"{path} does not exist; give the {kind} file of a run folder written by `pinnkan solve`")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # The weights-only unpickler names the class or function it refused as a GLOBAL;
        # other unpickling errors are damaged bytes.
        if "global" in str(err).lower():
            raise InputValueError(
                f"{path} holds Python objects besides tensors and plain values, so loading it could run code; "
                f"pinnkan does not load it. Use a {kind} written by this pinnkan, or rerun the solve"
            ) from None
        raise _damaged(path, kind, err) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as err:
        raise _damaged(path, kind, err) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise InputValueError(f"{path} is not a pinnkan {kind} (it has no pinnkan header); {_fix(kind)}")
    if state.get("kind") != kind:
        raise InputValueError(f"{path} is a pinnkan {state.get('kind')}, not a {kind}; give the run folder's {kind} file")
    if state.get("version") != VERSIONS[kind]:
        raise InputValueError(
            f"{path} is a version {state.get('version')!r} {kind}; this pinnkan reads version {VERSIONS[kind]}: "
            f"use the pinnkan that wrote it, or rerun the solve"
        )
    return {k: v for k, v in state.items() if k not in ("format", "kind", "version")}


def plain(value: object) -> object:
    """``value`` with numpy scalars turned into Python numbers, in dicts, lists and tuples too.

    ``weights_only`` loading refuses numpy scalars (they unpickle through numpy
    code), so values that go into torch files pass through here.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def _damaged(path: Path, kind: str, err: Exception) -> InputValueError:
    return InputValueError(
        f"{path} is damaged (truncated or overwritten?) or not a torch file, and was not loaded "
        f"({type(err).__name__}); {_fix(kind)}"
    )


def _fix(kind: str) -> str:
    if kind == "checkpoint":
        return "delete it and solve without --resume to start afresh"
    return "rerun the solve to write it again"


def _sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename inside it is on disk (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
