"""The game's rules and fairness protocol (docs/design.md §4–6): one copy for the game and the server.

Modes, scoring, dealing, the ranked deal, the AI's commitments, the proof file and the upload body live here, so
the desktop game (`desktop`), the sync server (`sync_server`) and the classifier library (`classifiers`, for the
difficulty names) all execute the same rules. Pure standard library: no I/O, no NumPy, no Qt, and no import of
any other project package (an import-linter contract checks it).
"""
