"""Export bookkeeping that needs no converter: a served version that failed parity is withdrawn."""

from __future__ import annotations

from pathlib import Path

from layerloom.app.workbench.exporting import ExportOutcome, withdraw_version


def test_a_failed_served_version_is_hidden_from_a_watching_server(tmp_path) -> None:
    version = tmp_path / "iris" / "3"
    (version / "variables").mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"pb")
    readme = tmp_path / "README.md"
    readme.write_text("how to serve")
    outcome = ExportOutcome(
        id=None,
        target="serving",
        run_id=1,
        status="failed",
        out_dir=str(tmp_path),
        files=[str(version / "saved_model.pb"), str(readme)],
        details={"version_dir": str(version)},
    )
    withdraw_version(outcome)
    hidden = tmp_path / "iris" / ".3.failed-parity"
    assert not version.exists() and (hidden / "saved_model.pb").read_bytes() == b"pb"
    assert outcome.files == [str(hidden / "saved_model.pb"), str(readme)]
    assert all(Path(f).exists() for f in outcome.files)
    assert outcome.details["version_dir"] == str(hidden)
