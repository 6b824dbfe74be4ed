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
