"""Speed comparisons, each printed as a ratio against a reference measured in the same run."""
