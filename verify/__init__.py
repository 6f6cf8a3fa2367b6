"""Checks of the paper's convergence claims on recorded runs; what users import in their tests."""

__all__: list[str] = []
