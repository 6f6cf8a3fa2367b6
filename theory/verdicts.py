"""One verdict vocabulary for ``theory``, ``verify`` and the reports (issue 20, item 6).

Every rule of the toolkit that decides a claim answers with a :class:`Verdict`:

* ``PASS``: the claim holds as the rule states it (a certificate proves the bound; a check
  observed the property on the run with its stated finite-run criterion);
* ``FAIL``: the claim is contradicted (a refutation point verified in ball arithmetic; a
  check found the run violating it);
* ``INCONCLUSIVE``: undecided, with a reason; nothing passes for lack of evidence.

The other words in use name these three, and are mapped here and nowhere else:

==========================================  ==========================  ==================
where                                       word                        Verdict
==========================================  ==========================  ==================
:attr:`theory.Certificate.status`   ``"certified"``             PASS
                                            ``"refuted"``               FAIL
                                            ``"inconclusive"``          INCONCLUSIVE
                                            ``"bounded"`` (no ``eps``)  none: nothing asked
``verify`` checks (``verify.Verdict``)      PASS / FAIL / INCONCLUSIVE  this class
:class:`sigadmm.report.Claim` decided       ``"reproduced"``            PASS
by a check (:data:`REPORT_LABEL`)           ``"failed check"``          FAIL
                                            ``"inconclusive"``          INCONCLUSIVE
the ``sigadmm`` exit status                 0 / 1 / 3                   PASS / FAIL / INCONCLUSIVE
(:data:`EXIT_CODE`)
==========================================  ==========================  ==================

This module sits in the lowest layer so that all three packages import the same objects.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["Verdict", "CERTIFIED", "REFUTED", "INCONCLUSIVE", "BOUNDED", "STATUSES", "STATUS_VERDICT",
           "status_verdict", "worst", "REPORT_LABEL", "EXIT_CODE"]


class Verdict(enum.StrEnum):
    """The outcome of a rule: ``PASS``, ``FAIL`` or ``INCONCLUSIVE`` (module docstring)."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"

    @classmethod
    def of(cls, ok: bool) -> "Verdict":
        """PASS when ``ok`` is true, else FAIL (a rule that decided)."""
        return cls.PASS if ok else cls.FAIL


#: :attr:`theory.Certificate.status` values (plain strings: a certificate's JSON and
#: repr show the word)
CERTIFIED, REFUTED, INCONCLUSIVE, BOUNDED = "certified", "refuted", "inconclusive", "bounded"
STATUSES = (CERTIFIED, REFUTED, INCONCLUSIVE, BOUNDED)
#: certificate status -> verdict; ``bounded`` (a bound computed without a target ``eps``) decides nothing
STATUS_VERDICT: dict[str, Verdict | None] = {CERTIFIED: Verdict.PASS, REFUTED: Verdict.FAIL,
                                             INCONCLUSIVE: Verdict.INCONCLUSIVE, BOUNDED: None}
#: the report's label of a claim decided by a check (:class:`sigadmm.report.Claim`)
REPORT_LABEL: dict[Verdict, str] = {Verdict.PASS: "reproduced", Verdict.FAIL: "failed check",
                                    Verdict.INCONCLUSIVE: "inconclusive"}
#: the exit status of a command that decided (README, "Exit status")
EXIT_CODE: dict[Verdict, int] = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.INCONCLUSIVE: 3}


def worst(verdicts: Iterable[Verdict | str]) -> Verdict:
    """The verdict of several rules together: FAIL if any failed, else INCONCLUSIVE if any is
    undecided, else PASS (also for none: a caller for whom "nothing decided" is not success
    checks emptiness itself).  Words (``"FAIL"``) are read as :class:`Verdict`."""
    seen = {Verdict(str(v)) for v in verdicts}
    for v in (Verdict.FAIL, Verdict.INCONCLUSIVE):
        if v in seen:
            return v
    return Verdict.PASS


def status_verdict(status: str) -> Verdict | None:
    """The :class:`Verdict` of a certificate ``status`` (None for ``"bounded"``); an unknown
    word is a ``ValueError`` naming the known ones."""
    try:
        return STATUS_VERDICT[status]
    except (KeyError, TypeError):
        raise ValueError(f"status: expected one of {list(STATUSES)}, got {status!r}") from None
