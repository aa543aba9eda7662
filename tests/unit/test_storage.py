import json

import pytest

from modelops.storage import read_json, replaced_directory, write_json


def test_replaced_directory_swaps_whole(tmp_path):
    target = tmp_path / "best"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with replaced_directory(target) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_failure_leaves_previous_directory_intact(tmp_path):
    target = tmp_path / "best"
    target.mkdir()
    (target / "model.pkl").write_text("good")
    with pytest.raises(RuntimeError), replaced_directory(target) as staging:
        (staging / "model.pkl").write_text("half")
        raise RuntimeError("gate refused")
    assert (target / "model.pkl").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]


def test_json_is_stable_and_refuses_nan(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"b": 1, "a": 2})
    assert path.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    with pytest.raises(ValueError):
        write_json(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 2, "b": 1}  # failed write left the old file
    with pytest.raises(FileNotFoundError, match="run the stage that produces it"):
        read_json(tmp_path / "none.json")
