"""Tests for heavytail_diffusion.data: load_table validation, bundled datasets and `heavytail datasets`."""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from heavytail_diffusion.data import (
    DataWarning,
    Table,
    dataset_path,
    list_datasets,
    load_dataset,
    load_table,
)
from heavytail_diffusion.errors import DataError

RNG = np.random.default_rng(0)


def _frame(n: int = 30, d: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.standard_t(3, size=(n, d)), columns=[f"c{j}" for j in range(d)])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _csv(tmp_path: Path, df: pd.DataFrame, name: str = "t.csv", **kw) -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False, **kw)
    return path


# ------------------------------------------------------------------ happy paths


def test_csv_str_and_path_give_same_table(tmp_path):
    df = _frame()
    path = _csv(tmp_path, df)
    for src in (path, str(path)):
        t = load_table(src)
        assert isinstance(t, Table)
        assert t.values.dtype == np.float64 and t.values.shape == (30, 2) == (t.n, t.d)
        assert t.columns == ("c0", "c1")
        assert t.source == str(path)
        np.testing.assert_array_equal(t.values, df.to_numpy())
    pd.testing.assert_frame_equal(t.to_frame(), df)


@pytest.mark.parametrize(
    ("name", "sep"), [("t.tsv", "\t"), ("t.txt", "\t"), ("t.csv", ";"), ("t.dat", ","), ("t.tab", "\t")]
)
def test_delimiters(tmp_path, name, sep):
    df = _frame(25, 3)
    t = load_table(_csv(tmp_path, df, name, sep=sep))
    assert t.columns == ("c0", "c1", "c2")
    np.testing.assert_array_equal(t.values, df.to_numpy())


def test_gzip_csv_and_bom_header(tmp_path):
    df = _frame()
    path = tmp_path / "t.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8-sig") as fh:
        df.to_csv(fh, index=False)
    t = load_table(path)
    assert t.columns == ("c0", "c1")
    np.testing.assert_array_equal(t.values, df.to_numpy())


def test_parquet(tmp_path):
    df = _frame(40, 3)
    df["when"] = pd.date_range("2000-01-01", periods=40)
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    with pytest.warns(DataWarning, match=r"not modelled: 'when' \(time"):
        t = load_table(path)
    assert t.columns == ("c0", "c1", "c2") and t.skipped == ()
    assert list(t.extra.columns) == ["when"] and t.schema["when"].kind == "time"
    assert pd.api.types.is_datetime64_any_dtype(t.extra["when"])
    np.testing.assert_array_equal(t.values, df[["c0", "c1", "c2"]].to_numpy())


def test_dataframe_ints_and_bools_become_float():
    df = pd.DataFrame({"i": np.arange(25) % 9, "b": np.arange(25) % 2 == 0, "f": np.linspace(0, 1, 25)})
    t = load_table(df)
    assert t.source == "DataFrame" and t.values.dtype == np.float64
    np.testing.assert_array_equal(t.values[:, 1], (np.arange(25) % 2 == 0).astype(float))


def test_ndarray_1d_and_2d():
    x = RNG.standard_normal(30)
    t1 = load_table(x)
    assert t1.columns == ("x",) and t1.values.shape == (30, 1) and t1.source == "ndarray"
    t2 = load_table(RNG.standard_normal((30, 3)))
    assert t2.columns == ("x0", "x1", "x2")
    t3 = load_table(RNG.standard_normal((30, 3)), columns="x2,x0")
    assert t3.columns == ("x2", "x0")


@pytest.mark.parametrize("cols", [["c2", "c0"], "c2,c0", "c2, c0", ("c2", "c0")])
def test_columns_list_or_comma_string_keep_order(tmp_path, cols):
    df = _frame(30, 3)
    t = load_table(_csv(tmp_path, df), columns=cols)
    assert t.columns == ("c2", "c0")
    np.testing.assert_array_equal(t.values, df[["c2", "c0"]].to_numpy())


def test_column_name_containing_comma(tmp_path):
    df = _frame(30, 2).rename(columns={"c0": "loss, mDKK"})
    t = load_table(_csv(tmp_path, df), columns="loss, mDKK")
    assert t.columns == ("loss, mDKK",)


