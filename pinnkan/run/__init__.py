"""Running a problem end to end: setup, solve, run folders, the catalogue and the command line."""
