"""The documentation site's link checker (docs/_site/check_links.py, run by ``make docs``) can fail.

It must report a link to a missing page and a link to a missing ``#id``, and accept an existing
page, an existing id and external links (which CI cannot reach and does not check).
"""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location("check_links", ROOT / "docs" / "_site" / "check_links.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_link_checker_reports_missing_pages_and_ids(tmp_path):
    C = _checker()
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/page.html#here">ok</a><a href="sub/page.html#nowhere">bad id</a>'
        '<a href="missing.html">bad page</a><a href="https://example.org/x">external</a>'
        '<a href="#top">self</a><img src="img.png"><span id="top"></span>')
    (tmp_path / "sub" / "page.html").write_text('<h1 id="here">x</h1><a href="../index.html">up</a>')
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    n, broken = C.check(tmp_path)
    assert n == 6
    assert sorted(broken) == ["index.html: missing.html (no file)",
                              "index.html: sub/page.html#nowhere (no id 'nowhere')"]
    (tmp_path / "index.html").write_text('<a href="sub/page.html#here">ok</a>')
    assert C.check(tmp_path) == (2, [])   # and page.html -> index.html
    assert C.main([str(tmp_path / "no_such_dir")]) == 2
