"""Fenced code blocks of README.md and docs/*.md, with the marker that says how to check each.

A block may be preceded (blank lines allowed) by a marker comment::

    <!-- sample: NAME -->                          run/parse it; NAME keys its setup
    <!-- sample: NAME skip-run reason=why -->      syntax-check only, and say why

The marker is the block's stable name: the setups in ``test_samples.py`` are
keyed by it, so moving a block within a file keeps its setup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\s`]*)[^`]*$")
MARKER = re.compile(r"<!--\s*sample:\s*(?P<body>.*?)\s*-->")


@dataclass(frozen=True)
class Sample:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    name: str | None
    skip_run: bool
    reason: str | None

    @property
    def id(self) -> str:
        where = self.path.relative_to(ROOT).as_posix()
        return f"{where}:{self.name}" if self.name else f"{where}:L{self.line}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _marker(lines: list[str], fence_index: int) -> tuple[str | None, bool, str | None]:
    """The marker on the nearest non-blank line above the fence, if any."""
    i = fence_index - 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    if i < 0:
        return None, False, None
    found = MARKER.search(lines[i])
    if not found:
        return None, False, None
    body = found.group("body")
    reason = None
    if "reason=" in body:
        body, reason = body.split("reason=", 1)
        reason = reason.strip() or None
    words = body.split()
    if not words:
        raise ValueError(f"line {i + 1}: a sample marker needs a name")
    unknown = [w for w in words[1:] if w != "skip-run"]
    if unknown:
        raise ValueError(f"line {i + 1}: unknown sample marker words {unknown}")
    return words[0], "skip-run" in words[1:], reason


def extract(path: Path) -> list[Sample]:
    lines = path.read_text(encoding="utf-8").splitlines()
    samples: list[Sample] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, lang = opening.group("indent"), opening.group("fence"), opening.group("lang")
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (
                closing
                and closing.group("fence")[0] == fence[0]
                and len(closing.group("fence")) >= len(fence)
                and not closing.group("lang")
            ):
                break
            text = lines[j]
            body.append(text[len(indent) :] if text.startswith(indent) else text.lstrip())
            j += 1
        else:
            raise ValueError(f"{path}:{i + 1}: fence never closed")
        name, skip_run, reason = _marker(lines, i)
        samples.append(Sample(path, i + 1, lang.lower(), "\n".join(body) + "\n", name, skip_run, reason))
        i = j + 1
    return samples


def all_samples() -> list[Sample]:
    samples = [s for path in doc_files() for s in extract(path)]
    names = [s.id for s in samples if s.name]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"sample names used twice: {duplicates}")
    return samples
