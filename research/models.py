"""Models of the research app."""
