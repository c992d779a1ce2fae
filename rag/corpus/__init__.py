"""The corpus layer: UN documents -> numbered paragraphs with exact citations -> chunks to embed."""
