"""Every code block of README.md, docs/*.md and docs/methods/*.md is a test (issue 25).

The blocks are found by Sybil's Markdown lexers (fenced code blocks and directives in HTML
comments); a new page or block is picked up without touching this file.  The conventions
(README, "Documentation examples are tests"):

* ```` ```python ````: run as a script (``python block.py``, ``__name__ == "__main__"``) in a
  scratch folder, self-contained, and must exit 0.  Preceded by ``<!-- doc: continue -->`` it
  continues the previous Python block of the page (the chain runs as one script).
* A Python block with ``>>>`` prompts (```` ```python ```` or ```` ```pycon ````) is a doctest:
  the printed figures are compared with the page's (``...`` elides, whitespace is normalised).
* ```` ```bash ````: every command runs (``bash -c``; ``\\`` continues a line) and must exit 0,
  or the status its comment names (``# exits 3``).  ```` ```console ````: ``$ command`` lines
  followed by the expected output, compared like a doctest.
* ``<!-- skip: next "reason" -->`` (Sybil's directive): the block is shown, not run; the reason
  is required and reported.  ``<!-- doc: slow -->``: run by ``make test-thorough`` only.
  ``<!-- doc: replace "OLD" "NEW" -->`` (repeatable): the test runs the block with OLD
  replaced by NEW (a reduced size); the page keeps the real command.
* Any other block (```` ```text ````, ```` ```math ````, no language) is not run, and
  :func:`test_untagged_blocks_hold_no_commands` fails when an untagged one starts like a
  command or a prompt: a command cannot be added without a tag (```` ```text ```` says "a
  synopsis or a listing, deliberately not run").

The scratch folder holds a copy of ``docs/results`` (commands that read or extend the paper's
results set work on the copy) and links to ``benchmarks`` and ``tests``; ``sigadmm`` and
``python`` are this interpreter's, with the checkout on ``PYTHONPATH``.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sybil import Document
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, RawFencedCodeBlockLexer

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "methods").glob("*.md")])
RUN_LANGS = {"python", "pycon", "bash", "sh", "console"}
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
COMMAND_TIMEOUT_S = 1800
_INFO = re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE)
_WORDS = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    source: str
    skip: str | None = None
    slow: bool = False
    cont: bool = False
    replace: list = field(default_factory=list)
    prev: "Block | None" = None

    @property
    def id(self):
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def text(self):
        src = self.source
        for old, new in self.replace:
            assert old in src, f"{self.id}: doc: replace {old!r}: not in the block"
            src = src.replace(old, new)
        return src


def parse(page: Path) -> list[Block]:
    """The fenced blocks of a page with the directives just above each (Sybil's lexers)."""
    doc = Document(page.read_text(encoding="utf-8"), str(page))
    fences = list(RawFencedCodeBlockLexer(info_pattern=_INFO)(doc))
    directives = list(DirectiveInHTMLCommentLexer(directive=r"doc|skip")(doc))
    blocks, last_py = [], None
    for reg in fences:
        info = reg.lexemes["info"].strip()
        lang = info.split()[0].lower() if info else ""
        b = Block(page, doc.text.count("\n", 0, reg.start) + 1, lang, str(reg.lexemes["source"]))
        # the directives directly above the fence (only blank space between)
        end = reg.start
        for d in sorted(directives, key=lambda d: -d.start):
            if d.end <= end and re.fullmatch(r"\s*(-+>)?\s*", doc.text[d.end:end]):  # the lexer leaves "-->" out
                name, args = d.lexemes["directive"], (d.lexemes["arguments"] or "").strip()
                if name == "skip":
                    m = re.match(r'next\s+"(.+)"$', args)
                    assert m, f"{b.id}: expected <!-- skip: next \"reason\" -->, got {args!r}"
                    b.skip = m.group(1)
                elif args == "slow":
                    b.slow = True
                elif args == "continue":
                    b.cont = True
                elif args.startswith("replace"):
                    words = _WORDS.findall(args)
                    assert len(words) == 2, f"{b.id}: expected doc: replace \"OLD\" \"NEW\", got {args!r}"
                    b.replace.insert(0, tuple(w.replace('\\"', '"') for w in words))
                else:
                    raise AssertionError(f"{b.id}: unknown directive doc: {args!r}")
                end = d.start
        if lang in ("python", "pycon"):
            if b.cont:
                assert last_py is not None, f"{b.id}: doc: continue with no Python block before it"
                b.prev = last_py
            last_py = b
        blocks.append(b)
    return blocks


BLOCKS = [b for p in PAGES for b in parse(p)]
RUNNABLE = [b for b in BLOCKS if b.lang in RUN_LANGS]


def _param(b):
    # one xdist worker runs every block in page order (make test-thorough runs with -n auto
    # --dist loadgroup): a block may continue another's files in the worker's scratch folder
    marks = ([pytest.mark.slow] if b.slow else []) + [pytest.mark.xdist_group("docs")]
    return pytest.param(b, id=b.id, marks=marks)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    d = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs" / "results", d / "docs" / "results")
    for name in ("benchmarks", "tests", "pyproject.toml", "Makefile"):
        (d / name).symlink_to(ROOT / name)
    return d


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    binary = Path(sys.executable).parent
    env["PATH"] = f"{binary}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MPLBACKEND", "Agg")
    try:  # blocks that read an older commit (git show) run in the scratch folder
        git_dir = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--absolute-git-dir"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        git_dir = ""
    if git_dir:
        env["GIT_DIR"], env["GIT_WORK_TREE"] = git_dir, str(ROOT)
    return env


