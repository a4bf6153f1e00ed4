"""Qt-only helpers shared by the game and the trainer GUI: background workers and the one error path.

Nothing here imports `desktop` or `trainer`: what differs between the programs (names, versions, the log file)
is passed in by each program's composition root.
"""
