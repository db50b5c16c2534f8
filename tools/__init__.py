"""Tools: plain typed functions and classes, usable alone and by the agents."""