def _chain(b):
    out = []
    while b is not None:
        out.append(b)
        b = b.prev if b.cont else None
    return out[::-1]


def _is_doctest(src):
    return any(ln.lstrip().startswith(">>>") for ln in src.splitlines())


_DRIVER = textwrap.dedent("""
    import doctest, sys
    text = open(sys.argv[1], encoding="utf-8").read()
    globs = {"__name__": "__main__"}
    for i, part in enumerate(text.split("\\n#--- doc block ---\\n")):
        if ">>>" in part:
            t = doctest.DocTestParser().get_doctest(part, globs, f"block{i}", sys.argv[2], 0)
            r = doctest.DocTestRunner(optionflags=%d)
            r.run(t, clear_globs=False)
            if r.failures:
                sys.exit(1)
        else:
            exec(compile(part, sys.argv[2], "exec"), globs)
""" % OPTIONS)


@pytest.mark.parametrize("block", [_param(b) for b in RUNNABLE])
def test_block_runs(block, scratch, tmp_path):
    if block.skip:
        pytest.skip(f"{block.id}: {block.skip}")
    chain = _chain(block)
    for b in chain:
        if b.skip:
            pytest.skip(f"{block.id} continues {b.id}, which is not run: {b.skip}")
    if block.lang in ("python", "pycon"):
        _run_python(block, chain, scratch, tmp_path)
    elif block.lang == "console":
        _run_console(block, scratch)
    else:
        _run_bash(block, scratch)


def _run_python(block, chain, scratch, tmp_path):
    parts = [b.text() for b in chain]
    script = tmp_path / "block.py"
    if any(_is_doctest(p) for p in parts):
        script.write_text("\n#--- doc block ---\n".join(parts), encoding="utf-8")
        driver = tmp_path / "driver.py"
        driver.write_text(_DRIVER, encoding="utf-8")
        args = [sys.executable, str(driver), str(script), block.id]
    else:
        script.write_text("\n".join(parts), encoding="utf-8")
        args = [sys.executable, str(script)]
    p = subprocess.run(args, cwd=scratch, env=_env(), capture_output=True, text=True,
                       timeout=COMMAND_TIMEOUT_S)
    assert p.returncode == 0, f"{block.id} failed (exit {p.returncode}):\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}"


