"""The reversed CC-CEDICT kept between processes: made once, read back the same, named by
the dictionary's contents, made again when the file is damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.retrieval import translate

SMALL = {"elderly care": ("养老",), "bed": ("床位", "床")}


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def fake() -> dict[str, tuple[str, ...]]:
        calls.append(1)
        return dict(SMALL)

    monkeypatch.setattr(translate, "_cedict_reverse", fake)
    translate.cedict_reverse.cache_clear()
    yield calls
    translate.cedict_reverse.cache_clear()


def test_made_once_then_read_back(tmp_path: Path, made: list[int]):
    assert translate.cedict_reverse(tmp_path) == SMALL
    (cached,) = tmp_path.glob("cedict-reverse-*.marshal")
    translate.cedict_reverse.cache_clear()
    assert translate.cedict_reverse(tmp_path) == SMALL
    assert len(made) == 1  # the second process-equivalent read the file
    assert cached == translate._cedict_cache_file(tmp_path)


def test_a_damaged_file_is_made_again(tmp_path: Path, made: list[int]):
    path = translate._cedict_cache_file(tmp_path)
    assert path is not None
    path.write_bytes(b"\x00not marshal")
    assert translate.cedict_reverse(tmp_path) == SMALL
    assert len(made) == 1
    translate.cedict_reverse.cache_clear()
    assert translate.cedict_reverse(tmp_path) == SMALL and len(made) == 1


def test_no_folder_no_file(tmp_path: Path, made: list[int]):
    assert translate.cedict_reverse(None) == SMALL
    assert list(tmp_path.iterdir()) == []
