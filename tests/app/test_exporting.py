"""Export bookkeeping that needs no converter: a served version that failed parity is withdrawn."""

from __future__ import annotations

from pathlib import Path

from layerloom.exporters.registry import default_exporters


def test_a_failed_served_version_is_hidden_from_a_watching_server(tmp_path) -> None:
    version = tmp_path / "iris" / "3"
    (version / "variables").mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"pb")
    readme = tmp_path / "README.md"
    readme.write_text("how to serve")
    files = [str(version / "saved_model.pb"), str(readme)]
    serving = default_exporters()["serving"]
    files, details = serving.on_parity_failure(files, {"version_dir": str(version)})
    hidden = tmp_path / "iris" / ".3.failed-parity"
    assert not version.exists() and (hidden / "saved_model.pb").read_bytes() == b"pb"
    assert files == [str(hidden / "saved_model.pb"), str(readme)]
    assert all(Path(f).exists() for f in files)
    assert details["version_dir"] == str(hidden)


def test_other_targets_keep_the_files_of_a_failed_check(tmp_path) -> None:
    files = [str(tmp_path / "model.onnx")]
    onnx = default_exporters()["onnx"]
    assert onnx.on_parity_failure(files, {"x": 1}) == (files, {"x": 1})