def test_date_column_skip_is_warned_and_logged(tmp_path, caplog):
    df = _frame()
    df.insert(0, "date", pd.date_range("2001-01-01", periods=30).strftime("%Y-%m-%d"))
    df["label"] = ["a", "b", "c"] * 10
    df["comment"] = [f"note {i % 25}" for i in range(30)]  # free text: 25 distinct values, some repeated
    path = _csv(tmp_path, df)
    with (
        caplog.at_level(logging.INFO, logger="heavytail_diffusion.data"),
        pytest.warns(
            DataWarning, match=r"skipped 1 non-numeric column\(s\): 'comment' \(text.*not modelled: 'date' \(time"
        ),
    ):
        t = load_table(path)
    assert t.columns == ("c0", "c1", "label") and t.skipped == ("comment",)
    assert t.schema["label"].kind == "categorical" and t.schema["label"].categories == ("a", "b", "c")
    np.testing.assert_array_equal(t.values[:6, 2], [0, 1, 2, 0, 1, 2])  # codes of the labels
    assert any("'date'" in r.getMessage() for r in caplog.records)


def test_dropna_drops_and_reports_count(tmp_path, caplog):
    df = _frame(30, 2)
    df.loc[[3, 7], "c0"] = np.nan
    df.loc[7, "c1"] = np.inf
    df.loc[20, "c1"] = -np.inf
    path = _csv(tmp_path, df)
    with (
        caplog.at_level(logging.INFO, logger="heavytail_diffusion.data"),
        pytest.warns(DataWarning, match="dropped 3 of 30 rows"),
    ):
        t = load_table(path, dropna=True)
    assert t.n == 27 and t.n_dropped == 3 and np.isfinite(t.values).all()
    assert any("dropped 3 of 30" in r.getMessage() for r in caplog.records)


def test_missing_markers_and_empty_strings_are_nan(tmp_path):
    lines = ["a,b"] + [f"{i},{i * 2.5}" for i in range(25)]
    lines[5] = "4,"  # empty cell
    lines[9] = "NA,3"
    text = "\n".join(lines) + "\n"
    with pytest.warns(DataWarning, match="dropped 2 of 25"):
        t = load_table(_write(tmp_path / "m.csv", text), dropna=True)
    assert t.n == 23


# ------------------------------------------------------------------ DataError cases


def test_missing_file_names_it_and_suggests(tmp_path):
    _csv(tmp_path, _frame(), "losses.csv")
    with pytest.raises(DataError, match=r"losses\.cvs: file not found; did you mean losses\.csv"):
        load_table(tmp_path / "losses.cvs")


def test_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load_table(tmp_path)


@pytest.mark.parametrize("name", ["t.xlsx", "t.json", "noext"])
def test_unsupported_extension(tmp_path, name):
    _write(tmp_path / name, "a\n1\n")
    with pytest.raises(DataError, match=r"unsupported file type.*supported: \.csv"):
        load_table(tmp_path / name)


def test_unreadable_parquet(tmp_path):
    _write(tmp_path / "t.parquet", "not,parquet\n1,2\n")
    with pytest.raises(DataError, match=r"t\.parquet: cannot read as parquet"):
        load_table(tmp_path / "t.parquet")


def test_binary_file_with_csv_extension(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"\x00\x01\x02\xff" * 50)
    with pytest.raises(DataError, match=r"b\.csv"):
        load_table(tmp_path / "b.csv")


def test_empty_file(tmp_path):
    _write(tmp_path / "e.csv", "")
    with pytest.raises(DataError, match=r"e\.csv: the file is empty \(0 bytes\)"):
        load_table(tmp_path / "e.csv")


def test_blank_lines_only_file(tmp_path):
    _write(tmp_path / "e.csv", "\n\n  \n")
    with pytest.raises(DataError, match=r"e\.csv: the file is empty"):
        load_table(tmp_path / "e.csv")


def test_header_only(tmp_path):
    _write(tmp_path / "h.csv", "a,b\n")
    with pytest.raises(DataError, match=r"h\.csv: has a header but no data rows"):
        load_table(tmp_path / "h.csv")


