"""Saving and loading parameters as JSON, by name."""

import json

import pytest

from nn import MLP, Neuron, Perceptron, load, save


def test_round_trip_restores_every_parameter(tmp_path):
    path = tmp_path / "model.json"
    a, b = MLP(2, [4, 3, 1], seed=0), MLP(2, [4, 3, 1], seed=1)
    save(a, path)
    assert load(b, path) is b
    assert b.state_dict() == a.state_dict()
    assert b([0.3, -0.7])[0].data == a([0.3, -0.7])[0].data
    doc = json.loads(path.read_text())
    assert doc["model"] == "MLP(2, [4, 3, 1], activation='relu')"
    assert "layer2.neuron3.w4" in doc["parameters"]


def test_loading_into_another_shape_is_a_clear_error(tmp_path):
    path = tmp_path / "model.json"
    save(MLP(2, [16, 16, 1], seed=0), path)
    small = MLP(2, [8, 1], seed=0)
    before = small.state_dict()
    with pytest.raises(ValueError, match=r"holds the parameters of MLP\(2, \[16, 16, 1\].*\(337 parameters\), "
                                         r"which do not fit MLP\(2, \[8, 1\].*\(33 parameters\)"):
        load(small, path)
    assert small.state_dict() == before
    with pytest.raises(ValueError, match=r"do not fit Perceptron\(2\)"):
        load(Perceptron(2), path)


def test_bad_files(tmp_path):
    n = Neuron(2, seed=0)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not JSON"):
        load(n, bad)
    bad.write_text(json.dumps({"w1": 1.0}))
    with pytest.raises(ValueError, match="is not a gradflow parameter file"):
        load(n, bad)
    path = tmp_path / "n.json"
    save(n, path)
    doc = json.loads(path.read_text())
    doc["parameters"]["w2"] = None
    path.write_text(json.dumps(doc))
    before = n.state_dict()
    with pytest.raises(ValueError, match="parameter 'w2' must be a finite number, got None"):
        load(n, path)
    assert n.state_dict() == before  # nothing half-loaded
    with pytest.raises(TypeError, match="save needs a Module"):
        save([1.0], tmp_path / "x.json")


def test_saving_a_diverged_model_is_a_clear_error_and_writes_nothing(tmp_path):
    n = Neuron(2, seed=0)
    n.w[1].data = float("nan")
    path = tmp_path / "n.json"
    with pytest.raises(ValueError, match=r"cannot save Neuron\(2.*parameter 'w2' is nan \(1 not finite in all\)"):
        save(n, path)
    assert not path.exists()


# --- hardening: atomic saves, every malformed file a ValueError ------------------------

SAVE_UNDER_A_FILE_SIZE_LIMIT = r"""
import resource, signal, sys
from nn import MLP, save
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))  # a nearly full disk, for real
try:
    save(MLP(2, [64, 64, 1], seed=1), sys.argv[1])
except OSError as e:
    print(type(e).__name__, e.errno)
else:
    print("saved")
"""


