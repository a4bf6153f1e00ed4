"""A crowd on the live server, played through its API by simulated players: ranked sessions (the server deals, times
and scores; each player answers right except on a pattern of rounds) and offline sessions shared with the crowd
statistics (all dealt from one seed, so every player sees the same test images). Used by the crowd tests and by
tools/screenshots.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

from keyring.backends.fail import Keyring as NoKeyring

from desktop.services.catalog import Catalog
from desktop.services.dealer import start_session
from desktop.services.online.client import ServerClient
from desktop.services.online.outbox import Outbox, drain
from desktop.services.online.ranked import RankedGame
from desktop.services.online.tokens import TokenStore
from desktop.services.store import Store
from game_rules.commitment import new_salt
from game_rules.modes import MODES
from tests.desktop.online.server import LiveServer
from tests.helpers.fakes import FakeOpponent
from tests.sync_server.helpers import round_truth

PACK = "fashion-mnist"
SHARED_SEED = "c70wd5eed0000000000000000000cafe"  # the offline deal every simulated player (and the window) gets


def _guest(server: LiveServer, folder: Path, name: str) -> ServerClient:
    client = ServerClient(server.url, TokenStore(server.url, folder, backend=NoKeyring()))
    client.guest(display_name=name)
    return client


def seed_ranked(
    server: LiveServer, catalog: Catalog, folder: Path, names: Sequence[str], difficulty: str = "medium"
) -> None:
    """A guest per name plays one ranked session; player k misses the rounds whose number + k is a multiple of 3,
    so the images' shares of right answers differ."""
    pack = catalog.packs[PACK]
    for k, name in enumerate(names):
        client = _guest(server, folder / f"ranked-{k}", name)
        try:
            game = RankedGame.start(
                client, pack_id=PACK, difficulty=difficulty, classes=pack.classes, ranked_images=None
            )
            while game.has_next_round:
                dealt = game.next_round()
                server.clock.advance(2.0)  # a human's answer time, on the server's clock
                truth = round_truth(server.app_state, game.id, dealt.number)
                wrong = next(option for option in dealt.options if option != truth)
                game.answer(wrong if (dealt.number + k) % 3 == 0 else truth)
        finally:
            client.close()


def seed_offline(server: LiveServer, catalog: Catalog, folder: Path, players: int, difficulty: str = "medium") -> None:
    """`players` guests each upload one classic session dealt from SHARED_SEED, shared with the crowd statistics;
    player k misses the rounds whose index + k is a multiple of 4."""
    pack = catalog.packs[PACK]
    entry = catalog.opponents_for(PACK, difficulty)[0]
    for k in range(players):
        client = _guest(server, folder / f"offline-{k}", f"Offline {k}")
        store = Store(folder / f"offline-{k}.db")
        try:
            session = start_session(
                pack,
                FakeOpponent(entry),
                MODES["classic"],
                seed=SHARED_SEED,
                session_id=str(uuid.uuid4()),
                new_salt=new_salt,
            )
            store.begin_session(session, store.profile_id(f"Offline {k}"), entry.difficulty)
            for i in range(len(session.rounds)):
                dealt = session.current_round()
                wrong = next(option for option in dealt.options if option != dealt.truth)
                store.save_round(
                    session.session_id, session.answer(wrong if (i + k) % 4 == 0 else dealt.truth, 2.0 + i)
                )
            store.finish_session(session)
            status = drain(Outbox(store, share_answers=lambda: True), client)
            assert status.pending == 0, status
        finally:
            store.close()
            client.close()