def commands(src):
    """The commands of a bash block: ``\\`` continuations joined, blank and comment lines
    dropped; each with the exit status its trailing comment names (``# exits 3``), else 0."""
    out, cur = [], ""
    for ln in src.splitlines():
        if ln.rstrip().endswith("\\"):
            cur += ln.rstrip()[:-1] + " "
            continue
        cur += ln
        line, cur = cur.strip(), ""
        if not line or line.startswith("#"):
            continue
        cmd, comment = _split_comment(line)
        m = re.search(r"\bexits?\s+(\d+)", comment)
        out.append((cmd, int(m.group(1)) if m else 0))
    return out


def _split_comment(line):
    """``(command, comment)``: the first ``#`` outside quotes after a blank starts the comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip(), line[i:]
    return line.strip(), ""


def _run_bash(block, scratch):
    cmds = commands(block.text())
    assert cmds, f"{block.id}: a bash block without a command"
    for cmd, code in cmds:
        p = subprocess.run(["bash", "-c", cmd], cwd=scratch, env=_env(), capture_output=True,
                           text=True, timeout=COMMAND_TIMEOUT_S)
        assert p.returncode == code, (f"{block.id}: `{cmd}` exited {p.returncode}, the page says "
                                      f"{code}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        assert "Traceback" not in p.stderr, f"{block.id}: `{cmd}`:\n{p.stderr[-3000:]}"


def _run_console(block, scratch):
    checker = doctest.OutputChecker()
    lines = block.text().splitlines()
    i = 0
    while i < len(lines):
        assert lines[i].startswith("$ "), f"{block.id}: expected a `$ command` line, got {lines[i]!r}"
        cmd = lines[i][2:]
        i += 1
        want = []
        while i < len(lines) and not lines[i].startswith("$ "):
            want.append(lines[i])
            i += 1
        p = subprocess.run(["bash", "-c", cmd], cwd=scratch, env=_env(), capture_output=True,
                           text=True, timeout=COMMAND_TIMEOUT_S)
        m = re.search(r"#.*\bexits?\s+(\d+)", cmd)
        assert p.returncode == (int(m.group(1)) if m else 0), f"{block.id}: `{cmd}`:\n{p.stderr[-3000:]}"
        exp = "\n".join(want).strip() + "\n"
        got = p.stdout.strip() + "\n"
        assert checker.check_output(exp, got, OPTIONS), (
            f"{block.id}: `{cmd}` printed\n{got}\nthe page says\n{exp}")


_COMMAND_START = re.compile(r"^\s*(\$ |>>> |sigadmm |python3? |make |\.venv/bin/|pip )")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_untagged_blocks_hold_no_commands(page):
    """A block that is not run must not look like one that should be: tag commands ```bash
    (or ```console with their output), Python ```python; mark what cannot run with
    <!-- skip: next "reason" -->."""
    bad = []
    for b in parse(page):
        if b.lang:  # run, or tagged as not a command (text, math, a file format)
            continue
        first = next((ln for ln in b.source.splitlines() if ln.strip()), "")
        if _COMMAND_START.match(first):
            bad.append(f"{b.id} ({b.lang or 'no language'}): {first.strip()[:60]}")
    assert not bad, "untagged commands: " + "; ".join(bad)


def test_the_parser_sees_every_fence():
    """Sybil's lexer and a plain count of the fences agree (no block escapes the tests)."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        n_fences = len(re.findall(r"^\s*```", text, re.MULTILINE))
        assert 2 * len(parse(page)) == n_fences, page


def test_commands_parse_exit_statuses():
    src = "sigadmm verify --depth 3   # exits 3: INCONCLUSIVE\nsigadmm a \\\n  --b 1  # fine\n# note\n"
    assert [(" ".join(c.split()), code) for c, code in commands(src)] == [
        ("sigadmm verify --depth 3", 3), ("sigadmm a --b 1", 0)]
    assert commands("echo '# not a comment' # exits 1") == [("echo '# not a comment'", 1)]
