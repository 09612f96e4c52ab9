"""Fitting a Markdown report under a size limit (GitHub refuses comments over 65,536
characters) without losing what a reviewer must see.

A report is a head, sections of groups of lines, and a tail. Headings and counts are never
cut: only the lines inside groups are, the first sections' last (callers order sections by
importance: blocked and deletes first). A group marked `keep` (errors) is never cut. Each cut
group says how many of its lines are not shown, and a note under the summary says what was cut and
where the full plan is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LIMIT = 65_000
"""Characters; under GitHub's 65,536 with room for the comment's hidden marker."""
COLLAPSE_OVER = 10
"""A group of more lines than this is collapsed in its own `<details>`."""
_GROUP_OVERHEAD = 40
"""Characters a group's fence and cut note may add when its first line is shown."""


@dataclass
class Group:
    heading: str
    count: int
    """What the group counts (items, entries), shown beside its heading."""
    lines: list[str]
    fence: str | None = None
    """A code fence's language (`diff`), or None for Markdown lines."""
    keep: bool = False
    """Never cut (errors)."""


@dataclass
class Section:
    title: str
    count: int
    open: bool
    groups: list[Group]
    note: str = ""


@dataclass
class _Shown:
    counts: dict[int, int] = field(default_factory=dict)
    """Lines shown per group (by `id`); all of them when absent."""

    def of(self, group: Group) -> int:
        return self.counts.get(id(group), len(group.lines))


def fit(
    head: list[str],
    sections: list[Section],
    tail: list[str],
    *,
    limit: int = DEFAULT_LIMIT,
    artifact: str | None = None,
) -> str:
    """The report, under `limit` characters when anything can make it so."""
    shown = _Shown()
    whole = _render(head, sections, tail, shown, "")
    if len(whole) <= limit:
        return whole
    groups = [g for s in sections for g in s.groups]
    cuttable = [g for g in groups if not g.keep]
    shown.counts = {id(g): 0 for g in cuttable}
    total_lines = sum(len(g.lines) for g in cuttable)
    note = _cut_note(limit, artifact, total_lines, total_lines)
    budget = limit - len(_render(head, sections, tail, shown, note)) - 64
    filled: list[Group] = []
    for group in cuttable:  # sections' order: the most important first
        cost = _GROUP_OVERHEAD
        n = 0
        for line in group.lines:
            cost += len(line) + 1
            if cost > budget:
                break
            n += 1
        if n:
            budget -= cost if n == len(group.lines) else cost - len(group.lines[n]) - 1
            shown.counts[id(group)] = n
            filled.append(group)
        if budget <= _GROUP_OVERHEAD:
            break
    while True:
        cut = sum(len(g.lines) - shown.of(g) for g in cuttable)
        note = _cut_note(limit, artifact, cut, total_lines)
        text = _render(head, sections, tail, shown, note)
        if len(text) <= limit or not filled:
            break
        last = filled[-1]  # over by a few characters: show fewer of the least important
        shown.counts[id(last)] = max(0, shown.of(last) - max(1, shown.of(last) // 8))
        if shown.of(last) == 0:
            filled.pop()
    if len(text) > limit:  # kept lines alone overflow: a hard cut, said so
        marker = f"\n\n… cut at {limit:,} characters; the full plan: {_where(artifact)}\n"
        text = text[: limit - len(marker)].rsplit("\n", 1)[0] + marker
    return text


def _where(artifact: str | None) -> str:
    return artifact or "the JSON plan (`octi-tanium plan --out FILE`, `octi-tanium show FILE`)"


def _cut_note(limit: int, artifact: str | None, cut: int, total: int) -> str:
    return (
        f"> [!NOTE]\n> This comment is cut to stay under {limit:,} characters: {cut:,} of "
        f"{total:,} detail lines are not shown (every count, blocked and deleted group, and "
        f"error is). The full plan: {_where(artifact)}.\n"
    )


def _render(
    head: list[str], sections: list[Section], tail: list[str], shown: _Shown, note: str
) -> str:
    lines = list(head)
    if note:  # right under the summary: a reviewer knows at once the comment is partial
        lines += [note]
    for section in sections:
        lines += _section(section, shown)
    lines += tail
    return "\n".join(lines)


def _section(section: Section, shown: _Shown) -> list[str]:
    opened = " open" if section.open else ""
    lines = [f"<details{opened}><summary><b>{section.title}</b> ({section.count:,})</summary>", ""]
    if section.note:
        lines += [section.note, ""]
    for group in section.groups:
        lines += _group(group, shown.of(group))
    return [*lines, "</details>", ""]


def _group(group: Group, n: int) -> list[str]:
    title = f"{group.heading} ({group.count:,})"
    body: list[str] = []
    if n:
        body = [f"```{group.fence}", *group.lines[:n], "```"] if group.fence else group.lines[:n]
    hidden = len(group.lines) - n
    if hidden:
        body.append(f"_… {hidden:,} more line(s) not shown: see the full plan._")
    if len(group.lines) > COLLAPSE_OVER:
        return [f"<details><summary>{title}</summary>", "", *body, "", "</details>", ""]
    return [f"**{title}**", "", *body, ""]
