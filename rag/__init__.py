"""uncac-qa: retrieval-augmented Q&A over UNCAC Conference of the States Parties documents.

``rag/`` holds the corpus layer, the retriever, the answer chain and the CLI; ``embeddings/`` the
encoders and indexes; ``ui/`` the Gradio app; ``eval/`` the evaluation suite.
"""

import os

# Nothing may reach a model hub or call home at run time; set before any HF/Gradio import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
