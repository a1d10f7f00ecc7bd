"""Official information: documents and passages, the claim base (ClaimReview), rumour matching,
sourced responses, cited answers."""
