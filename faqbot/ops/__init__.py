"""Operations: the question log and its storage, the question report, quality evaluation."""
