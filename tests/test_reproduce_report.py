"""Report writer (sigadmm.report): claims table, Markdown/HTML output, figures."""

import math

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm.report import (EQUAL_RTOL, VERDICT_RULE, VERDICTS, Claim, Measured, Report, TableCell, fmt_num,
                             markdown_table, verdict_counts, verdict_summary)

matplotlib.use("Agg")

pos = st.floats(1e-300, 1e300)


@given(paper=pos, ours=pos)
def test_ratio_and_verdict(paper, ours):
    c = Claim("x", paper=paper, ours=ours, better="lower")
    assert c.ratio == pytest.approx(ours / paper, rel=1e-12)
    equal = abs(ours - paper) <= EQUAL_RTOL * max(ours, paper)
    assert c.verdict == ("reproduced" if equal else
                         "better than the paper" if ours < paper else "worse than the paper")
    h = Claim("x", paper=paper, ours=ours, better="higher")
    assert h.verdict == ("reproduced" if equal else
                         "better than the paper" if ours > paper else "worse than the paper")


def test_equal_numbers_and_numbers_within_the_papers_spread_are_reproduced():
    assert Claim("params", paper=3, ours=3).verdict == "reproduced"
    assert Claim("mse", paper=2.53e-9, ours=3.1e-9, tolerance=1.18e-9).verdict == "reproduced"
    assert Claim("mse", paper=2.53e-9, ours=3.8e-9, tolerance=1.18e-9).verdict == "worse than the paper"
    assert Claim("mse", paper=2.53e-9, ours=1.2e-9, tolerance=1.18e-9).verdict == "better than the paper"
    with pytest.raises(ValueError, match="tolerance"):
        Claim("a", paper=1, ours=1, tolerance=-1.0)


@pytest.mark.parametrize("check,label", [("PASS", "reproduced"), ("FAIL", "failed check"),
                                         ("INCONCLUSIVE", "inconclusive")])
def test_a_checks_verdict_decides_the_claim(check, label):
    """A failed Lemma 14 / Theorem 4(c) check is 'failed check', never 'n/a' (issue 14)."""
    from verify import Verdict

    for chk in (check, Verdict(check)):
        # Lemma 14: paper 0 violations (ratio undefined); Theorem 4(c): no direction
        assert Claim("Lemma 14 violations", paper=0, ours=3, check=chk).verdict == label
        assert Claim("Thm 4(c) exponent", paper=-1.0, ours=-0.03, better=None, check=chk).verdict == label
        assert Claim("Lemma 14 violations", paper=0, ours=None, check=chk).verdict == label
    with pytest.raises(ValueError, match="check"):
        Claim("a", check="passed")


def test_properties_in_words_and_bounds():
    """The saturation claim the run contradicts is 'contradicted', never 'n/a' (issue 14)."""
    sat = dict(paper="no vanishing", ours=1.2e-7, better=None)
    assert Claim("Fig. 4 ratio", holds=False, **sat).verdict == "contradicted"
    assert Claim("Fig. 4 ratio", holds=True, **sat).verdict == "reproduced"
    assert Claim("Fig. 4 ratio", **sat).verdict == "inconclusive"  # undecided, not n/a
    assert Claim("error <= eps", paper=1e-6, ours=7.5e-7, bound=True).verdict == "reproduced"
    assert Claim("error <= eps", paper=1e-6, ours=2e-6, bound=True).verdict == "contradicted"
    assert Claim("acc >= 0.9", paper=0.9, ours=0.8, better="higher", bound=True).verdict == "contradicted"
    with pytest.raises(ValueError, match="bound"):
        Claim("a", paper=1, ours=1, better=None, bound=True)
    with pytest.raises(ValueError, match="holds"):
        Claim("a", holds="yes")


def test_ratio_is_nan_when_not_comparable():
    assert math.isnan(Claim("a", paper="decreasing", ours=0.3).ratio)
    assert math.isnan(Claim("a", paper=0.0, ours=0.3).ratio)
    assert math.isnan(Claim("a", paper=1.0, ours=None).ratio)
    assert Claim("a", paper=1.0, ours=None).verdict == "inconclusive"  # not measured
    assert Claim("a", paper=1.0, ours=math.nan).verdict == "inconclusive"
    assert Claim("our control", paper=None, ours=131.0, better=None).verdict == "no paper number"
    with pytest.raises(ValueError, match="better"):
        Claim("a", better="smaller")
    with pytest.raises(ValueError, match="claim"):
        Claim("")


num = st.one_of(st.none(), st.just("decreasing"), st.floats(allow_nan=True, allow_infinity=True))


