"""Language-aware text utilities: encodings, tokenizers, sentences, token counts."""
