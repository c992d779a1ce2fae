"""Evaluation: the known Q&A sets and their checks (``dataset``), the metrics (``metrics``), one item's
score (``scoring``), the run through the engine (``runner``), its failures read out (``review``), the
regression gate (``gate``), the report directory (``report/``), the ``uncac-qa eval`` command
(``commands``), and the speed and load benchmarks (``bench``, ``bench_load``, ``load``, ``probe``).

Layering: eval sits on rag (and embeddings) and nothing below imports it; the shell finds the
``eval`` subcommand through the entry-point group ``uncac_qa.commands``.
"""
