"""The game's online side (docs/design.md §7): server settings, the HTTP client, tokens, the outbox, ranked play.

Nothing here imports Qt; the UI runs these blocking calls in workers. With no server set, nothing here is built and
the game makes no network call at all.
"""
