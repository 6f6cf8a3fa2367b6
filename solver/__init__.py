"""Sigmoid-ADMM (paper Algorithm 1) with every quantity of the convergence proof tracked.

``solver`` imports activations from ``theory`` but no proof machinery.
"""

from .trace import Trace

__all__ = ["Trace"]
