"""EyeVsAI desktop."""
