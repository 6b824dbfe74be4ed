import json
import pickle

import numpy as np
import pytest
import torch

from heavytail_diffusion.errors import ModelFileError
from heavytail_diffusion.persistence import load_folder, save_folder


def _save(tmp_path):
    return save_folder(tmp_path / "m", "toy", {"a": 1}, {"w": np.arange(3.0)})


def test_round_trip(tmp_path):
    name, cfg, tensors = load_folder(_save(tmp_path))
    assert name == "toy" and cfg == {"a": 1}
    np.testing.assert_array_equal(tensors["w"].numpy(), np.arange(3.0))


def test_missing_and_file_instead_of_folder(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_folder(tmp_path / "nope")
    f = tmp_path / "f.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(ModelFileError, match="not a model folder"):
        load_folder(f)


def test_truncated_tensor_file(tmp_path):
    path = _save(tmp_path)
    data = (path / "tensors.pt").read_bytes()
    (path / "tensors.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="checksum"):
        load_folder(path)


def test_foreign_manifest_and_bad_json(tmp_path):
    path = _save(tmp_path)
    (path / "model.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelFileError, match="another tool"):
        load_folder(path)
    (path / "model.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_folder(path)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickled_object_is_refused_even_with_matching_checksum(tmp_path):
    import hashlib

    path = _save(tmp_path)
    with open(path / "tensors.pt", "wb") as f:
        torch.save({"w": _Evil()}, f, pickle_module=pickle)
    manifest = json.loads((path / "model.json").read_text())
    manifest["tensors_sha256"] = hashlib.sha256((path / "tensors.pt").read_bytes()).hexdigest()
    (path / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="could not be read safely"):
        load_folder(path)


def test_newer_format_version(tmp_path):
    path = _save(tmp_path)
    manifest = json.loads((path / "model.json").read_text())
    manifest["format_version"] = 99
    (path / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="upgrade"):
        load_folder(path)


# ---- issue 13: semantic checks, atomic saves, the write lock --------------------------------------------


def _edit_manifest(path, edit=None, text=None):
    mpath = path / "model.json"
    manifest = json.loads(mpath.read_text())
    if edit is not None:
        edit(manifest)
    body = json.dumps(manifest)
    mpath.write_text(text(body) if text is not None else body)


@pytest.mark.parametrize("version", [0, -5, True, 1.0, "1"])
def test_invalid_format_versions_are_refused(tmp_path, version):
    path = _save(tmp_path)
    _edit_manifest(path, lambda m: m.update(format_version=version))
    with pytest.raises(ModelFileError, match="invalid format version"):
        load_folder(path)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_literals_in_the_manifest_are_refused(tmp_path, literal):
    path = _save(tmp_path)
    _edit_manifest(path, text=lambda t: t.replace('"a": 1', f'"a": {literal}'))
    with pytest.raises(ModelFileError, match=f"literal {literal}"):
        load_folder(path)


def test_deeply_nested_manifest_names_the_file(tmp_path):
    path = _save(tmp_path)
    _edit_manifest(path, text=lambda t: t.replace('"a": 1', '"a": ' + "[" * 100000 + "]" * 100000))
    with pytest.raises(ModelFileError, match="nested too deeply") as info:
        load_folder(path)
    assert str(path) in str(info.value)


def test_non_finite_tensor_is_refused_even_with_matching_checksum(tmp_path):
    import hashlib

    path = save_folder(tmp_path / "m", "toy", {"a": 1}, {"w": np.array([1.0, np.nan])})
    with pytest.raises(ModelFileError, match="'w' holds NaN"):
        load_folder(path)
    torch.save({"w": torch.tensor([1.0, float("inf")])}, path / "tensors.pt")
    sha = hashlib.sha256((path / "tensors.pt").read_bytes()).hexdigest()
    _edit_manifest(path, lambda m: m.update(tensors_sha256=sha))
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        load_folder(path)


def test_save_replaces_a_model_atomically_and_leaves_no_temporary_folder(tmp_path):
    path = _save(tmp_path)
    save_folder(path, "toy", {"a": 2}, {"w": np.ones(2)})
    assert load_folder(path)[1] == {"a": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_interrupted_save_keeps_the_previous_model(tmp_path, monkeypatch):
    from pathlib import Path

    path = _save(tmp_path)
    orig = Path.write_text

    def interrupt(self, *a, **kw):
        if self.name == "model.json":
            raise KeyboardInterrupt
        return orig(self, *a, **kw)

    monkeypatch.setattr(Path, "write_text", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_folder(path, "toy", {"a": 2}, {"w": np.ones(5)})
    monkeypatch.undo()
    _, cfg, tensors = load_folder(path)
    assert cfg == {"a": 1} and tensors["w"].shape == (3,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # temporary folder and lock removed


def test_a_non_model_folder_is_never_replaced(tmp_path):
    keep = tmp_path / "photos"
    keep.mkdir()
    (keep / "a.jpg").write_bytes(b"x")
    with pytest.raises(ModelFileError, match="not a model folder; refusing"):
        save_folder(keep, "toy", {}, {"w": np.ones(1)})
    assert (keep / "a.jpg").read_bytes() == b"x"


def test_second_writer_fails_at_once_and_a_stale_lock_is_taken_over(tmp_path):
    import os
    import threading

    from heavytail_diffusion.persistence import folder_lock

    target = tmp_path / "m"
    errors = []
    with folder_lock(target):
        assert (tmp_path / ".m.lock").read_text().split()[0] == str(os.getpid())
        with folder_lock(target):  # re-entrant in the same thread
            pass

        def other():
            try:
                save_folder(target, "toy", {}, {"w": np.ones(1)})
            except ModelFileError as exc:
                errors.append(str(exc))

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(errors) == 1 and "being written by another process" in errors[0] and ".m.lock" in errors[0]
    assert not target.exists() and not (tmp_path / ".m.lock").exists()
    import socket

    (tmp_path / ".m.lock").write_text(f"999999999 {socket.gethostname()}\n")  # no such process: stale
    save_folder(target, "toy", {"a": 1}, {"w": np.ones(1)})
    assert load_folder(target)[1] == {"a": 1} and not (tmp_path / ".m.lock").exists()
