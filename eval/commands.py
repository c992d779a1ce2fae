"""``uncac-qa eval``: run the known Q&A set through the engine, print the metrics, write a report.

Examples::

    uncac-qa eval                                        # report in eval/reports/latest
    uncac-qa eval --out eval/reports/current --check-thresholds   # exit 1 below a threshold
    uncac-qa eval --compare-set retrieval.route=dense    # the configuration vs dense-only, side by side
    uncac-qa eval --compare other.yaml                   # vs another config file
    uncac-qa eval --write-thresholds                     # refresh eval/thresholds.json from this run

The dataset is checked against the corpus first (every gold paragraph exists, every key fact occurs in
a gold paragraph); problems stop the run with the list. ``--compare`` loads a second engine (another
~10 s); its settings are ``--compare FILE`` (default: the main config file, with the global ``--set``
overrides) plus the ``--compare-set`` overrides.

Registered with :func:`rag.cli.command` when this module is imported, which the shell does through the
entry-point group ``uncac_qa.commands`` (pyproject.toml: ``eval = "eval.commands"``): ``rag`` never
imports ``eval``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli import command
from rag.config import ROOT, Settings, load_settings, parse_override
from rag.errors import ConfigError, CorpusError

DEFAULT_OUT = Path("eval/reports/latest")


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default=None, metavar="FILE", help="JSONL dataset (default: eval.dataset)")
    p.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR", help=f"report directory (default: {DEFAULT_OUT})")
    p.add_argument("--compare", default=None, metavar="CONFIG2", help="also run this config file, side by side")
    p.add_argument("--compare-set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field of the second configuration (repeatable), e.g. retrieval.route=dense")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions (quick look)")
    p.add_argument("--check-thresholds", action="store_true",
                   help="exit 1 when a metric is below its threshold in eval.thresholds")
    p.add_argument("--write-thresholds", action="store_true",
                   help="write this run's metrics, floored to 2 decimals, as the new thresholds (whole dataset only)")


def _label(config: str | None, overrides: list[str]) -> str:
    name = Path(config).name if config else "config.yaml"
    return " + ".join([name, *overrides])


def _progress(label: str):
    def report(done: int, total: int) -> None:
        tty = sys.stderr.isatty()
        print(f"{chr(13) if tty else ''}{label}: {done}/{total} questions", end="\n" if done == total or not tty else "",
              file=sys.stderr, flush=True)

    return report


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


@command("eval", "evaluate retrieval, answers, citations and refusals on the known Q&A set; write a report")(_args)
def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval.dataset import check_dataset, load_dataset
    from eval.gate import check_thresholds, load_thresholds, write_thresholds
    from eval.report import format_table, write_report
    from eval.runner import run_eval
    from rag.corpus.loader import load_corpus
    from rag.engine import shared_engine

    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}")
    if args.write_thresholds and (args.limit is not None or args.dataset is not None):
        raise ConfigError("--write-thresholds needs the whole default dataset: drop --limit and --dataset")
    dataset = Path(args.dataset) if args.dataset else settings.path(settings.eval.dataset)
    items = load_dataset(dataset)
    problems = check_dataset(items, load_corpus(settings).paragraphs)
    if problems:
        listing = "\n  ".join(problems)
        raise CorpusError(f"the dataset {_display(dataset)} does not match the corpus ({len(problems)} problems):\n  {listing}")
    if args.limit is not None:
        items = items[: args.limit]

    settings2 = None
    if args.compare or args.compare_set:
        overrides = dict(parse_override(s) for s in args.compare_set)
        if args.compare:
            settings2 = load_settings(args.compare, overrides)
        else:  # the main configuration, --set included, then --compare-set on top
            base = dict(parse_override(s) for s in getattr(args, "set", []) or [])
            settings2 = load_settings(getattr(args, "config", None), base | overrides)

    main_label = _label(getattr(args, "config", None), list(getattr(args, "set", []) or []))
    runs = [run_eval(shared_engine(settings), items, label=main_label, progress=_progress(main_label))]
    if settings2 is not None:
        label2 = _label(args.compare or getattr(args, "config", None), args.compare_set)
        if label2 == main_label:
            label2 += " (compare)"
        runs.append(run_eval(shared_engine(settings2), items, label=label2, progress=_progress(label2)))

    print(format_table(runs))
    out = Path(args.out)
    out = out if out.is_absolute() else Path.cwd() / out
    write_report(runs, out, dataset=_display(dataset))
    print(f"\nreport: {_display(out / 'report.md')} (also report.html, results.jsonl, PNGs)")

    status = 0
    thresholds_path = settings.path(settings.eval.thresholds)
    if args.write_thresholds:
        data = write_thresholds(thresholds_path, runs[0].summary)
        print(f"thresholds written to {_display(thresholds_path)}: "
              + ", ".join(f"{k}={v}" for k, v in data["overall"].items()))
    if args.check_thresholds:
        failures = check_thresholds(runs[0].summary, load_thresholds(thresholds_path))
        if failures:
            print(f"\nREGRESSION: {len(failures)} metrics below {_display(thresholds_path)}:", file=sys.stderr)
            for f in failures:
                print(f"  {f}", file=sys.stderr)
            status = 1
        else:
            print(f"all metrics at or above {_display(thresholds_path)}")
    return status
