"""Reading JSON from files we did not write (its own module: ``solver.trace`` and the CLI's
``--help`` path import it without ``solver._validation``'s scikit-learn and scipy)."""

from __future__ import annotations

import json

__all__ = ["loads_json"]


def loads_json(text):
    """``json.loads`` for files we did not write: nesting too deep for the parser (a
    ``RecursionError`` deep inside it, e.g. 200,000 ``[``) is a :class:`json.JSONDecodeError`
    like any other malformed document, so every reader's refusal of bad JSON covers it."""
    try:
        return json.loads(text)
    except RecursionError:
        doc = text if isinstance(text, str) else ""
        raise json.JSONDecodeError("nested too deeply to be read", doc, 0) from None
