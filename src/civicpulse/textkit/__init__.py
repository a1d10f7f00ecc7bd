"""Text helpers every layer may use: folding marks, the redaction placeholder, word segments."""
