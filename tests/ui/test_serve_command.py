"""`uncac-qa serve`: its options, and a missing index reported as one line naming `uncac-qa ingest`."""

from __future__ import annotations

from rag.cli import build_parser, main


def test_serve_options_default_to_the_ui_settings():
    args = build_parser().parse_args(["serve"])
    assert args.host is None and args.port is None  # then settings.ui.host / settings.ui.port
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert (args.host, args.port) == ("0.0.0.0", 8000)


def test_missing_index_names_the_ingest_command(tmp_path, capsys):
    assert main(["--set", f"index.dir={tmp_path / 'no-index'}", "serve"]) == 2
    err = capsys.readouterr().err
    assert "uncac-qa ingest" in err and "Traceback" not in err
