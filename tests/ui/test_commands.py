"""The web app's subcommands (ui/commands.py): `uncac-qa serve` (its options, a missing index or a bad
port reported as one line) and `uncac-qa feedback export`."""

from __future__ import annotations

import json

from rag.cli import build_parser, main
from tests.ui.test_feedback import ANSWER, REFUSED
from ui.feedback import FeedbackStore


def test_serve_options_default_to_the_ui_settings():
    args = build_parser().parse_args(["serve"])
    assert args.host is None and args.port is None  # then settings.ui.host / settings.ui.port
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8000"])
    assert (args.host, args.port) == ("0.0.0.0", 8000)


def test_missing_index_names_the_ingest_command(tmp_path, capsys):
    assert main(["--set", f"index.dir={tmp_path / 'no-index'}", "serve"]) == 2
    err = capsys.readouterr().err
    assert "uncac-qa ingest" in err and "Traceback" not in err


def test_a_port_out_of_range_is_one_line(capsys):
    assert main(["serve", "--port", "70000"]) == 2  # was an OverflowError traceback from uvicorn
    err = capsys.readouterr().err
    assert "port 70000 is not allowed; allowed: 1 to 65535" in err and "Traceback" not in err


def test_a_port_in_use_is_one_line_before_serving_on(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "serving on" not in err and "loading the model" not in err and "Traceback" not in err


def test_cli_export_writes_jsonl(tmp_path, capsys):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add(ANSWER, rating=1)
    store.add(REFUSED, rating=-1, comment="它其实在文件里")
    out = tmp_path / "fb.jsonl"
    assert main(["--set", f"ui.data_dir={tmp_path}", "feedback", "export", "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["feedback-000001", "feedback-000002"]
    assert lines[1]["feedback"]["comment"] == "它其实在文件里"
    assert "wrote 2 item(s)" in capsys.readouterr().err
    assert main(["--set", f"ui.data_dir={tmp_path}", "feedback", "export"]) == 0  # to stdout
    assert len(capsys.readouterr().out.splitlines()) == 2
