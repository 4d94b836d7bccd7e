"""A YAML text parsed once is not parsed again (in the process, and across `keel synth` runs through the
store's folder), and reuse never changes what a caller sees: its own copy, and every error still raised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.spec import yamlio
from keel.spec.yamlio import ParseStore, YamlReadError, parse_yaml, use_parse_store

TEXT = "name: shop\nitems: [1, 2]\nnested: {a: {b: true}}\nwhen: 2026-12-01\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParseStore]:
    before = yamlio._store
    try:
        yield use_parse_store(tmp_path / "yaml")
    finally:
        yamlio._store = before


def _parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = yamlio._parse

    def counted(text: str, *, display: str, cloudformation: bool) -> yamlio.YamlValue:
        calls.append(display)
        return real(text, display=display, cloudformation=cloudformation)

    monkeypatch.setattr(yamlio, "_parse", counted)
    return calls


def test_the_same_text_is_parsed_once_and_each_caller_gets_its_own_copy(
        store: ParseStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _parses(monkeypatch)
    first = parse_yaml(TEXT, display="a.yaml")
    assert isinstance(first, dict)
    first["items"].append(3)
    first["nested"]["a"]["b"] = False
    second = parse_yaml(TEXT, display="b.yaml")
    assert second == {"name": "shop", "items": [1, 2], "nested": {"a": {"b": True}}, "when": "2026-12-01"}
    assert calls == ["a.yaml"]


def test_another_process_reads_the_stored_document(store: ParseStore, monkeypatch: pytest.MonkeyPatch) -> None:
    parse_yaml(TEXT, display="a.yaml")
    assert store.folder is not None
    fresh = use_parse_store(store.folder)  # a new process: an empty memory, the same folder
    calls = _parses(monkeypatch)
    assert parse_yaml(TEXT, display="a.yaml") == fresh.get(fresh.key(TEXT, False))
    assert calls == []


def test_cloudformation_reading_is_kept_apart(store: ParseStore) -> None:
    text = "a: yes\nb: !Ref Thing\n"
    with pytest.raises(YamlReadError):
        parse_yaml(text, display="spec.yaml")  # a spec: YAML 1.2 and no CloudFormation tags
    assert yamlio.parse_cfn_yaml(text, display="t.yaml") == {"a": True, "b": {"Ref": "Thing"}}
    assert parse_yaml("a: yes\n", display="spec.yaml") == {"a": "yes"}


def test_a_bad_document_is_refused_every_time_naming_each_file(store: ParseStore) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcd", "bcde", strict=True))
    for name in ("one.yaml", "two.yaml"):
        with pytest.raises(YamlReadError) as caught:
            parse_yaml(bomb, display=name)
        assert caught.value.file == name
        assert "node budget" in caught.value.message
    assert store.folder is not None
    assert not [p for p in store.folder.rglob("*") if p.is_file()]


def test_a_damaged_stored_document_is_parsed_again(store: ParseStore) -> None:
    parse_yaml(TEXT, display="a.yaml")
    assert store.folder is not None
    key = store.key(TEXT, False)
    (store.folder / key[:2] / key).write_bytes(b"\x00garbage")
    fresh = use_parse_store(store.folder)
    assert fresh.get(key) is None
    assert parse_yaml(TEXT, display="a.yaml")["name"] == "shop"  # type: ignore[index]


def test_the_folder_keeps_only_the_newest_documents(store: ParseStore) -> None:
    for n in range(5):
        parse_yaml(f"n: {n}\n", display="x.yaml")
    store.prune(keep=2)
    assert store.folder is not None
    assert len([p for p in store.folder.rglob("*") if p.is_file()]) == 2
