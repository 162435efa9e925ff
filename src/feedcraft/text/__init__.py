"""L2 text: cleaning, language detection, tokenisation (English, Chinese), keywords."""