def test_unknown_column_lists_available_and_suggests(tmp_path):
    path = _csv(tmp_path, _frame().rename(columns={"c0": "Loss", "c1": "ALAE"}))
    with pytest.raises(DataError) as exc:
        load_table(path, columns=["Loss", "loss_"])
    msg = str(exc.value)
    assert str(path) in msg and "no column named 'loss_'" in msg
    assert "did you mean 'Loss'" in msg and "Available columns: 'Loss', 'ALAE'" in msg


def test_nonnumeric_requested_column_shows_value_and_row(tmp_path):
    df = _frame()
    df["city"] = [f"town{i % 25}" for i in range(30)]  # free text (25 distinct values): not categorical
    path = _csv(tmp_path, df)
    with pytest.raises(DataError) as exc:
        load_table(path, columns="c0,city")
    msg = str(exc.value)
    assert "column 'city' is not numeric" in msg and "'town0'" in msg
    assert "row 1 of the data (line 2 of the file)" in msg


def test_requested_date_column_is_an_error(tmp_path):
    df = _frame()
    df["date"] = pd.date_range("2001-01-01", periods=30).strftime("%Y-%m-%d")
    with pytest.raises(DataError, match=r"no column to model: 'date' \(time: dates\) are not modelled"):
        load_table(_csv(tmp_path, df), columns=["date"])


def test_stray_text_in_numeric_column_is_an_error_not_a_skip(tmp_path):
    lines = ["a,b"] + [f"{i},{i * 1.5}" for i in range(30)]
    lines[12] = "11,1.2.3"
    with pytest.raises(DataError) as exc:
        load_table(_write(tmp_path / "s.csv", "\n".join(lines) + "\n"))
    msg = str(exc.value)
    assert "column 'b'" in msg and "'1.2.3'" in msg and "row 12 of the data (line 13 of the file)" in msg


def test_nothing_numeric(tmp_path):
    text = "name,city\n" + "".join(f"n{i},c{i}\n" for i in range(30))
    with pytest.raises(DataError, match=r"no column to model: 'name' \(id: .*'city' \(id: "):
        load_table(_write(tmp_path / "s.csv", text))


def test_nan_names_column_and_row(tmp_path):
    df = _frame(30, 3)
    df.loc[4, "c1"] = np.nan
    df.loc[9, "c2"] = np.nan
    with pytest.raises(DataError) as exc:
        load_table(_csv(tmp_path, df))
    msg = str(exc.value)
    assert "column 'c1' has a missing value" in msg
    assert "row 5 of the data (line 6 of the file)" in msg
    assert "2 of 30 rows" in msg and "dropna=True" in msg


def test_empty_string_counts_as_missing(tmp_path):
    lines = ["a,b"] + [f"{i},{i * 1.5}" for i in range(30)]
    lines[3] = "2,"
    with pytest.raises(DataError, match=r"column 'b' has a missing value .* row 3 of the data \(line 4"):
        load_table(_write(tmp_path / "s.csv", "\n".join(lines) + "\n"))


def test_line_numbers_account_for_blank_lines_and_multiline_quotes(tmp_path):
    lines = ["a,note,b"] + [f'{i},"x",{i * 1.5}' for i in range(30)]
    lines[2] = '1,"two\nlines",1.5'  # record 2 spans file lines 3-4
    lines.insert(5, "")  # blank line, skipped by the reader
    lines[10] = "8,y,"  # data row 9
    with pytest.raises(DataError, match=r"row 9 of the data \(line 12 of the file\)"):
        load_table(_write(tmp_path / "q.csv", "\n".join(lines) + "\n"), columns="a,b")


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_inf_names_column_and_row(bad):
    X = RNG.standard_normal((30, 2))
    X[17, 1] = bad
    with pytest.raises(
        DataError, match=rf"column 'x1' has a {'[+]' if bad > 0 else '-'}inf value in row 18 "
    ):
        load_table(X)


def test_one_column_file_empty_line_is_missing_not_dropped(tmp_path):
    lines = ["value"] + [str(i) for i in range(25)]
    lines[4] = ""  # an empty value in a one-column file is an empty line
    text = "\n".join(lines) + "\n\n\n"  # trailing blank lines are not data
    path = _write(tmp_path / "one.csv", text)
    with pytest.raises(
        DataError, match=r"column 'value' has a missing value \(empty/NaN\) in row 4 of the data \(line 5"
    ):
        load_table(path)
    with pytest.warns(DataWarning, match="dropped 1 of 25 rows"):
        assert load_table(path, dropna=True).n == 24