@given(paper=num, ours=num, better=st.sampled_from(["lower", "higher", None]),
       check=st.sampled_from([None, "PASS", "FAIL", "INCONCLUSIVE"]),
       holds=st.sampled_from([None, True, False]))
def test_every_claim_gets_one_of_the_verdicts(paper, ours, better, check, holds):
    v = Claim("x", paper=paper, ours=ours, better=better, check=check, holds=holds).verdict
    assert v in VERDICTS and v != "n/a"


def test_summary_counts_every_verdict_and_the_rule_is_stated_once():
    claims = [Claim("a", paper=1.0, ours=0.5), Claim("b", paper=1.0, ours=1.0),
              Claim("c", paper=1.0, ours=2.0), Claim("d", paper=0, ours=4, check="FAIL"),
              Claim("e", paper="no vanishing", ours=1e-7, better=None, holds=False),
              Claim("f", paper=-1.0, ours=None, better=None, check="INCONCLUSIVE"),
              Claim("g", paper=None, ours=3.0, better=None),
              # a table cell three times the paper's mean, far outside both stds (CELL_RULE)
              Claim("h", paper=1.0, cell=TableCell(0.1, Measured(3.0, 0.1, 5), Measured(3.0, 0.1, 5),
                                                   "best"))]
    counts = verdict_counts(claims)
    assert list(counts) == list(VERDICTS) and set(counts.values()) == {1}
    assert verdict_summary(claims) == (
        "8 claims: 1 better than the paper, 1 reproduced, 1 not reproduced, 1 worse than the paper, "
        "1 failed check, 1 contradicted, 1 inconclusive, 1 no paper number")
    assert verdict_counts(claims[:1])["failed check"] == 0  # zeros are counted too
    rep = Report("R")
    rep.add_claims(claims)
    rep.add_claims(claims[:2], title="more")
    md = rep.to_markdown()
    assert md.count(VERDICT_RULE) == 1
    assert f"**Summary.** {verdict_summary(claims)}." in md
    assert "n/a" not in md


@given(x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30))
def test_fmt_num_round_trips_to_3_digits(x):
    s = fmt_num(x)
    assert float(s) == pytest.approx(x, rel=5e-3, abs=0 if x != 0 else 1e-300)


def test_fmt_num_special():
    assert fmt_num(3.33e-8) == "3.33e-8"
    assert fmt_num(float("nan")) == fmt_num(None) == "–"
    assert fmt_num(17) == "17" and fmt_num("yes") == "yes"


def test_markdown_table_shape_and_escaping():
    t = markdown_table(["a", "b"], [[1, "x|y"], [2.5e-9, None]])
    lines = t.splitlines()
    assert len(lines) == 4 and lines[1] == "|---|---|"
    assert "x\\|y" in lines[2] and "2.5e-9" in lines[3]
    with pytest.raises(ValueError, match="rows"):
        markdown_table(["a"], [[1, 2]])


def test_report_writes_md_html_and_png(tmp_path):
    import matplotlib.pyplot as plt

    rep = Report("Demo", "subtitle with `code`")
    rep.add_claims([Claim("square MSE", paper=2.53e-9, ours=5.06e-9, spread=1e-9, note="quick")])
    rep.add_text("Some **bold** text.")
    rep.add_table((["k", "v"], [[1, 0.5]]), caption="a table")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    rep.add_figure(fig, "line", "a line")
    paths = rep.write(tmp_path)
    md = paths["md"].read_text()
    assert "| claim | paper | ours | ratio | verdict | note |" in md
    assert "| square MSE | 2.53e-9 | 5.06e-9 (1e-9) | 2 | worse than the paper | quick |" in md
    assert "![a line](figures/line.png)" in md
    html = paths["html"].read_text()
    assert "<b>bold</b>" in html and "<code>code</code>" in html
    # the page is self-contained: the figure inline, the same PNG bytes as the file
    import base64
    import re as _re
    src = _re.search(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert src and base64.b64decode(src.group(1)) == (tmp_path / "figures" / "line.png").read_bytes()
    assert '<img src="figures/line.png"' in rep.to_html(embed=False)
    png = (tmp_path / "figures" / "line.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="name"):
        rep.add_figure(plt.figure(), "line")
    with pytest.raises(ValueError, match="formats"):
        rep.write(tmp_path, formats=("pdf",))
    with pytest.raises(ValueError, match="claims"):
        rep.add_claims([("a", 1, 2)])


def test_html_escapes_text(tmp_path):
    rep = Report("<T>")
    rep.add_text("a <script> & b")
    h = rep.to_html()
    assert "<script>" not in h and "&lt;script&gt;" in h
