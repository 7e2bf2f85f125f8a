"""查找家庭编号 with a Chinese input method: full-width letters, digits and spaces
(「　Ｈ０５９　」) find the ids typed in ASCII (H059), the text stays shown as typed and
the ids as stored."""

from __future__ import annotations

import pytest

from tests.test_console import ADMIN, env, page, shown, start  # noqa: F401
from tests.test_console_uploads import households_jsonl

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def test_an_id_typed_in_full_width_finds_the_household() -> None:
    """「Ｈ０５」 found nothing: the search compared it with the ids as they were."""
    at = page(start(ADMIN), "preview")
    at.file_uploader(key="households_upload").upload(
        "many.jsonl", households_jsonl(*[f"H{n:03d}" for n in range(60)]))
    at.run()
    at.text_input(key="household_search").input("ｈ０５")  # full-width, lower case
    at.run()
    assert not at.exception, at.exception
    options = at.selectbox(key="household_choice").options
    assert [o.split(" · ")[0] for o in options] == [f"H05{n}" for n in range(10)]
    at.text_input(key="household_search").input("\u3000Ｈ０５９ ")  # ideographic space
    at.run()
    assert at.selectbox(key="household_choice").value == "H059"
    assert any("家庭 H059（330106" in t.value for t in at.text)
    at.text_input(key="household_search").input("Ｘ９")
    at.run()
    assert "没有编号含「Ｘ９」的家庭（共 60 户）" in shown(at)  # as typed, not folded


def test_matching_folds_full_width_text_and_returns_the_ids_as_stored() -> None:
    from console.ui import matching

    ids = ["H10", "户Ａ1", "H1", "B1"]
    assert matching(ids, "\u3000Ｈ１\u3000", 10) == (["H1", "H10"], 2)
    assert matching(ids, "ｂ１", 10) == (["B1"], 1)
    # an id stored in full-width forms is found typed either way, and given back as stored
    assert matching(ids, "户Ａ1", 10) == (["户Ａ1"], 1)
    assert matching(ids, "户a1", 10) == (["户Ａ1"], 1)
    assert matching(ids, "\u3000", 2) == (["H10", "户Ａ1"], 4)
