"""Rule packs, lexicons, sample corpus and (later) the regulation corpus."""
