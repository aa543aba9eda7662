"""The README stays short and every relative link in it and in docs/ resolves.

Links are checked the way GitHub renders them: a path relative to the file that holds the link,
and an optional ``#anchor`` that must be the slug of a heading in the target (or the same) page.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_BYTES = 12_000
DOCS_PAGES = (
    "data-and-pipeline.md",
    "serving.md",
    "deploying-to-aws.md",
    "team.md",
    "ci-cd.md",
    "developing.md",
)

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
# [text](target) or ![alt](target), the target up to whitespace or ")"; an optional "title" after
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """Lines outside fenced code blocks, with inline code removed, numbered from 1."""
    lines, in_fence = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append((number, _INLINE_CODE.sub("", line)))
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps only its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, duplicates numbered as GitHub does (-1, -2...)."""
    seen: dict[str, int] = {}
    result = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def broken_links(path: Path) -> list[str]:
    """One line per relative link of ``path`` whose file or anchor does not exist."""
    problems = []
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        for target in _LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                continue  # https:, mailto: ... are not checked offline
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{number}"
            if not linked.exists():
                problems.append(f"{where}: {target}: no such file {file_part}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                problems.append(f"{where}: {target}: no heading with anchor #{anchor}")
    return problems


def documentation_files() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_readme_is_at_most_12_kb():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size} bytes, over {README_MAX_BYTES}: move detail into a docs/ page"
    )


def test_readme_links_every_docs_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {Path(t.partition("#")[0]).name for t in _LINK.findall(readme)}
    missing = [page for page in DOCS_PAGES if page not in linked]
    assert not missing, f"README.md does not link docs/{', docs/'.join(missing)}"
    for page in DOCS_PAGES:
        assert (ROOT / "docs" / page).is_file(), f"docs/{page} is linked but missing"


@pytest.mark.parametrize("path", documentation_files(), ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def test_link_check_reports_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading: yes\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](other.md#a-code-heading-yes) [ok](#page) [web](https://example.com/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nope) `[in code](nowhere.md)`\n"
        "```\n[in a fence](nowhere.md)\n# not a heading\n```\n"
        "[fenced heading](#not-a-heading)\n"
    )
    problems = broken_links(page)
    assert len(problems) == 3, problems
    assert "missing.md: no such file missing.md" in problems[0]
    assert "other.md#nope: no heading with anchor #nope" in problems[1]
    assert "#not-a-heading: no heading with anchor #not-a-heading" in problems[2]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Before the first merge: AWS and GitHub", "before-the-first-merge-aws-and-github"),
        ("A merge to `main`", "a-merge-to-main"),
        ("Bootstrap, in this order", "bootstrap-in-this-order"),
        ("modelops — from `params.yaml` to a model", "modelops--from-paramsyaml-to-a-model"),
    ],
)
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug


def test_duplicate_headings_get_numbered_anchors(tmp_path):
    page = tmp_path / "dup.md"
    page.write_text("# Title\n## Usage\n## Usage\n")
    assert anchors(page) == {"title", "usage", "usage-1"}
