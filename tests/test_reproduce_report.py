"""Report writer (sigadmm.report): claims table, Markdown/HTML output, figures."""

import math

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm.report import Claim, Report, fmt_num, markdown_table

matplotlib.use("Agg")

pos = st.floats(1e-300, 1e300)


@given(paper=pos, ours=pos)
def test_ratio_and_verdict(paper, ours):
    c = Claim("x", paper=paper, ours=ours, better="lower")
    assert c.ratio == pytest.approx(ours / paper, rel=1e-12)
    assert c.verdict == ("as good or better" if ours <= paper else "worse")
    h = Claim("x", paper=paper, ours=ours, better="higher")
    assert h.verdict == ("as good or better" if ours >= paper else "worse")


def test_ratio_is_nan_when_not_comparable():
    assert math.isnan(Claim("a", paper="decreasing", ours=0.3).ratio)
    assert math.isnan(Claim("a", paper=0.0, ours=0.3).ratio)
    assert math.isnan(Claim("a", paper=1.0, ours=None).ratio)
    assert Claim("a", paper=1.0, ours=None).verdict == "n/a"
    with pytest.raises(ValueError, match="better"):
        Claim("a", better="smaller")
    with pytest.raises(ValueError, match="claim"):
        Claim("")


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
    assert "| square MSE | 2.53e-9 | 5.06e-9 (1e-9) | 2 | worse | quick |" in md
    assert "![a line](figures/line.png)" in md
    html = paths["html"].read_text()
    assert '<img src="figures/line.png"' in html and "<b>bold</b>" in html and "<code>code</code>" in html
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
