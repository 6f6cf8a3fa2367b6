"""One verdict vocabulary (issue 20, item 6): theory's certificate statuses, verify's check
verdicts, the report's labels and the exit status all go through :mod:`theory.verdicts`."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm.report import Claim
from theory import verdicts as V
from theory.verdicts import Verdict


def test_every_status_has_a_verdict_and_unknown_words_are_refused():
    assert set(V.STATUS_VERDICT) == set(V.STATUSES)
    assert {V.status_verdict(s) for s in V.STATUSES} == set(Verdict) | {None}
    with pytest.raises(ValueError, match="status: expected one of"):
        V.status_verdict("proved")


def test_verify_and_theory_share_the_enum_values_and_the_report_maps_each():
    import verify

    assert [v.value for v in verify.Verdict] == [v.value for v in Verdict]
    for v in Verdict:
        # a claim decided by a check takes the check's verdict, by the one mapping
        assert Claim("c", paper=0, ours=1, check=v).verdict == V.REPORT_LABEL[v]
        assert Claim("c", paper=0, ours=1, check=verify.Verdict(v.value)).verdict == V.REPORT_LABEL[v]
    assert len(set(V.REPORT_LABEL.values())) == len(Verdict)  # no two verdicts share a label
    assert sorted(V.EXIT_CODE.values()) == [0, 1, 3]


@given(st.lists(st.sampled_from(list(Verdict))))
def test_worst_is_fail_if_any_failed_else_inconclusive_if_any_undecided(vs):
    w = V.worst(vs)
    assert (w == Verdict.FAIL) == (Verdict.FAIL in vs)
    assert (w == Verdict.INCONCLUSIVE) == (Verdict.FAIL not in vs and Verdict.INCONCLUSIVE in vs)
    assert V.worst([str(v) for v in vs]) == w  # words read the same


def test_a_certificate_verdict_is_its_status_word():
    from theory import certify, square_gate

    c = certify(square_gate(1e-3, 1), eps=1e-3, max_boxes=2000)
    assert c.verdict == V.status_verdict(c.status)
    assert (c.verdict == Verdict.PASS) == c.holds
