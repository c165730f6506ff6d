"""What every reference solution shares: named outputs (one array, named ``u``, or one per name)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import InputValueError

__all__ = ["NamedOutputs", "named"]


def named(values: object) -> dict[str, object]:
    """``values`` by output name: a mapping as it is, anything else as the single output ``"u"``."""
    outputs = dict(values) if isinstance(values, Mapping) else {"u": values}
    if not outputs:
        raise InputValueError("give the values of at least one output")
    return outputs


class NamedOutputs:
    """A solution's coordinate names (``axes``), its outputs by name and their source."""

    axes: tuple[str, ...]
    outputs: dict[str, np.ndarray]
    source: str

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the outputs."""
        return tuple(self.outputs)

    @property
    def values(self) -> np.ndarray:
        """The values of the only output (use :attr:`outputs` for systems)."""
        if len(self.outputs) != 1:
            raise InputValueError(f"this solution has outputs {self.output_names}; read its .outputs[name]")
        return next(iter(self.outputs.values()))
