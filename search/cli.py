"""`minyi search …`: follow the change log, rebuild the index, show its state, query it."""

from __future__ import annotations

import json
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from app import jobs
from search import service
from search.engine import TYPES
from search.indexer import index_copy, indexer, row_counts, status

search_cli = AppGroup("search", help="The search index: indexer, rebuild, status and queries.")


@search_cli.command("worker")
@click.option("--once", is_flag=True, help="Apply what is logged now, then stop.")
def worker(once: bool) -> None:
    """Follow the change log into this node's index copy (SEARCH_INDEX_DIR)."""
    app = current_app._get_current_object()
    follower = indexer(app)
    if once:
        click.echo(f"applied {follower.drain()} changes")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    click.echo(f"following the change log into {index_copy(app).root} (Ctrl-C stops)")
    follower.follow(stop, app.config["SEARCH_POLL_SECONDS"])
    click.echo("stopped")


@search_cli.command("reindex")
@click.option("--procs", type=click.IntRange(1, 16), default=None,
              help="Processes that analyse documents (default SEARCH_REINDEX_PROCS).")
@click.option("--here", is_flag=True,
              help="Rebuild in this process, not on the jobs worker (whose machine's index "
                   "copy it rebuilds).")
def reindex(procs: int | None, here: bool) -> None:
    """Rebuild the index from the database into a new copy, then put it in use (a background
    job: on the jobs worker when Redis is configured); follow its progress."""
    app = current_app._get_current_object()
    totals = row_counts(app)
    label = ", ".join(f"{count} {entity}s" for entity, count in totals.items())
    ticket = jobs.enqueue("search.reindex", here=here,
                          procs=procs or app.config["SEARCH_REINDEX_PROCS"],
                          limitmb=app.config["SEARCH_REINDEX_LIMITMB"])
    if not ticket.id.startswith(jobs.LOCAL_PREFIX):
        click.echo(f"queued as job {ticket.id} on {app.config['JOBS_QUEUE']!r} "
                   "(`minyi jobs worker` runs it)")
    shown = 0
    with click.progressbar(length=sum(totals.values()), label=f"Indexing {label}") as bar:

        def show(state: jobs.JobState) -> None:
            nonlocal shown
            bar.update(state.done - shown)
            shown = state.done

        state = ticket.wait(timeout=float("inf"), poll=0.2, on_progress=show)
    if state.state != "done":
        raise click.ClickException(f"the reindex failed: {state.error}")
    done = state.result
    rate = done["documents"] / done["seconds"] if done["seconds"] else 0
    click.echo(f"indexed {done['documents']} documents in {done['seconds']:.1f} s "
               f"({rate:.0f}/s) into {done['generation']}; changes after log id "
               f"{done['position']} are applied by the indexer")


@search_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show_status(as_json: bool) -> None:
    """Show the indexer's lag behind the change log and the documents per type."""
    state = status(current_app._get_current_object())
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False))
        return
    click.echo(f"index:     {state['index']}")
    click.echo(f"position:  {state['position']} of {state['log_max_id']} "
               f"(lag {state['lag']} ids, {state['unindexed']} rows not applied, oldest "
               f"{state['oldest_unindexed_age_s']} s; {state['gaps']} gaps waited for)")
    counts = ", ".join(f"{count} {kind}s" for kind, count in state["documents"].items())
    click.echo(f"documents: {counts} ({state['total']} in all)")


@search_cli.command("query")
@click.argument("text")
@click.option("--type", "kind", type=click.Choice(TYPES), default=None)
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option("--unpublished", is_flag=True,
              help="Include what only staff see (pending, hidden and rejected comments, "
                   "staff notes).")
@click.option("--json", "as_json", is_flag=True, help='Print {"hits": [...]}.')
def query(text: str, kind: str | None, limit: int, unpublished: bool, as_json: bool) -> None:
    """Search the index as the public (or as staff with --unpublished)."""
    request = service.SearchRequest(q=text, types=(kind,) if kind else (), per_page=limit)
    found = service.search(current_app._get_current_object(), request,
                           service.Reader(staff=unpublished), facets=False)
    hits = [service.hit_json(hit) for hit in found.hits]
    if as_json:
        click.echo(json.dumps({"hits": hits}, ensure_ascii=False))
        return
    click.echo(f"{found.total} found")
    for hit in hits:
        where = f" {hit['label']}" if hit["label"] else ""
        click.echo(f"{hit['type']} {hit['id']}  {hit['title']}{where}  ({hit['score']})")
        click.echo(f"    {hit['highlight']}")
