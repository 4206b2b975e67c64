"""The project's documentation as its tests read it: README.md and docs/*.md, their fenced
code blocks, their links and headings (tests/test_docs.py), and the TypeScript blocks that
are a user's Playwright project (tests/npm/test_playwright_package.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).parents[1]
DOCUMENTS = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`\n]*)$")


@dataclass(frozen=True)
class Block:
    """A fenced code block: where it starts (1-based line of its opening fence), its info
    string (the language, or empty) and its text."""

    path: Path
    line: int
    language: str
    text: str


def code_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, in order."""
    blocks, lines = [], path.read_text().split("\n")
    opening: tuple[int, str, str] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        fence = _FENCE.match(line)
        if opening is None and fence:
            opening, body = (number, fence["fence"], fence["info"].strip()), []
        elif opening is not None and line.strip() == opening[1]:
            text = "\n".join(body) + "\n"
            blocks.append(Block(path, opening[0], opening[2], text))
            opening = None
        elif opening is not None:
            body.append(line)
    assert opening is None, f"{path.name}:{opening[0]}: a code block that never closes"
    return blocks


def named_path(block: Block) -> str | None:
    """The file a block says it is, from its first line: ``// tests/x.spec.ts``,
    ``# test_list.py``, ``// e2e/tests/app.ts (what it holds)``."""
    first = block.text.split("\n", 1)[0]
    match = re.match(r"^(?://|#)\s*([\w./-]+\.(?:ts|py|toml|js))\b", first)
    return match.group(1) if match else None


def user_typescript() -> dict[str, str]:
    """The TypeScript blocks that are files of a user's project (every ``ts`` block but the
    excerpts of this project's own ``e2e/`` suite), by the path their first line names. A
    path named twice must hold the same text both times."""
    files: dict[str, str] = {}
    for document in DOCUMENTS:
        for block in code_blocks(document):
            if block.language != "ts":
                continue
            path = named_path(block)
            assert path, f"{document.name}:{block.line}: a ts block must name its file first"
            if path.startswith("e2e/"):
                continue
            assert files.setdefault(path, block.text) == block.text, f"{path} differs"
    return files


def without_code(text: str) -> str:
    """Markdown prose alone: fenced blocks blanked (lines kept), inline code made ``x``."""
    kept, fenced = [], None
    for line in text.split("\n"):
        fence = _FENCE.match(line)
        if fenced is None and fence:
            fenced = fence["fence"]
            kept.append("")
        elif fenced is not None:
            if line.strip() == fenced:
                fenced = None
            kept.append("")
        else:
            kept.append(re.sub(r"(`+)(?:(?!\1).)+?\1", "x", line))
    return "\n".join(kept)


LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")


def links(path: Path) -> list[tuple[int, str]]:
    """Every inline link and image of a Markdown file: (line, target)."""
    prose = without_code(path.read_text())
    return [(prose.count("\n", 0, m.start()) + 1, m["target"]) for m in LINK.finditer(prose)]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lowercase, without punctuation but
    hyphens and underscores, spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"`([^`]*)`", r"\1", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings, numbered as GitHub numbers repeats."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _headings(path.read_text()):
        slug = github_slug(line)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _headings(text: str) -> list[str]:
    headings, fenced = [], None
    for line in text.split("\n"):
        fence = _FENCE.match(line)
        if fenced is None and fence:
            fenced = fence["fence"]
        elif fenced is not None:
            if line.strip() == fenced:
                fenced = None
        elif match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            headings.append(match.group(1))
    return headings
