"""The answer chain's parts: context builder, answerers (extractive, LLM), citation guard."""
