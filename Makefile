# Two commands do all set-up on a fresh machine:
#   make run    venv + install + model conversion + index (if missing) + serve on 127.0.0.1:7860
#   make test   venv + install (incl. chromium for the browser test) + the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install index bench bench-scale bench-e2e bench-e2e-encode eval chromium poppler clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch==2.13.0 resolves to the local CPU wheel (pip's find-links); pinned so no CUDA build is pulled
	$(BIN)/pip install --disable-pip-version-check -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	$(BIN)/uncac-qa ingest --if-missing

run: index poppler
	$(BIN)/uncac-qa serve

# Debian's chromium for the Playwright browser test (never `playwright install`: it downloads), and a
# small CJK font so the test's screenshots show Chinese instead of boxes.
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list 2>/dev/null | grep -qi wqy || { \
	  echo "installing chromium, chromium-driver, fonts-wqy-microhei (Debian packages) for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null; }

# poppler's pdftotext (Debian poppler-utils): one of the PDF readers compared for delegates' PDFs.
poppler:
	@command -v pdftotext >/dev/null || { \
	  echo "installing poppler-utils (Debian package) for reading PDFs"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils >/dev/null; }

test: $(STAMP) chromium poppler
	$(BIN)/python -m pytest -q

bench: index
	$(BIN)/python -m eval.bench

# The dense index layer on 1k-1M synthetic 384-d vectors, each candidate kind: build, memory, load,
# latency, recall vs exact (not part of `make test`; ~30 min on 2 cores), then the product end to end
# (bench-e2e). Reports: eval/reports/scale/.
bench-scale: $(STAMP) bench-e2e
	$(BIN)/python -m eval.bench_scale

# End to end on ~50,000 generated UN-style paragraphs (eval/synth_corpus.py, eval/configs/scale.yaml):
# ingest throughput, cold start, memory, ask p50/p95, BM25 p50, ingest --add of one document, per index
# backend, at 1k/5k/10k paragraphs and the largest encoded prefix. Encoding the corpus with the real
# model is hours on 2 cores: bench-e2e-encode fills the vector cache (resumable: run it again to go on;
# every finished document prefix is a size), bench-e2e measures what is encoded. Report: eval/reports/scale/e2e.md.
SCALE_CONFIG := eval/configs/scale.yaml
SCALE_CORPUS := data/bench-scale/corpus/manifest.yaml

$(SCALE_CORPUS): eval/synth_corpus.py
	$(BIN)/python -m eval.synth_corpus --paragraphs 50000 --out $(dir $(SCALE_CORPUS))

bench-e2e-encode: $(STAMP) $(SCALE_CORPUS)
	nice -n 10 $(BIN)/python -m eval.bench_e2e encode --config $(SCALE_CONFIG) --workers 2

bench-e2e: $(STAMP) $(SCALE_CORPUS)
	nice -n 5 $(BIN)/python -m eval.bench_e2e run --config $(SCALE_CONFIG)

# The three evaluation sets, each beside the peer pipeline (eval/configs/peer.yaml, its own index):
# dev (tuned on), held-out and test (never tuned on). Reports land in eval/reports/{current,heldout,test}.
eval: index
	$(BIN)/uncac-qa --config eval/configs/peer.yaml ingest --if-missing
	$(BIN)/uncac-qa eval --dataset eval/data/qa.jsonl --out eval/reports/current --compare eval/configs/peer.yaml
	$(BIN)/uncac-qa eval --dataset eval/data/heldout.jsonl --out eval/reports/heldout --compare eval/configs/peer.yaml
	$(BIN)/uncac-qa eval --dataset eval/data/test.jsonl --out eval/reports/test --compare eval/configs/peer.yaml

# The README's screenshots (docs/screenshots/): the real app in Chromium at 1280x800 and 390x844.
screenshots: index chromium
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf data .pytest_cache
