"""Compiling and loading pinnkan's C kernels: a :class:`KernelBuild` holds the settings and the state.

A build has three settings, each with an environment variable as its documented
default:

* ``enabled`` — whether kernels are compiled at all (``PINNKAN_NATIVE=0`` turns them off);
* ``compiler`` — the compiler's command line, which may carry arguments
  (``ccache gcc``; default ``$CC``, else the first of ``cc``, ``gcc``, ``clang`` found);
* ``cache`` — the folder compiled libraries are kept in (default
  ``$PINNKAN_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/pinnkan/kernels``, else
  ``~/.cache/pinnkan/kernels``).

Its state is what it has loaded, which build each variant got and which variants
failed, so two builds (a test's and the user's, or two runs with different caches)
never share a failure. The kernels use the *active* build: the default one, made
from the environment when pinnkan is imported, or one made active with :meth:`KernelBuild.active`
(``solve`` activates ``Setup.kernels`` for the whole run).

A source is compiled once for each scalar type and each set of sizes, which become
compile-time constants, under a file name that hashes the sources, the flags the build
used, the compiler with its version, and the processor's features, so a cache shared
between machines or compilers never serves one another's code. Builds are tried tuned
to this processor and threaded (``-march=native -fopenmp``), then threaded, then plain;
:meth:`KernelBuild.status` says which one loaded.

Compiled code is loaded only from a folder, and a file, that belong to the current user,
are no symbolic links and cannot be written by others (checked before every load):
another user of a shared machine cannot plant a library there. A cache folder that fails
these checks, cannot be created or cannot be written is not used; the kernels are then
compiled into a private temporary folder (mode 0700) of this process, with a warning.

Examples
--------
>>> from pinnkan.models.kernel_build import KernelBuild
>>> KernelBuild(enabled=False).status()
'disabled'
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import hashlib
import os
import platform
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch

from ..errors import InputTypeError, InputValueError

__all__ = ["KernelBuild", "KernelSource", "active_build"]

# Reassociation lets the dot products vectorise; the result is still the same on every call.
_FLAGS = ["-O3", "-fPIC", "-shared", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math"]
# Tried in turn: tuned to this processor and threaded; threaded; plain (one thread).
_ATTEMPTS = (["-march=native", "-fopenmp"], ["-fopenmp"], [])
# What a build without each attempt's flags lacks, for status().
_DEGRADED = ("", "built without -march=native", "built without -march=native and OpenMP (one thread)")
_SCALARS = {torch.float32: "float", torch.float64: "double"}

T = TypeVar("T")


@dataclass(frozen=True)
class KernelSource:
    """A C file compiled into kernels: its ``name`` (the start of the library's file name), the file,
    the files it includes (hashed with it), and the names of the constants its sizes define."""

    name: str
    path: Path
    includes: tuple[Path, ...]
    constants: tuple[str, ...]


class KernelBuild:
    """How pinnkan's C kernels are compiled and where they are kept, with what this build has loaded.

    Parameters
    ----------
    enabled : bool, optional
        Compile and use the kernels; default: unless ``PINNKAN_NATIVE=0``.
    compiler : str or sequence of str, optional
        The compiler's command, which may carry arguments (``"ccache gcc"``); default ``$CC``,
        else ``cc``, ``gcc`` or ``clang``, whichever is found first.
    cache : path, optional
        The folder of compiled kernels; default ``$PINNKAN_KERNEL_CACHE``, else
        ``$XDG_CACHE_HOME/pinnkan/kernels``, else ``~/.cache/pinnkan/kernels``.

    Raises
    ------
    TypeError
        For settings of the wrong type.
    ValueError
        For an empty compiler command.
    """

    def __init__(
        self,
        *,
        enabled: bool | None = None,
        compiler: str | Sequence[str] | None = None,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        if enabled is not None and not isinstance(enabled, bool):
            raise InputTypeError(f"KernelBuild(enabled=...) must be True, False or None, got {enabled!r}")
        if compiler is not None and not (isinstance(compiler, str) or (
                isinstance(compiler, (list, tuple)) and all(isinstance(w, str) for w in compiler))):
            raise InputTypeError(
                f"KernelBuild(compiler=...) must be a command such as 'gcc' or 'ccache gcc', or a list of its words; "
                f"got {compiler!r}"
            )
        if cache is not None and not isinstance(cache, (str, os.PathLike)):
            raise InputTypeError(f"KernelBuild(cache=...) must be a folder path, got {cache!r}")
        if cache is not None and not str(cache).strip():
            raise InputValueError("KernelBuild(cache=...) is empty; give a folder path, or None for the default")
        self.enabled = os.environ.get("PINNKAN_NATIVE", "1") != "0" if enabled is None else enabled
        words = shlex.split(compiler) if isinstance(compiler, str) else list(compiler or ())
        if compiler is not None and not words:
            raise InputValueError("KernelBuild(compiler=...) is empty; give a command such as 'gcc', or None for $CC")
        self.command = tuple(words or shlex.split(os.environ.get("CC", "")))  # empty: search cc, gcc, clang
        # None when no cache folder can be named (no home folder): kernels then go to the private folder
        self.cache: Path | None = Path(cache).expanduser() if cache is not None else _default_cache()
        self._lock = threading.Lock()
        self._loaded: dict[tuple[object, ...], object | None] = {}
        self._failures: dict[tuple[object, ...], str] = {}  # (source, scalar, *sizes) -> why that variant failed
        self._builds: dict[tuple[object, ...], int] = {}  # (source, scalar, *sizes) -> index in _ATTEMPTS loaded
        self._private: Path | None = None

    def __repr__(self) -> str:
        cache = None if self.cache is None else str(self.cache)
        return f"KernelBuild(enabled={self.enabled}, compiler={' '.join(self.command) or None!r}, cache={cache!r})"

    def _settings(self) -> tuple[object, ...]:
        return self.enabled, self.command, self.cache

    def __eq__(self, other: object) -> bool:
        """Builds with the same settings are equal (what each has loaded is not compared)."""
        return isinstance(other, KernelBuild) and self._settings() == other._settings()

    def __hash__(self) -> int:
        return hash(self._settings())

    def __deepcopy__(self, memo: dict[int, object]) -> KernelBuild:
        return self  # a build is a shared handle on compiled libraries: copies of a Setup share it

    def __reduce__(self) -> tuple[object, ...]:
        # pickled as its settings; the other process compiles or loads its own libraries
        return _rebuild, self._settings()

    @functools.cached_property
    def compiler(self) -> tuple[str, ...] | None:
        """The compiler's command line with its program resolved on PATH, or None when none is found."""
        if self.command:
            found = shutil.which(self.command[0])
            return None if found is None else (found, *self.command[1:])
        found = next((path for name in ("cc", "gcc", "clang") if (path := shutil.which(name))), None)
        return None if found is None else (found,)

    @functools.cached_property
    def _version(self) -> str:
        """The compiler's ``--version`` line (part of the cache key), asked once per build."""
        return "" if self.compiler is None else _compiler_version(self.compiler)

    def available(self) -> bool:
        """Whether kernels will be tried: enabled, and a C compiler is found."""
        return self.enabled and self.compiler is not None

    def status(self) -> str:
        """What the kernels are: ``"native"`` when every variant loaded so far is the tuned build, else what
        the builds lack, which variants failed, or why none are tried."""
        if not self.enabled:
            return "disabled"
        if self.compiler is None:
            return self._missing()
        if not self._builds and not self._failures:
            return "not compiled yet"
        lacking = [_DEGRADED[i] for i in sorted(set(self._builds.values())) if i]
        parts = [", ".join(["native", *lacking])] if self._builds else []
        if self._failures:
            parts.append(f"{len(self._failures)} variant(s) failed: {next(iter(self._failures.values()))}")
        return "; ".join(parts)

    def _missing(self) -> str:
        if self.command:
            return f"the C compiler {self.command[0]!r} is not found"
        return "no C compiler found (set CC)"

    @contextlib.contextmanager
    def active(self) -> Iterator[KernelBuild]:
        """Make this build the one kernels use until the block ends.

        The active build belongs to the process (torch.compile reads it while tracing and
        guards on it, which it cannot do for a ``contextvars.ContextVar``): threads that run
        at once must share one build, or run in processes of their own.
        """
        global _active
        before, _active = _active, self
        try:
            yield self
        finally:
            _active = before

    def kernels(self, source: KernelSource, dtype: torch.dtype, sizes: tuple[int, ...],
                wrap: Callable[[ctypes.CDLL, torch.dtype, tuple[int, ...]], T]) -> T | None:
        """``wrap(library, dtype, sizes)`` of ``source`` compiled for ``dtype`` and ``sizes``, made once;
        None when kernels are disabled, or this variant cannot be compiled or loaded (with a warning)."""
        key = (source.name, _SCALARS[dtype], *sizes)
        if key not in self._loaded:
            library = self._load(source, _SCALARS[dtype], sizes) if self.enabled else None
            self._loaded[key] = None if library is None else wrap(library, dtype, sizes)
        return self._loaded[key]  # type: ignore[return-value]

    def _load(self, source: KernelSource, scalar: str, sizes: tuple[int, ...]) -> ctypes.CDLL | None:
        key = (source.name, scalar, *sizes)
        with self._lock:
            try:
                path, attempt = self._build(source, scalar, sizes)
                if reason := _unsafe(path.parent, folder=True) or _unsafe(path, folder=False):
                    raise RuntimeError(f"refusing to load {path.name}: {reason}")
                library = ctypes.CDLL(str(path))
                self._builds[key] = attempt
                return library
            except (OSError, RuntimeError, subprocess.SubprocessError) as error:
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                first = reason not in self._failures.values()  # one warning for each cause
                self._failures[key] = reason
                if first:
                    compiler = isinstance(error, (_CompileError, subprocess.SubprocessError))
                    fix = "Give a C compiler with OpenMP (CC, or --cc)" if compiler else "Check the kernel cache folder"
                    warnings.warn(
                        f"pinnkan: the fused kernel {source.name} ({scalar}, sizes {', '.join(map(str, sizes))}) is "
                        f"unavailable ({reason}); it runs on PyTorch operators instead, with the same results, more "
                        f"slowly. {fix}, or turn the kernels off (PINNKAN_NATIVE=0, or --no-kernels) to silence this "
                        "warning.",
                        RuntimeWarning,
                        stacklevel=6,
                    )
                return None

    def _build(self, source: KernelSource, scalar: str, sizes: tuple[int, ...]) -> tuple[Path, int]:
        """The library of ``source`` for these constants, compiled unless the cache holds it, and the
        index in ``_ATTEMPTS`` of the flags it was built with."""
        compiler = self.compiler
        if compiler is None:
            raise _CompileError(self._missing())
        text = b"".join(p.read_bytes() for p in (source.path, *source.includes))
        defines = [f"-DSCALAR={scalar}",
                   *(f"-D{constant}={size}" for constant, size in zip(source.constants, sizes, strict=True))]
        identity = [text, " ".join(compiler).encode(), self._version.encode(), _processor().encode(),
                    sys.platform.encode()]
        keys = [hashlib.sha256(b"\0".join([*identity, " ".join(_FLAGS + extra + defines).encode()])).hexdigest()[:20]
                for extra in _ATTEMPTS]
        files = [f"{source.name}-{scalar}-{'-'.join(map(str, sizes))}-{key}.so" for key in keys]
        folder = self._folder()
        for attempt, file in enumerate(files):  # the best build this compiler has made before
            if os.path.lexists(folder / file) and _unsafe(folder / file, folder=False) is None:
                return folder / file, attempt
        # (a file there that is not ours, or that others can write, is replaced by a build of our own)
        try:
            return _compile(compiler, source.path, defines, folder, files)
        except OSError as error:
            if folder == self._private:
                raise
            self._warn_private(f"cannot write {folder}: {error.strerror}")
            return _compile(compiler, source.path, defines, self._private_folder(), files)

    def _folder(self) -> Path:
        """The cache folder, created if needed (mode 0700), or the private folder when it is not safe to use."""
        if self._private is not None:
            return self._private
        if self.cache is None:
            self._warn_private("no cache folder can be named: there is no home folder")
            return self._private_folder()
        try:
            self.cache.mkdir(mode=0o700, parents=True, exist_ok=True)
            reason = _unsafe(self.cache, folder=True)
        except OSError as error:
            reason = f"cannot create {self.cache}: {error.strerror}"
        if reason is None:
            return self.cache
        self._warn_private(reason)
        return self._private_folder()

    def _private_folder(self) -> Path:
        """A folder of this build only (mode 0700, removed at exit), for kernels the cache cannot hold safely."""
        if self._private is None:
            self._private = Path(tempfile.mkdtemp(prefix="pinnkan-kernels-"))
            atexit.register(shutil.rmtree, self._private, ignore_errors=True)
        return self._private

    def _warn_private(self, reason: str) -> None:
        warnings.warn(
            f"pinnkan: not using the kernel cache ({reason}); compiling into {self._private_folder()} for this "
            "process instead. Give a folder of your own that only you can write (chmod go-w) as the kernel "
            "cache (PINNKAN_KERNEL_CACHE, or --kernel-cache).",
            RuntimeWarning,
            stacklevel=8,
        )


def active_build() -> KernelBuild:
    """The build kernels use now: the one made active by :meth:`KernelBuild.active`, else the default
    build, made from the environment when pinnkan is imported."""
    return _active


def _rebuild(enabled: bool, command: tuple[str, ...], cache: Path | None) -> KernelBuild:
    build = KernelBuild(enabled=enabled, compiler=list(command) or None, cache=cache)
    if not command:
        build.command = ()  # as the original: search cc, gcc, clang (not this process's $CC)
    return build


def _default_cache() -> Path | None:
    """``$PINNKAN_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/pinnkan/kernels``, else ``~/.cache/pinnkan/kernels``;
    None when there is no home folder to put it in."""
    if root := os.environ.get("PINNKAN_KERNEL_CACHE"):
        return Path(root).expanduser()
    if base := os.environ.get("XDG_CACHE_HOME"):
        return Path(base) / "pinnkan" / "kernels"
    try:
        return Path.home() / ".cache" / "pinnkan" / "kernels"
    except RuntimeError:  # no HOME and no passwd entry (a container run as an unnamed user)
        return None


def _compiler_version(compiler: tuple[str, ...]) -> str:
    """The first line ``compiler --version`` prints (part of the cache key), or "" when it prints none."""
    try:
        result = subprocess.run([*compiler, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else ""


def _processor() -> str:
    """What the compiled code depends on: the instruction-set flags where the OS lists them."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.split(":")[0].strip() in ("flags", "Features"):
                    return line
    except OSError:
        pass
    return f"{platform.machine()} {platform.processor()}"


def _unsafe(path: Path, *, folder: bool) -> str | None:
    """Why compiled code in ``path`` (a folder, or a library file) must not be loaded, or None when it may.

    It must be a real folder or file (no symbolic link), belong to the current user and
    not be writable by group or others; a folder's parent must not let others rename it
    (writable by them without the sticky bit, as /tmp has).
    """
    if not hasattr(os, "getuid"):  # no POSIX owners (Windows): the user's profile folder is private
        return None
    try:
        info = os.lstat(path)
        parent = os.stat(path.parent) if folder else None
    except OSError as error:
        return f"cannot inspect {path}: {error.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return f"{path} is a symbolic link"
    if not (stat.S_ISDIR(info.st_mode) if folder else stat.S_ISREG(info.st_mode)):
        return f"{path} is not a {'folder' if folder else 'regular file'}"
    if info.st_uid != os.getuid():
        return f"{path} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"{path} can be written by other users (mode {stat.S_IMODE(info.st_mode):o})"
    if parent is not None and parent.st_mode & 0o002 and not parent.st_mode & stat.S_ISVTX:
        return f"{path.parent} lets other users replace {path.name}"
    return None


class _CompileError(RuntimeError):
    """The compiler is missing or failed."""


def _compile(compiler: tuple[str, ...], source: Path, defines: list[str], folder: Path,
             files: list[str]) -> tuple[Path, int]:
    """Compile ``source`` with the first of ``_ATTEMPTS`` that works, into ``folder`` under that attempt's
    name of ``files``: under a private name first, then renamed, so that processes compiling at once never
    load half a file."""
    handle, partial = tempfile.mkstemp(suffix=".so", dir=folder)
    os.close(handle)
    try:
        for attempt, extra in enumerate(_ATTEMPTS):
            result = subprocess.run([*compiler, *_FLAGS, *extra, *defines, str(source), "-o", partial],
                                    capture_output=True, text=True, timeout=120)
            if result.returncode == 0:
                break
        else:
            raise _CompileError(f"{Path(compiler[-1]).name} failed: {result.stderr.strip() or result.returncode}")
        os.chmod(partial, 0o700)
        os.replace(partial, folder / files[attempt])
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return folder / files[attempt], attempt


# The build kernels use; KernelBuild.active swaps it for a block. The default is made here,
# not on first use, so that torch.compile, which reads it while tracing, never constructs it.
_active = KernelBuild()
