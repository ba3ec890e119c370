"""The headless command line: every command works on a saved project file.

Only argparse and the domain are imported up front; TensorFlow is imported by the commands that
compile or train (so ``layerloom --help`` stays fast). User errors print one line and exit
non-zero; a traceback is shown only with ``--debug`` and is always written to the log file.
Commands live in one module per family; this module assembles them and handles errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from layerloom.app.cli.common import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_USER_ERROR,
    Command,
    log_path,
)
from layerloom.app.cli.data_commands import cmd_data, data_args
from layerloom.app.cli.demo_commands import cmd_demo, demo_args
from layerloom.app.cli.desktop_commands import cmd_desktop, desktop_args
from layerloom.app.cli.edit_commands import cmd_edit, cmd_settings, edit_args, settings_args
from layerloom.app.cli.export_commands import (
    cmd_export,
    cmd_exporters,
    cmd_exports,
    export_args,
    exporters_args,
    exports_args,
)
from layerloom.app.cli.health_commands import cmd_health, health_args
from layerloom.app.cli.image_commands import cmd_graph_image, graph_image_args
from layerloom.app.cli.import_commands import cmd_import, import_args
from layerloom.app.cli.inspect_commands import cmd_explain, cmd_inspect, explain_args, inspect_args
from layerloom.app.cli.pipeline_commands import cmd_pipeline, pipeline_args
from layerloom.app.cli.predict_commands import cmd_predict, predict_args
from layerloom.app.cli.project_commands import (
    cmd_gui,
    cmd_info,
    cmd_layers,
    cmd_new,
    cmd_summary,
    cmd_templates,
    cmd_validate,
    gui_args,
    info_args,
    layers_args,
    new_args,
    summary_args,
    templates_args,
    validate_args,
)
from layerloom.app.cli.remote_commands import cmd_remote, remote_args
from layerloom.app.cli.stats_commands import (
    check_data_args,
    cmd_check_data,
    cmd_schema,
    cmd_stats,
    schema_args,
    stats_args,
)
from layerloom.app.cli.tensorboard_commands import cmd_tensorboard, tensorboard_args
from layerloom.app.cli.training_commands import (
    attach_args,
    cmd_attach,
    cmd_evaluate,
    cmd_runs,
    cmd_stop,
    cmd_train,
    cmd_worker,
    evaluate_args,
    runs_args,
    stop_args,
    train_args,
    worker_args,
)
from layerloom.nodes.errors import LayerloomError, UsageError

COMMANDS: dict[str, Command] = {
    "gui": Command("open the desktop editor (optionally with a project)", gui_args, cmd_gui),
    "demo": Command(
        "a sample project trained, evaluated and exported to every target, in a few minutes",
        demo_args,
        cmd_demo,
    ),
    "new": Command("create a project file (empty, or from a starter template)", new_args, cmd_new),
    "import": Command(
        "a Keras model (.keras, .h5 or keras.applications.NAME) as a new project, with its weights",
        import_args,
        cmd_import,
    ),
    "info": Command(
        "list nodes, edges, shapes, parameter counts and problems", info_args, cmd_info
    ),
    "validate": Command(
        "check the graph; exit 1 and list every problem when it is invalid",
        validate_args,
        cmd_validate,
    ),
    "summary": Command(
        "compile with Keras and print Keras' own model summary", summary_args, cmd_summary
    ),
    "templates": Command(
        "list the starter templates: name, then description", templates_args, cmd_templates
    ),
    "layers": Command("list the registered node types by category", layers_args, cmd_layers),
    "graph-image": Command(
        "draw the graph as a PNG or SVG picture, as the editor shows it",
        graph_image_args,
        cmd_graph_image,
    ),
    "edit": Command(
        "edit the graph: add, remove, connect, disconnect, rename, set parameters",
        edit_args,
        cmd_edit,
    ),
    "settings": Command(
        "show or change the training settings (and the dataset's validation/test split)",
        settings_args,
        cmd_settings,
    ),
    "data": Command(
        "set or show the dataset: CSV, image folder, .npz or a sample", data_args, cmd_data
    ),
    "stats": Command(
        "statistics of the dataset (or a file/folder): per feature, class balance; TFMD protos",
        stats_args,
        cmd_stats,
    ),
    "schema": Command(
        "show, infer or edit the data schema new data is checked against", schema_args, cmd_schema
    ),
    "check-data": Command(
        "anomalies of a CSV against the schema and training statistics; exit 1 on any",
        check_data_args,
        cmd_check_data,
    ),
    "train": Command("train the model in a worker; Ctrl-C stops cleanly", train_args, cmd_train),
    "runs": Command("list the project's runs with their status and metrics", runs_args, cmd_runs),
    "health": Command(
        "a run's training health per node: figures, findings, where it diverged",
        health_args,
        cmd_health,
    ),
    "attach": Command(
        "follow a running run again (remote or local), recording what it missed",
        attach_args,
        cmd_attach,
    ),
    "stop": Command("stop a running run resumably, wherever it runs", stop_args, cmd_stop),
    "remote": Command(
        "the remote hosts to train on: add, list, check, setup, remove", remote_args, cmd_remote
    ),
    "evaluate": Command(
        "accuracy, confusion matrix or regression errors of a run's best checkpoint",
        evaluate_args,
        cmd_evaluate,
    ),
    "predict": Command(
        "predict new images, CSV rows or arrays with a trained run", predict_args, cmd_predict
    ),
    "inspect": Command(
        "every node's output on a sample: shape and statistics, feature maps as PNG",
        inspect_args,
        cmd_inspect,
    ),
    "explain": Command(
        "why a run predicted that: Grad-CAM for images, integrated gradients for tables",
        explain_args,
        cmd_explain,
    ),
    "export": Command(
        "export a trained run to tflite, tfjs, serving, onnx, keras or python, with a parity check",
        export_args,
        cmd_export,
    ),
    "exports": Command("list the project's exports and their parity", exports_args, cmd_exports),
    "tensorboard": Command(
        "write TensorBoard logs of the runs: scalars per epoch and the model's graph",
        tensorboard_args,
        cmd_tensorboard,
    ),
    "pipeline": Command(
        "check new data, train, evaluate, gate and push a better model for TF Serving",
        pipeline_args,
        cmd_pipeline,
    ),
    "exporters": Command(
        "list the export targets and their options", exporters_args, cmd_exporters
    ),
    "desktop-integration": Command(
        "add (or remove) the menu entry, icon and .loom file type on a Linux desktop",
        desktop_args,
        cmd_desktop,
    ),
    "worker": Command(
        "(internal) run one job file for a training backend", worker_args, cmd_worker
    ),
}


# --- entry point ---------------------------------------------------------------------------------


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with ``only`` the one command's flags (every command is listed).

    Some commands' flags come from registries (data sources, export targets) whose modules cost a
    few hundred milliseconds to import; a run configures only the command it runs, so ``--help``
    and every command's first line do not pay for the others.
    """
    parser = argparse.ArgumentParser(
        prog="layerloom",
        description="Build neural networks as node graphs, train them and deploy them.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        command_parser = sub.add_parser(name, help=cmd.help, description=cmd.help)
        if only is None or name == only:
            cmd.configure(command_parser)
    return parser


def _command_in(argv: list[str]) -> str:
    """The command ``argv`` names: its first argument that is not an option (the top-level
    options take no values), as argparse will read it; "" when there is none."""
    return next((arg for arg in argv if not arg.startswith("-")), "")


def _log_exception() -> Path | None:
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    logger = logging.getLogger("layerloom")
    logger.addHandler(handler)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.exception("command failed: %s", " ".join(sys.argv))
    handler.close()
    logger.removeHandler(handler)
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_command_in(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return COMMANDS[args.command].run(args)
    except LayerloomError as error:
        _log_exception()
        if args.debug:
            raise
        print(f"layerloom: error: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, UsageError) else EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("layerloom: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`layerloom layers | head`); that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:
        where = _log_exception()
        if args.debug:
            raise
        print(f"layerloom: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"  details were written to {where}; rerun with --debug to see them", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
