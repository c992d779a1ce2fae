"""Evaluation suite: known Q&A pairs, metrics, the runner and its reports."""
