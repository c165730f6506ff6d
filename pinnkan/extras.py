"""Optional packages: each feature that needs one imports it here, and a missing one names its install command.

The core install stays small (torch, numpy, scipy, matplotlib, tqdm); file formats
and logs that a field's users already work with come as extras of the package:

======================  =================  ==========================================
extra                   package            for
======================  =================  ==========================================
``pinnkan[mesh]``       meshio             mesh files: VTU, XDMF, Gmsh, ... (ParaView)
``pinnkan[xarray]``     xarray, netCDF4    gridded netCDF
``pinnkan[tensorboard]``  tensorboard      ``--log tensorboard``
``pinnkan[docs]``       mkdocs, ...        building the documentation site
======================  =================  ==========================================
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtra

__all__ = ["EXTRAS", "require"]

# Importable module -> the extra that installs it.
EXTRAS = {"meshio": "mesh", "xarray": "xarray", "netCDF4": "xarray", "tensorboard": "tensorboard"}


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise :class:`~pinnkan.errors.MissingExtra` naming the ``pip install`` that brings it.

    Parameters
    ----------
    module : str
        A key of :data:`EXTRAS`.
    purpose : str
        What needs it, for the message (``"reading .vtu files"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{purpose} needs the package {module}, which is not installed: pip install 'pinnkan[{EXTRAS[module]}]'"
        ) from None
