"""Insight over the whole corpus, recomputed from stored annotations: campaigns, themes, trends."""
