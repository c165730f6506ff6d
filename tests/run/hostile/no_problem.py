"""A problem file that forgot the problem."""

import torch

ALPHA = 0.4
