"""EyeVsAI sync_server."""
