"""Experiments on the solver that are not benchmarks (they study behaviour, not speed)."""
