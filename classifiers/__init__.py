"""EyeVsAI classifiers."""
