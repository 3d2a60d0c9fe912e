"""Answering a question from a loaded index: lexical search, kernels, semantic rerank, spelling, answer."""
