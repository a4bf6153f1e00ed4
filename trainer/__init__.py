"""EyeVsAI trainer."""
