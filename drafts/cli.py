"""`minyi diff OLD_FILE NEW_FILE`: compare two texts of a law, with no database and no app."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app import ROOT
from drafts import comparison
from drafts.alignment import STATUSES, align

#: how `--format html` names the statuses (the CLI speaks English, like its other output)
STATUS_NAMES = {status: status.capitalize() for status in STATUSES}


def _articles(path: Path) -> tuple[list, str]:
    from drafts.services import DraftError, read_upload

    try:
        _text, parsed = read_upload(path.name, path.read_bytes())
    except DraftError as error:
        raise click.ClickException(f"{path}: {error}") from error
    if not parsed.articles():
        raise click.ClickException(f"{path}: no articles found (lines starting with 第…条 or "
                                   "Article …)")
    return parsed.articles(), parsed.language


def render_html(result: comparison.Comparison, old_name: str, new_name: str, language: str,
                only_changed: bool) -> str:
    """Render the printable comparison template with plain Jinja (no Flask, no translation)."""
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    template = env.get_template("pdf/comparison.html")
    return template.render(title="Comparison of two versions", old_label=old_name,
                           new_label=new_name, comparison=result,
                           rows=result.changed_rows if only_changed else result.rows,
                           status_labels=STATUS_NAMES, only_changed=only_changed,
                           language="en" if language == "en" else "zh-Hans")


@click.command("diff")
@click.argument("old_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "output", type=click.Choice(["json", "text", "html"]),
              default="text", show_default=True)
@click.option("--all", "show_all", is_flag=True,
              help="text and html: list unchanged and renumbered articles too.")
def diff_command(old_file: Path, new_file: Path, output: str, show_all: bool) -> None:
    """Compare two versions of a law (.txt, .md or .docx) article by article.

    Articles are paired by content, so insertions, deletions, moves, splits, merges and
    renumbering are recognised; a cross-reference renumbered along with the articles is not
    a change.  JSON lists every old→new pair (a split or merge as several pairs sharing one
    side), the inserted and deleted articles, and counts by status.
    """
    old, language = _articles(old_file)
    new, _language = _articles(new_file)
    result = comparison.build(align(old, new))
    if output == "json":
        click.echo(json.dumps(comparison.summary(result), ensure_ascii=False, indent=2))
    elif output == "html":
        click.echo(render_html(result, old_file.name, new_file.name, language,
                               only_changed=not show_all))
    else:
        click.echo(comparison.as_text(result, only_changed=not show_all), nl=False)
