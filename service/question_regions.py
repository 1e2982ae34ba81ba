"""The regions a question names, as canonical full names (see service.facets for the rules).

Full names and aliases (indexer.regions), English names, one-character short forms alone
or in runs (沪, 京津冀), and the State Council, whose words (全国, 国家) often name no region.
"""

from __future__ import annotations

import re

from indexer.regions import NATIONAL, REGIONS, region_mentions

_SHORT = {c: r.name for r in REGIONS for c in r.short}
_IN_RUN = {**{c: r.name for r in REGIONS for c in r.run}, **_SHORT}
_SHORT_RUN = re.compile(f"[{''.join(_IN_RUN)}]+")
# Words that hold a short form without naming its region (出台 before 京津冀 is no 台湾).
_NOT_SHORT = re.compile(
    r"晋升|晋级|晋江|晋见|鲁迅|粗鲁|鲁莽|鲁棒|琼瑶|琼浆|不渝|希冀|冀望|犹豫|鄂尔多斯|鄂伦春|陇海"
    r"|出台|平台|舞台|南京|东京|青年|港口|收藏|宝藏|启蒙|吉祥"
)
# Slugs and English aliases, any case, word-bounded; hong-kong is also Hong Kong or HongKong.
_ENGLISH_FORMS = {
    form: r.name
    for r in REGIONS
    if r.level != "national"
    for form in (r.slug, *r.aliases)
    if form.isascii()
}
_ENGLISH_NAMES = {form.replace("-", ""): name for form, name in _ENGLISH_FORMS.items()}
_ENGLISH_ALTERNATIVES = "|".join(re.escape(f).replace(r"\-", r"[-\s]?") for f in _ENGLISH_FORMS)
_ENGLISH = re.compile(rf"(?<![A-Za-z])(?:{_ENGLISH_ALTERNATIVES})(?![A-Za-z])", re.IGNORECASE)
# 全国 as a yardstick for another region (居全国前列, 占全国) rather than the region asked about.
_YARDSTICK_BEFORE = re.compile(
    r"(?:在|占|居|位居|位列|位于|领跑|领先|高于|低于|超过|超出|快于|慢于|走在|排名|排在|比|较)$"
)
_YARDSTICK_AFTER = re.compile(
    r"(?:人大)?代表|领先|前列|第[一二三四五六七八九十\d]|首[个家批创位例]|率先|平均|之最|百强|文明"
    r"|示范|各地|范围|同类|一流|最[高低大多好早快]|排名|比重|性"
)
_NATIONAL_STRONG_EN = re.compile(
    r"\b(?:state\s+council|central\s+government|national\s+people's\s+congress|premier)\b",
    re.IGNORECASE,
)
_NATIONAL_WEAK = re.compile(
    r"(?<![发达各他些线中外])国家(?!级)|我国|(?<!发展)中国(?!家)|本国"
    r"|\b(?:china(?:'s)?|chinese\s+government|national(?!-level)|nationwide|nation(?:'s)?"
    r"|(?:the|whole)\s+country|country's)\b",
    re.IGNORECASE,
)


def _short_forms(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """Regions written by one-character short forms, outside full names and known words."""
    masked = list(text)
    for start, end in [*taken, *((m.start(), m.end()) for m in _NOT_SHORT.finditer(text))]:
        masked[start:end] = " " * (end - start)
    out: list[tuple[int, str]] = []
    for m in _SHORT_RUN.finditer("".join(masked)):
        run = m.group()
        if len(run) >= 2:
            out.extend((m.start() + i, _IN_RUN[c]) for i, c in enumerate(run))
        elif run in _SHORT:
            out.append((m.start(), _SHORT[run]))
    return out


def regions_named(text: str) -> tuple[str, ...]:
    """The regions a question asks about, in order of mention (see the module docstring)."""
    found: list[tuple[int, str]] = []
    strong: list[int] = []
    weak = [m.start() for m in _NATIONAL_WEAK.finditer(text)]
    mentions = region_mentions(text)
    for r, start, end in mentions:
        if r.name != NATIONAL:
            found.append((start, r.name))
        elif _YARDSTICK_BEFORE.search(text[:start]) or _YARDSTICK_AFTER.match(text, end):
            weak.append(start)
        else:
            strong.append(start)
    found += _short_forms(text, [(s, e) for _, s, e in mentions])
    found += [(m.start(), _ENGLISH_NAMES[re.sub(r"[-\s]", "", m.group().lower())])
              for m in _ENGLISH.finditer(text)]  # fmt: skip
    strong += [m.start() for m in _NATIONAL_STRONG_EN.finditer(text)]
    if strong:
        found.append((min(strong), NATIONAL))
    elif weak and not found:
        found.append((min(weak), NATIONAL))
    return tuple(dict.fromkeys(name for _, name in sorted(found)))
