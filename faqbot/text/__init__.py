"""Words and languages, used by every stage: language tags, stopwords, the analyzer, language detection."""
