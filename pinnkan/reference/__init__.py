"""Reference solutions (numpy and scipy only, no torch): finite-difference solvers, grids, scattered points, files."""

from .burgers import burgers_exact_grid, burgers_hopf_cole, solve_burgers_1d
from .domain2d import solve_elliptic_domain, solve_heat_domain
from .elliptic import solve_helmholtz_2d, solve_poisson_2d
from .grid import GridSolution
from .heat import DirichletEnd, NeumannEnd, solve_heat_1d
from .heat2d import solve_heat_2d, solve_heat_2d_spectral
from .reaction_diffusion import solve_reaction_diffusion_1d
from .readers import ReferenceFile, read_reference
from .scattered import ScatteredSolution
from .wave import solve_wave_1d

__all__ = [
    "DirichletEnd",
    "GridSolution",
    "NeumannEnd",
    "ReferenceFile",
    "ScatteredSolution",
    "burgers_exact_grid",
    "burgers_hopf_cole",
    "read_reference",
    "solve_burgers_1d",
    "solve_elliptic_domain",
    "solve_heat_1d",
    "solve_heat_2d",
    "solve_heat_2d_spectral",
    "solve_heat_domain",
    "solve_helmholtz_2d",
    "solve_poisson_2d",
    "solve_reaction_diffusion_1d",
    "solve_wave_1d",
]
