"""Built-in problem files, installed as ``pinnkan.problems``; each defines ``problem`` and ``setup``."""
