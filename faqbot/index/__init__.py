"""Building, storing, loading and refreshing the index: BM25 weights, the index directory, embeddings."""
