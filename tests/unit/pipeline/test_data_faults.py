"""Data faults a tester found in real files: each stops with a message naming what is wrong.

The files are written as a user's tools write them (Excel's "CSV UTF-8" with a byte-order mark
and semicolons, a column pasted twice, labels typed two ways, a number column with a note in it).
"""

from __future__ import annotations

import pandas as pd
import pytest

from modelops.params import DataParams, ValidateParams
from modelops.pipeline.contract import ContractError, infer_contract, infer_task
from modelops.pipeline.data import DataError, load_dataset

BOUNDS = ValidateParams(min_rows=1)


def write(path, text: str, bom: bool = False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_a_column_name_written_twice_stops_naming_it(tmp_path):
    path = write(tmp_path / "t.csv", "num_00,num_01,num_00,y\n1,2,3,no\n4,5,6,yes\n")
    with pytest.raises(DataError) as refused:
        load_dataset(path, "y")
    assert str(refused.value) == (
        f"data.source: {path} has the column name(s) 'num_00' more than once; rename or remove "
        "the copies (a reader would take the second for 'num_00.1', a different column)"
    )


def test_a_duplicated_name_is_found_with_any_separator(tmp_path):
    path = write(tmp_path / "t.csv", "a;b;b;y\n1;2;3;no\n", bom=True)
    with pytest.raises(DataError, match=r"column name\(s\) 'b' more than once"):
        load_dataset(path, "y")


def test_a_bom_and_semicolons_are_read_as_the_columns_they_are(tmp_path):
    path = write(tmp_path / "t.csv", "age;plan;y\n31;basic;no\n45;pro;yes\n", bom=True)
    frame = load_dataset(path, "y")
    assert list(frame.columns) == ["age", "plan", "y"]
    assert frame["age"].tolist() == [31, 45] and frame["y"].tolist() == ["no", "yes"]


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_each_usual_separator_is_sniffed(tmp_path, separator):
    rows = [["x", "note", "y"], ["1.5", "a, b", "no"], ["2.5", "c", "yes"]]
    text = "\n".join(separator.join(f'"{v}"' if separator in v else v for v in row) for row in rows)
    frame = load_dataset(write(tmp_path / "t.csv", text + "\n"), "y")
    assert list(frame.columns) == ["x", "note", "y"]
    assert frame["x"].tolist() == [1.5, 2.5] and frame["note"].tolist() == ["a, b", "c"]


def test_a_file_whose_separator_cannot_be_told_says_what_was_expected(tmp_path):
    path = write(tmp_path / "t.csv", "age:plan:y\n31:basic:no\n45:pro:yes\n")
    with pytest.raises(DataError) as refused:
        load_dataset(path, "y")
    assert str(refused.value) == (
        f"data.source: {path} has no target column 'y' (columns: age:plan:y); read as one "
        "column separated by ',': a CSV needs one of ',' ';' '\\t' '|' between its columns; "
        "set data.target"
    )


def test_a_single_column_file_is_still_read(tmp_path):
    frame = load_dataset(write(tmp_path / "t.csv", "y\nno\nyes\n"), "y")
    assert frame["y"].tolist() == ["no", "yes"]


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("x,y\n1,caf\xe9\n".encode("latin-1") + b"2,no\n" * 10)
    with pytest.raises(DataError, match=r"is not UTF-8 text \(byte 9\); save it as UTF-8 CSV"):
        load_dataset(path, "y")


def test_a_target_mixing_text_and_integers_stops_unless_the_task_is_set(tmp_path):
    path = write(tmp_path / "t.csv", "x,y\n" + "1,no\n2,yes\n3,0\n4,1\n" * 5)
    frame = load_dataset(path, "y")
    with pytest.raises(ContractError) as refused:
        infer_contract(frame, DataParams(target="y"), BOUNDS, str(path))
    assert str(refused.value) == (
        "target 'y' mixes text and numbers (e.g. 'no', 'yes', '0', '1'): 4 classes as written; "
        "fix the labels, or set data.task if they are meant as they are"
    )
    contract, _ = infer_contract(frame, DataParams(target="y", task="multiclass"), BOUNDS, "t")
    assert contract.classes == ("0", "1", "no", "yes")


def test_mixed_python_objects_in_a_target_are_refused_too():
    with pytest.raises(ContractError, match=r"mixes text and numbers \(e.g. 'a', 1\)"):
        infer_task(pd.Series(["a", 1, "a", 1], name="y"), "auto", 20)
    # all text, all numbers, booleans: not mixed
    assert infer_task(pd.Series(["1st", "2nd"]), "auto", 20)[0] == "binary"
    assert infer_task(pd.Series(["1", "2", "3"], name="y"), "auto", 20)[0] == "multiclass"
    assert infer_task(pd.Series([True, False, None], name="y"), "auto", 20)[0] == "binary"


def test_text_in_a_number_column_of_a_new_source_says_it_held_text(tmp_path):
    lines = [f"{i * 1.5},{['no', 'yes'][i % 2]}" for i in range(150)]
    lines[7], lines[40] = "unknown,no", "see note,yes"
    path = write(tmp_path / "t.csv", "amount,y\n" + "\n".join(lines) + "\n")
    frame = load_dataset(path, "y")
    with pytest.raises(ContractError) as refused:
        infer_contract(frame.assign(other=1.0), DataParams(target="y"), BOUNDS, str(path))
    assert str(refused.value) == (
        "amount: a number column with text in it (2 text value(s), e.g. 'unknown', 'see note', "
        "among 148 distinct numbers); fix those cells, or list the column in data.drop or "
        "data.categorical"
    )
    # listed in data.drop: left out as asked; in data.categorical: a category as asked
    contract, _ = infer_contract(frame.assign(other=1.0), DataParams(target="y", drop=("amount",)),
                                 BOUNDS, "t")  # fmt: skip
    assert contract.dropped["amount"] == "listed in data.drop"
    contract, _ = infer_contract(
        frame.assign(other=1.0), DataParams(target="y", categorical=("amount",)), BOUNDS, "t"
    )
    assert "amount" in contract.dropped and "identifier" in contract.dropped["amount"]


def test_a_few_codes_with_one_word_stay_a_category():
    frame = pd.DataFrame({"code": ["1", "2", "3", "unknown"] * 10, "y": ["a", "b"] * 20})
    contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    assert contract.columns[0].categories == ("1", "2", "3", "unknown")


def test_numbers_with_text_looking_like_an_identifier_are_a_problem_too():
    # 30 distinct numbers and 2 words in 32 rows: an "identifier", not too many categories
    values = [str(i * 1.5) for i in range(30)] + ["a", "b"]
    frame = pd.DataFrame({"amount": values, "other": 1.0, "y": ["no", "yes"] * 16})
    with pytest.raises(ContractError, match=r"^amount: a number column with text in it \(2 text"):
        infer_contract(frame, DataParams(target="y"), BOUNDS, "t")


def test_as_many_words_as_numbers_is_a_text_column_and_four_words_are_named_as_three():
    half = [str(i) for i in range(15)] + [f"w{i}" for i in range(15)]
    frame = pd.DataFrame({"ref": half, "other": 1.0, "y": ["no", "yes"] * 15})
    contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    assert contract.dropped["ref"] == "identifier (100% of values are unique)"
    words = [str(i) for i in range(26)] + ["w", "x", "y", "z"]
    frame = pd.DataFrame({"ref": words, "other": 1.0, "y": ["no", "yes"] * 15})
    with pytest.raises(ContractError) as refused:
        infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    assert "(4 text value(s), e.g. 'w', 'x', 'y', among 26 distinct numbers)" in str(refused.value)
