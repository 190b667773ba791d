"""Atomic writes (snnp_calc._files): a failed write leaves the old file; new files get the umask."""
import os
import stat

import pytest

from snnp_calc import _files, read_model, write_model
from snnp_calc.io import json_model
from snnp_calc.model.initial import initial_model


def test_write_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "Mo.json"
    old = initial_model(["Mo", "Ni"], 5.0, n_rho=2, n_triplet=2, hidden=(3,), seed=3)
    write_model(old, path)
    before = path.read_bytes()
    other = initial_model(["Mo"], 4.0, n_rho=1, n_triplet=1, readout="spline", seed=4)

    def broken(model):
        raise ValueError("cannot serialise")

    monkeypatch.setattr(json_model, "dumps", broken)
    with pytest.raises(ValueError, match="cannot serialise"):
        write_model(other, path)
    assert path.read_bytes() == before
    monkeypatch.undo()

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(_files.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_model(other, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Mo.json"]
    assert read_model(path).equals(old)


def test_written_files_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_model(initial_model(["Mo"], 4.0, n_rho=1, n_triplet=1, hidden=()),
                    tmp_path / "m.json")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644


def test_umask_of_the_process_is_untouched(tmp_path, monkeypatch):
    calls = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
    _files.atomic_write_text(tmp_path / "a.txt", "x")
    assert calls == [] and (tmp_path / "a.txt").read_text() == "x"


def test_folder_is_flushed_after_the_rename(tmp_path, monkeypatch):
    flushed = []
    real = os.fsync

    def fsync(fd):
        flushed.append(os.path.isdir(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(_files.os, "fsync", fsync)
    _files.atomic_write_text(tmp_path / "b.txt", "y")
    assert flushed == [False, True]    # the file, then its folder