def test_inf_strings_in_csv(tmp_path):
    lines = ["a"] + [str(i) for i in range(30)]
    lines[7] = "-inf"
    with pytest.raises(DataError, match=r"column 'a' has a -inf value in row 7 of the data \(line 8"):
        load_table(_write(tmp_path / "s.csv", "\n".join(lines) + "\n"))


def test_dataframe_rows_reported_with_index_label():
    df = _frame(30, 2)
    df.index = [f"r{i}" for i in range(30)]
    df.iloc[3, 0] = np.nan
    with pytest.raises(DataError, match=r"DataFrame: column 'c0' .* row 4 of the data \(index label 'r3'\)"):
        load_table(df)


def test_constant_column(tmp_path):
    df = _frame()
    df["k"] = 3
    with pytest.raises(DataError, match=r"column 'k' is constant \(all 30 values are 3\)"):
        load_table(_csv(tmp_path, df))


def test_too_few_rows(tmp_path):
    with pytest.raises(DataError, match=r"t\.csv: only 19 rows; at least 20"):
        load_table(_csv(tmp_path, _frame(19)))
    assert load_table(_frame(19), min_rows=5).n == 19


def test_too_few_rows_after_dropna(tmp_path):
    df = _frame(25)
    df.loc[:9, "c0"] = np.nan
    with pytest.warns(DataWarning), pytest.raises(DataError, match="only 15 rows after dropping 10"):
        load_table(_csv(tmp_path, df), dropna=True)


def test_duplicate_column_names_in_file(tmp_path):
    text = "a,b,a\n" + "".join(f"{i},{i * 2},{i * 3}\n" for i in range(30))
    with pytest.raises(DataError, match=r"d\.csv: duplicate column name 'a' \(columns 1 and 3\)"):
        load_table(_write(tmp_path / "d.csv", text))


