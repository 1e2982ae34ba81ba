"""The corpus's reports by region and year, as answers name them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from indexer.regions import REGIONS, canonical
from indexer.types import DocumentMeta

from .errors import InvalidQueryError, NotFoundError

# The order regions are listed in: the State Council first, then as indexer.regions lists them.
_REGION_ORDER = {r.name: i for i, r in enumerate(REGIONS)}


@dataclass(frozen=True, slots=True)
class Report:
    """One report of the corpus, as answers name it."""

    doc_id: str
    title: str
    region: str | None
    year: int | None
    level: str | None = None

    @property
    def label(self) -> str:
        """How an answer names it: 《2019年上海市政府工作报告》."""
        return f"《{self.title}》"


def report_of(doc: DocumentMeta) -> Report:
    return Report(doc.doc_id, doc.title, doc.region, doc.year, doc.level)


def order(r: Report) -> tuple[int, int, str]:
    """Oldest first, then the State Council, then the regions as indexer.regions lists them."""
    return (r.year or 0, _REGION_ORDER.get(r.region or "", len(_REGION_ORDER)), r.doc_id)


def span(years: Iterable[int]) -> str:
    """Years as people write them: 2017—2025年, 2017、2019年, 2025年."""
    ys = sorted(set(years))
    if not ys:
        return ""
    if len(ys) > 2 and ys == list(range(ys[0], ys[-1] + 1)):
        return f"{ys[0]}—{ys[-1]}年"
    return "、".join(str(y) for y in ys) + "年"


class Catalogue:
    """The reports of one index by region and year."""

    def __init__(self, documents: Sequence[DocumentMeta]) -> None:
        self.reports: tuple[Report, ...] = tuple(sorted(map(report_of, documents), key=order))
        self.by_id = {r.doc_id: r for r in self.reports}

    def __len__(self) -> int:
        return len(self.reports)

    @property
    def regions(self) -> list[str]:
        """The regions holding reports, State Council first."""
        names = {r.region for r in self.reports if r.region}
        return sorted(names, key=lambda n: _REGION_ORDER.get(n, len(_REGION_ORDER)))

    def of_region(self, name: str) -> list[Report]:
        return [r for r in self.reports if r.region == name]

    def find(self, name: str | None, year: int) -> list[Report]:
        return [r for r in self.reports if r.year == year and (name is None or r.region == name)]

    def latest(self, name: str) -> Report | None:
        dated = [r for r in self.of_region(name) if r.year is not None]
        return max(dated, key=order) if dated else None

    def holdings(self, name: str, lang: str = "zh") -> str:
        """What the corpus holds for a region, in a sentence."""
        years = [r.year for r in self.of_region(name) if r.year is not None]
        if lang == "en":
            if not years:
                return f"the corpus holds no report of {name}"
            return f"the corpus holds the {name} reports of {span(years).removesuffix('年')}"
        if not years:
            return f"语料库中没有{name}的报告"
        return f"语料库中{name}有{span(years)}的报告"

    def of_passage(self, text: str) -> Report | None:
        """The report a passage id belongs to (`<doc_id>-0012`), None if text is not one."""
        doc_id, _, number = text.rpartition("-")
        return self.by_id.get(doc_id) if number.isdigit() else None

    def report(self, doc_id: str) -> Report:
        found = self.by_id.get(doc_id)
        if found is None:
            known = ", ".join(sorted(self.by_id))
            raise NotFoundError(f"no document {doc_id!r}: known documents are {known}")
        return found

    def region_names(self, names: Sequence[str]) -> tuple[str, ...]:
        """Request region filters as canonical names; InvalidQueryError for an unknown one."""
        out: list[str] = []
        for name in names:
            full = canonical(name)
            if full is None:
                raise InvalidQueryError(
                    f"unknown region {name!r}: use a name such as 上海市, 上海 or 全国; the "
                    f"corpus holds reports of {'、'.join(self.regions) or 'no region'}"
                )
            out.append(full)
        return tuple(dict.fromkeys(out))
