"""The regions whose governments deliver work reports: the State Council and the 34
provincial-level divisions, with the names and short forms people write them by.

Shared by the indexer (a report's region from its text or file name) and the service
(the regions a question names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

Level = Literal["national", "provincial"]

NATIONAL = "全国"


@dataclass(frozen=True, slots=True)
class Region:
    """One region: its full name (`上海市`), the names it is also written by, its level and
    the slug file names use (`shanghai`)."""

    name: str
    slug: str
    level: Level
    aliases: tuple[str, ...] = ()
    # One-character short forms (沪, 粤): in a question they count only where they cannot be
    # part of another word, so only the ones rarely used otherwise are listed.
    short: tuple[str, ...] = ()
    # One-character forms too common to count alone (京, 苏, 港): they name the region only
    # inside a run of short forms (京津冀, 沪苏浙皖, 粤港澳).
    run: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def report_name(self) -> str:
        """How a report of this region is called: 上海市政府工作报告, 国务院政府工作报告."""
        return "国务院政府工作报告" if self.level == "national" else f"{self.name}政府工作报告"


def _p(
    name: str, slug: str, *aliases: str, short: tuple[str, ...] = (), run: tuple[str, ...] = ()
) -> Region:
    return Region(name, slug, "provincial", aliases, short, run)


REGIONS: tuple[Region, ...] = (
    Region(NATIONAL, "national", "national", ("国务院", "中央政府", "全国人大")),
    _p("北京市", "beijing", "北京", run=("京",)),
    _p("天津市", "tianjin", "天津", run=("津",)),
    _p("上海市", "shanghai", "上海", short=("沪",)),
    _p("重庆市", "chongqing", "重庆", short=("渝",)),
    _p("河北省", "hebei", "河北", short=("冀",)),
    _p("山西省", "shanxi", "山西", short=("晋",)),
    _p("辽宁省", "liaoning", "辽宁", run=("辽",)),
    _p("吉林省", "jilin", "吉林", run=("吉",)),
    _p("黑龙江省", "heilongjiang", "黑龙江", run=("黑",)),
    _p("江苏省", "jiangsu", "江苏", run=("苏",)),
    _p("浙江省", "zhejiang", "浙江", run=("浙",)),
    _p("安徽省", "anhui", "安徽", short=("皖",)),
    _p("福建省", "fujian", "福建", short=("闽",)),
    _p("江西省", "jiangxi", "江西", short=("赣",)),
    _p("山东省", "shandong", "山东", short=("鲁",)),
    _p("河南省", "henan", "河南", short=("豫",)),
    _p("湖北省", "hubei", "湖北", short=("鄂",)),
    _p("湖南省", "hunan", "湖南", short=("湘",)),
    _p("广东省", "guangdong", "广东", short=("粤",)),
    _p("海南省", "hainan", "海南", short=("琼",)),
    _p("四川省", "sichuan", "四川", run=("川", "蜀")),
    _p("贵州省", "guizhou", "贵州", short=("黔",), run=("贵",)),
    _p("云南省", "yunnan", "云南", short=("滇",), run=("云",)),
    _p("陕西省", "shaanxi", "陕西", run=("陕",)),
    _p("甘肃省", "gansu", "甘肃", short=("陇",), run=("甘",)),
    _p("青海省", "qinghai", "青海", run=("青",)),
    _p("台湾省", "taiwan", "台湾", run=("台",)),
    _p("内蒙古自治区", "neimenggu", "内蒙古", "inner-mongolia", run=("蒙",)),
    _p("广西壮族自治区", "guangxi", "广西", "广西自治区", run=("桂",)),
    _p("西藏自治区", "xizang", "西藏", "tibet", run=("藏",)),
    _p("宁夏回族自治区", "ningxia", "宁夏", "宁夏自治区"),
    _p("新疆维吾尔自治区", "xinjiang", "新疆", "新疆自治区"),
    _p("香港特别行政区", "hongkong", "香港", "hong-kong", run=("港",)),
    _p("澳门特别行政区", "macao", "澳门", "macau", run=("澳",)),
)


@cache
def _by_key() -> dict[str, Region]:
    out: dict[str, Region] = {}
    for r in REGIONS:
        for key in (*r.names, r.slug, *r.short):
            out[key.lower()] = r
    return out


def region(name: str) -> Region | None:
    """The region a name, alias, slug or short form stands for (上海, 上海市, shanghai, 沪)."""
    return _by_key().get(name.strip().lower())


def canonical(name: str) -> str | None:
    """The full name of a region as written anywhere (上海 -> 上海市), None if unknown."""
    r = region(name)
    return r.name if r else None


@cache
def _name_pattern() -> re.Pattern[str]:
    names = sorted({n for r in REGIONS for n in r.names if not n.isascii()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names)))


def region_mentions(text: str) -> list[tuple[Region, int, int]]:
    """Every place a text names a region by full name or alias: (region, start, end).

    Longest names win (内蒙古自治区 over 内蒙古); one-character short forms are not read
    here (see Region.short), nor the national 国家/我国/中国, which are often not a region.
    """
    out: list[tuple[Region, int, int]] = []
    for m in _name_pattern().finditer(text):
        r = region(m.group())
        if r is not None:
            out.append((r, m.start(), m.end()))
    return out


def regions_in(text: str) -> list[Region]:
    """The regions a text names by full name or alias, in order of first mention (see
    region_mentions)."""
    found: dict[str, Region] = {}
    for r, _, _ in region_mentions(text):
        found.setdefault(r.name, r)
    return list(found.values())


def region_of_slug(stem: str) -> Region | None:
    """The region a file name starts with (`beijing-2025-government-work-report`)."""
    head = re.split(r"[-_\s.]", stem.strip().lower(), maxsplit=1)[0]
    return region(head)