def test_duplicate_column_names_in_dataframe_and_argument():
    df = pd.DataFrame(RNG.standard_normal((30, 2)), columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate column name 'a'"):
        load_table(df)
    with pytest.raises(DataError, match="columns argument: duplicate column name 'x0'"):
        load_table(RNG.standard_normal((30, 2)), columns="x0,x0")


@pytest.mark.parametrize("src", [42, {"a": [1, 2]}, np.zeros((3, 3, 3))])
def test_bad_source_type(src):
    with pytest.raises(DataError):
        load_table(src)


def test_data_error_is_value_error():
    assert issubclass(DataError, ValueError)


# ------------------------------------------------------------------ bundled datasets

# rows in the file; rows of load_table(dataset_path(name), dropna=True); columns in the file
EXPECTED = {
    "danish": (2167, 2167, 2),
    "lossalae": (1500, 1500, 2),
    "sp500": (5031, 5030, 8),  # first log_return is empty
    "fort_collins": (36524, 36524, 5),
    "crypto": (2874, 1027, 5),  # ETH/LTC/XRP start later than BTC
    "csn_words": (18855, 18855, 1),
    "csn_cities": (19447, 19447, 1),
    "csn_terrorism": (9101, 9101, 1),
    "csn_flares": (12773, 12773, 1),
    "csn_blackouts": (211, 211, 1),
}


def test_list_datasets_matches_files():
    df = list_datasets()
    assert list(df.columns) == ["name", "file", "rows", "columns", "description", "published_tail"]
    assert set(df["name"]) == set(EXPECTED)
    for rec in df.itertuples():
        assert (rec.rows, rec.columns) == (EXPECTED[rec.name][0], EXPECTED[rec.name][2])
        assert dataset_path(rec.name).is_file()
        assert dataset_path(rec.name).with_suffix(".source.txt").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_dataset_loads(name):
    rows, table_rows, ncol = EXPECTED[name]
    df = load_dataset(name)
    assert df.shape == (rows, ncol)
    if "date" in df.columns:
        assert pd.api.types.is_datetime64_any_dtype(df["date"])
    with pytest.warns() if ("date" in df.columns or rows != table_rows) else _nullcontext():
        t = load_table(dataset_path(name), dropna=True)
    assert t.n == table_rows and np.isfinite(t.values).all()


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_dataset_aliases_and_unknown_name():
    assert dataset_path("words") == dataset_path("csn_words") == dataset_path("CSN-Words")
    assert dataset_path("danish_fire") == dataset_path("danish")
    with pytest.raises(
        DataError, match=r"unknown dataset 'danis'.*'danish'.*Bundled datasets: danish, lossalae"
    ):
        load_dataset("danis")


def test_published_figures_quoted_from_sources():
    df = list_datasets().set_index("name")
    assert "0.497" in df.loc["danish", "published_tail"]
    for name, alpha in [("csn_words", "1.95"), ("csn_cities", "2.37"), ("csn_flares", "1.79")]:
        assert alpha in df.loc[name, "published_tail"]
        assert f"alpha={alpha}" in dataset_path(name).with_suffix(".source.txt").read_text()


def test_danish_exceedances_match_published_count():
    # evd::fpot(danish, 10) reports 109 exceedances; the bundled file must agree
    x = load_dataset("danish")["loss_mdkk"].to_numpy()
    assert int((x > 10).sum()) == 109


# ------------------------------------------------------------------ CLI


def test_cli_datasets_table_and_json(capsys):
    from heavytail_diffusion.cli import main

    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out
    assert str(dataset_path("danish")) in out
    assert main(["datasets", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert {r["name"]: r["rows"] for r in recs} == {k: v[0] for k, v in EXPECTED.items()}
    assert main(["datasets", "--path", "lossalae"]) == 0
    assert capsys.readouterr().out.strip() == str(dataset_path("lossalae"))
    assert main(["datasets", "--path", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err


# ------------------------------------------------------------------ properties

_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def _tables(draw):
    n = draw(st.integers(20, 60))
    d = draw(st.integers(1, 5))
    X = draw(hnp.arrays(np.float64, (n, d), elements=_finite))
    # a constant column is (correctly) an error; make column 0 row 0 differ from row 1 if needed
    for j in range(d):
        if np.all(X[:, j] == X[0, j]):
            X[1, j] = 1.0 if X[0, j] != 1.0 else 2.0
    return X


_HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_HYP
@given(X=_tables())
def test_property_csv_round_trip_is_exact(tmp_path, X):
    cols = [f"v{j}" for j in range(X.shape[1])]
    path = tmp_path / "p.csv"
    path.write_text(
        ",".join(cols) + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in X)
    )
    t = load_table(path)
    assert t.columns == tuple(cols)
    np.testing.assert_array_equal(t.values, X)


@_HYP
@given(X=_tables(), data=st.data(), marker=st.sampled_from(["", "NaN", "NA", "nan", "inf", "-inf"]))
def test_property_inserted_nonfinite_is_located(tmp_path, X, data, marker):
    n, d = X.shape
    i = data.draw(st.integers(0, n - 1), label="row")
    j = data.draw(st.integers(0, d - 1), label="col")
    cells = [[repr(float(v)) for v in row] for row in X]
    cells[i][j] = marker
    cols = [f"v{k}" for k in range(d)]
    path = tmp_path / "p.csv"
    path.write_text(",".join(cols) + "\n" + "".join(",".join(r) + "\n" for r in cells))
    with pytest.raises(DataError) as exc:
        load_table(path)
    msg = str(exc.value)
    assert f"column 'v{j}'" in msg
    assert f"row {i + 1} of the data (line {i + 2} of the file)" in msg


def test_renaming_a_table_keeps_its_schema():
    """as_table(table, columns=...) renames the columns and their specs (coded categories were lost)."""
    from heavytail_diffusion.data import as_table

    df = pd.DataFrame({"loss": np.r_[np.zeros(10), np.arange(1.0, 31.0) ** 1.5], "kind": ["a", "b"] * 20})
    table = load_table(df)
    renamed = as_table(table, columns=["x", "y"])
    assert renamed.columns == ("x", "y")
    assert renamed.schema["y"].kind == "categorical" and renamed.schema["y"] == dataclasses.replace(
        table.schema["kind"], name="y"
    )
    assert renamed.schema["x"].kind == table.schema["loss"].kind
    np.testing.assert_array_equal(renamed.values, table.values)
