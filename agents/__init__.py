"""The agents: QM (quality evaluation). Insight and coach agents come later."""
