"""A development stand-in for TF Serving's REST API, for checking a pushed model on this machine.

The TF Serving binary cannot be installed here (no PyPI or Debian package), so this small server
loads a version folder the way the server does (``tf.saved_model.load``, the ``serving_default``
signature) and answers the same JSON on the same URLs:

- ``POST /v1/models/NAME:predict`` (or ``/v1/models/NAME/versions/N:predict``) with the row form
  ``{"instances": [...]}`` answers ``{"predictions": [...]}``; the columnar form ``{"inputs": ...}``
  answers ``{"outputs": ...}``. One Input takes its value as the instance; several take an object
  keyed by Input name. One output answers its value per row; several an object keyed by name.
- ``GET /v1/models/NAME`` answers the version status.
- Errors answer ``{"error": "..."}`` with status 400 (bad request) or 404 (unknown model/version).

Run it: ``python -m layerloom.exporters.serving_rest DIR/<model> [--port 8501]`` (it serves the
highest version, as TF Serving's default version policy does). Not for production: one thread
per request, no batching, no TLS.
"""

from __future__ import annotations

import argparse
import json
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

SIGNATURE = "serving_default"
_PREDICT = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?:predict$")
_STATUS = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?$")


class RestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def versions(base: Path) -> list[int]:
    """The integer version folders under ``base`` that hold a SavedModel, ascending."""
    if not base.is_dir():
        return []
    return sorted(
        int(p.name)
        for p in base.iterdir()
        if p.is_dir() and p.name.isdigit() and (p / "saved_model.pb").is_file()
    )


class ServedModel:
    """One model's version folder loaded as TF Serving loads it."""

    def __init__(self, base: Path, name: str | None = None, version: int | None = None) -> None:
        import tensorflow as tf

        self.base = Path(base)
        self.name = name or self.base.name
        found = versions(self.base)
        if not found:
            raise RestError(404, f"{self.base} holds no version folder with a SavedModel")
        self.version = version if version is not None else found[-1]
        self.loaded = tf.saved_model.load(str(self.base / str(self.version)))
        self.signature = self.loaded.signatures[SIGNATURE]
        _, specs = self.signature.structured_input_signature
        self.inputs = {name: spec for name, spec in specs.items()}
        self.outputs = list(self.signature.structured_outputs)

    def _feed(self, columns: dict[str, Any]) -> dict[str, Any]:
        import tensorflow as tf

        feed = {}
        for name, spec in self.inputs.items():
            if name not in columns:
                raise RestError(400, f"the request gives no value for the input {name!r}")
            try:
                array = np.asarray(columns[name], dtype=spec.dtype.as_numpy_dtype)
            except (TypeError, ValueError) as error:
                raise RestError(400, f"input {name!r}: {error}") from None
            if not spec.shape.is_compatible_with(array.shape):
                raise RestError(
                    400, f"input {name!r} has shape {list(array.shape)}, expected {spec.shape}"
                )
            feed[name] = tf.constant(array)
        return feed

    def _run(self, columns: dict[str, Any]) -> dict[str, np.ndarray]:
        result = self.signature(**self._feed(columns))
        return {name: np.asarray(result[name]) for name in self.outputs}

    def predict(self, body: Any) -> dict[str, Any]:
        """TF Serving's ``:predict`` answer to a request body (already parsed JSON)."""
        if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
            raise RestError(400, 'the request must hold exactly one of "instances" or "inputs"')
        names = list(self.inputs)
        if "instances" in body:
            rows = body["instances"]
            if not isinstance(rows, list) or not rows:
                raise RestError(400, '"instances" must be a non-empty list')
            if len(names) == 1 and not all(isinstance(r, dict) for r in rows):
                columns = {names[0]: rows}
            else:
                if not all(isinstance(r, dict) for r in rows):
                    raise RestError(400, "with several inputs each instance is an object")
                columns = {n: [r.get(n) for r in rows] for n in names}
            out = self._run(columns)
            answers = [
                {n: out[n][i].tolist() for n in self.outputs}
                if len(self.outputs) > 1
                else out[self.outputs[0]][i].tolist()
                for i in range(len(rows))
            ]
            return {"predictions": answers}
        given = body["inputs"]
        columns = given if isinstance(given, dict) else {names[0]: given}
        out = self._run(columns)
        if len(self.outputs) == 1:
            return {"outputs": out[self.outputs[0]].tolist()}
        return {"outputs": {n: v.tolist() for n, v in out.items()}}

    def status(self) -> dict[str, Any]:
        return {
            "model_version_status": [
                {
                    "version": str(self.version),
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }  # fmt: skip
            ]
        }


def make_server(model: ServedModel, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server answering TF Serving's REST calls for ``model`` (port 0: any free port)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _model(self, match: re.Match[str] | None) -> ServedModel:
            if match is None or match.group(1) != model.name:
                raise RestError(404, f"no model at {self.path}; this server has {model.name!r}")
            if match.group(2) is not None and int(match.group(2)) != model.version:
                raise RestError(404, f"{model.name} version {match.group(2)} is not loaded")
            return model

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            try:
                served = self._model(_PREDICT.match(self.path))
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError as error:
                    raise RestError(400, f"the body is not JSON: {error}") from None
                self._answer(200, served.predict(body))
            except RestError as error:
                self._answer(error.status, {"error": str(error)})

        def do_GET(self) -> None:  # noqa: N802
            try:
                self._answer(200, self._model(_STATUS.match(self.path)).status())
            except RestError as error:
                self._answer(error.status, {"error": str(error)})

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: a test or a terminal does not want a line per request

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="DIR/<model>: the folder of version folders")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    server = make_server(ServedModel(args.model_dir), args.host, args.port)
    print(f"serving {args.model_dir.name} on http://{args.host}:{server.server_port}/v1/models/"
          f"{args.model_dir.name}:predict", flush=True)  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
