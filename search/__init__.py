"""Full-text search over clauses, comments and hearing notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine and the benchmarks import search.* without Flask's app
    from flask import Flask

#: settings of the search package and their defaults (see docs/search.md)
DEFAULTS = {
    #: seconds the indexer waits when the log has nothing new
    "SEARCH_POLL_SECONDS": 0.5,
    #: change-log rows per batch (one index commit each)
    "SEARCH_BATCH_SIZE": 500,
    #: seconds an id missing below later ones is waited for before it is given up
    "SEARCH_GAP_SECONDS": 120.0,
    #: document types ranked by jieba words as well as by characters; comments are left out
    #: because the word stream costs them 40 % of the indexing time (docs/search.md)
    "SEARCH_RANK_TYPES": ("clause", "note"),
    #: processes analysing documents during `minyi search reindex`
    "SEARCH_REINDEX_PROCS": 1,
    #: memory (MB) each reindex process uses before it spills to disk
    "SEARCH_REINDEX_LIMITMB": 256,
}


def init_app(app: Flask) -> None:
    """Register the search pages, the API route and the `search` commands; log dependent
    changes; start the indexer thread on the first request when configured."""
    from search import outbox  # noqa: F401  (registers the dependent-change listener)
    from search.cli import search_cli
    from search.indexer import IndexCopy, start_thread
    from search.routes import search_api_blueprint, search_blueprint

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions["search"] = {
        "copy": IndexCopy(app.config["SEARCH_INDEX_DIR"],
                          rank_types=app.config["SEARCH_RANK_TYPES"]),
    }
    app.register_blueprint(search_blueprint)
    app.register_blueprint(search_api_blueprint)
    app.cli.add_command(search_cli)
    if app.config["SEARCH_INDEXER_THREAD"] and not app.testing:
        # Started by the first request rather than here: commands such as `minyi db upgrade`
        # create the app too, a reloader's watching process never serves, and a pre-forking
        # server would lose a thread started before the fork.
        @app.before_request
        def _start_indexer() -> None:
            start_thread(app)
