"""Check every internal link of the built site: ``python docs/_site/check_links.py docs/_build/html``.

For each ``href``/``src`` of every HTML page that is not external (``http:``, ``https:``,
``mailto:``, ``data:``): the target file must exist under the site, and a ``#fragment`` must be
an ``id`` (or ``name``) of the target page.  Exit 1 listing the broken links (at most 50 shown),
else 0 with the number checked.  Sphinx's own ``linkcheck`` builder would also fetch the external
links, which CI cannot reach.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and key == "href" and a.get("rel") in ("canonical",)):
                self.links.append(a[key])


def check(site: Path) -> tuple[int, list[str]]:
    pages = {p: None for p in site.rglob("*.html")}

    def parse(p):
        if pages.get(p) is None:
            pg = _Page()
            pg.feed(p.read_text(errors="replace"))
            pages[p] = pg
        return pages[p]

    broken, n = [], 0
    for page in sorted(pages):
        if page.relative_to(site).parts[0] in ("_static", "_sources"):
            continue          # the theme's assets and templates, not pages of the site
        for link in parse(page).links:
            u = urlsplit(link)
            if u.scheme or link.startswith("//") or link.startswith("javascript:"):
                continue
            n += 1
            target = page if not u.path else (page.parent / unquote(u.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {link} (no file)")
                continue
            if u.fragment and target.suffix == ".html" and unquote(u.fragment) not in parse(target).ids:
                broken.append(f"{page.relative_to(site)}: {link} (no id {u.fragment!r})")
    return n, broken


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: check_links.py SITE_DIR (the built HTML folder)", file=sys.stderr)
        return 2
    n, broken = check(Path(argv[0]).resolve())
    for line in broken[:50]:
        print("broken link:", line)
    print(f"{n} internal links checked, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