def test_a_failed_write_leaves_the_previous_file_intact_and_no_temporary_file(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "model.json"
    good = MLP(2, [16, 16, 1], seed=0)
    save(good, path)
    before = path.read_bytes()
    assert len(before) > 8192  # the new file would not fit either
    done = subprocess.run([sys.executable, "-c", SAVE_UNDER_A_FILE_SIZE_LIMIT, str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.split()[0] == "OSError", done.stdout + done.stderr
    assert path.read_bytes() == before  # the old checkpoint still loads
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    assert load(MLP(2, [16, 16, 1], seed=5), path).state_dict() == good.state_dict()


def test_a_save_that_fails_before_the_rename_removes_its_temporary_file(tmp_path, monkeypatch):
    import nn.io

    path = tmp_path / "model.json"
    save(Neuron(2, seed=0), path)
    before = path.read_bytes()

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(nn.io.os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        save(Neuron(2, seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_save_replaces_and_keeps_the_file_readable_by_others(tmp_path):
    import os
    import stat

    path = tmp_path / "model.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    save(Neuron(2, seed=0), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # not the 0600 of a temporary file
    assert json.loads(path.read_text())["format"] == "gradflow-parameters"
    fresh = tmp_path / "fresh.json"
    save(Neuron(2, seed=0), str(fresh))
    assert stat.S_IMODE(os.stat(fresh).st_mode) & 0o044 == 0o044 & ~_umask()


def _umask():
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def _good_doc(model):
    return {"format": "gradflow-parameters", "version": 1, "model": repr(model), "parameters": model.state_dict()}


def _with(doc, **changes):
    doc = json.loads(json.dumps(doc))
    for key, value in changes.items():
        if key.startswith("p_"):
            doc["parameters"][key[2:]] = value
        else:
            doc[key] = value
    return doc


GOOD = _good_doc(Neuron(2, seed=0))


def _raw(name, text):
    # The good file with one parameter's value written as raw text.
    return json.dumps(_with(GOOD, **{"p_" + name: "@"})).replace('"@"', text).encode()


MALFORMED = {
    # name: (file bytes, what the message says)
    "binary": (bytes(range(256)) * 4, "is not JSON"),
    "latin-1": ('{"format": "gradflow-paramètres"}'.encode("latin-1"), "is not JSON"),
    "utf-16": (json.dumps(GOOD).encode("utf-16"), "is not JSON"),
    "empty": (b"", "is not JSON"),
    "truncated": (json.dumps(GOOD).encode()[:40], "is not JSON"),
    "nested 100,000 deep": (b"[" * 100_000, "is not JSON"),
    "nested 100,000 deep inside": (_raw("b", "[" * 100_000), "is not JSON"),
    "a 400-digit integer": (b"1" * 400, "is not a gradflow parameter file"),
    "a 5,000-digit integer": (b"1" * 5000, "is not JSON"),
    "a 400-digit parameter": (_raw("w1", "9" * 400), "'w1' must be a finite number"),
    "a list": (b"[1, 2, 3]", "is not a gradflow parameter file"),
    "a string": (b'"gradflow-parameters"', "is not a gradflow parameter file"),
    "null": (b"null", "is not a gradflow parameter file"),
    "no format": (json.dumps({"parameters": GOOD["parameters"]}).encode(), "is not a gradflow parameter file"),
    "parameters a list": (json.dumps(_with(GOOD, parameters=[1.0, 2.0, 3.0])).encode(), "is not a gradflow parameter file"),
    "version 2": (json.dumps(_with(GOOD, version=2)).encode(), "format version 2"),
    "version huge": (json.dumps(_with(GOOD, version=[0] * 100_000)).encode(), "format version"),
    "another shape": (json.dumps(_good_doc(Neuron(3, seed=0))).encode(), "which do not fit Neuron(2"),
    "another shape, huge description": (json.dumps(_with(_good_doc(Neuron(3, seed=0)), model="M" * 100_000)).encode(),
                                        "which do not fit Neuron(2"),
    "a name missing": (json.dumps(_with(GOOD, parameters={"w1": 1.0, "w2": 2.0})).encode(), "which do not fit"),
    "NaN": (json.dumps(_with(GOOD, p_w1=float("nan"))).encode(), "'w1' must be a finite number, got nan"),
    "Infinity": (json.dumps(_with(GOOD, p_b=float("inf"))).encode(), "'b' must be a finite number, got inf"),
    "1e999": (_raw("b", "1e999"), "'b' must be a finite number"),
    "a string value": (json.dumps(_with(GOOD, p_w2="0.5")).encode(), "'w2' must be a finite number, got '0.5'"),
    "a bool value": (json.dumps(_with(GOOD, p_w2=True)).encode(), "'w2' must be a finite number, got True"),
    "a list value": (json.dumps(_with(GOOD, p_w2=[1.0])).encode(), "'w2' must be a finite number, got [1.0]"),
    "a long list value": (json.dumps(_with(GOOD, p_w2=[1.0] * 100_000)).encode(), "'w2' must be a finite number"),
    "a dict value": (json.dumps(_with(GOOD, p_w2={"data": 1.0})).encode(), "'w2' must be a finite number"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_every_malformed_file_is_a_short_value_error_and_the_model_is_untouched(tmp_path, name):
    content, message = MALFORMED[name]
    path = tmp_path / "model.json"
    path.write_bytes(content)
    model = Neuron(2, seed=7)
    before = model.state_dict()
    with pytest.raises(ValueError) as error:
        load(model, path)
    assert message in str(error.value)
    assert len(str(error.value)) < 500 and "\n" not in str(error.value)  # never a huge printout
    assert model.state_dict() == before


def test_a_file_far_larger_than_the_model_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(2 ** 40)  # a sparse terabyte: reading it would never end
    model = Neuron(2, seed=0)

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(json, "loads", no_reading)
    with pytest.raises(ValueError, match=r"huge.json is 1099511627776 bytes; a parameter file of Neuron\(2.* is at most"):
        load(model, path)


def test_a_device_a_pipe_or_a_folder_is_refused_without_waiting_or_reading(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe")  # opening it to read would wait for a writer
    model = Neuron(2, seed=0)
    for path in ("/dev/zero", tmp_path / "pipe", tmp_path):  # /dev/zero: size 0, endless content
        with pytest.raises(ValueError, match=f"{path} is not a regular file; expected a file written by nn.save"):
            load(model, path)


def test_a_file_growing_past_the_limit_while_read_is_cut_at_the_limit(tmp_path, monkeypatch):
    import nn.io

    path = tmp_path / "model.json"
    save(Neuron(2, seed=0), path)
    monkeypatch.setattr(nn.io, "BYTES_EXTRA", 10)  # the file is larger than the limit, but says it is empty
    monkeypatch.setattr(nn.io, "BYTES_PER_PARAMETER", 0)
    monkeypatch.setattr(nn.io.os, "fstat", lambda fd, real=nn.io.os.fstat: _size_zero(real(fd)))
    with pytest.raises(ValueError, match=r"is larger than a parameter file of Neuron\(2.* can be \(10 bytes\)"):
        load(Neuron(2, seed=0), path)


def _size_zero(info):
    import os

    fields = list(info)
    fields[6] = 0  # st_size
    return os.stat_result(fields)


def test_a_big_model_still_round_trips(tmp_path):
    path = tmp_path / "big.json"
    a, b = MLP(2, [64, 64, 64, 1], seed=0), MLP(2, [64, 64, 64, 1], seed=1)
    save(a, path)
    assert load(b, path).state_dict() == a.state_dict()


def test_saving_into_a_missing_folder_names_the_file_asked_for(tmp_path):
    target = tmp_path / "no such folder" / "model.json"
    with pytest.raises(FileNotFoundError) as error:
        save(Neuron(2, seed=0), target)
    assert error.value.filename == str(target)
