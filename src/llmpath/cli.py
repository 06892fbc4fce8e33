"""The commands: parse arguments, call the core, render. Typer is used here and in `typer_support` only.

Heavy modules (sqlmodel, sqlalchemy, yaml, pydantic models) are imported inside the commands that need them,
so `--help`, `--version` and Tab completion start fast.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmpath import __version__, vocab
from llmpath.completion import complete_phase, complete_topic, complete_track
from llmpath.errors import LlmpathError
from llmpath.terminal import json_escaped, visible
from llmpath.typer_support import DEBUG_ENV, LlmpathGroup, LlmpathTyper, Options

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from llmpath.planner import TrackInfo
    from llmpath.sync import SyncReport, Workspace


app = LlmpathTyper(
    cls=LlmpathGroup,
    name="llmpath",
    help="Track your way along a prerequisite-ordered learning path (by default: becoming an LLM engineer).",
    epilog="Start with `llmpath next`. Data lives in LLMPATH_HOME or your data folder (`llmpath paths`).",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"llmpath {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    roadmap: Annotated[
        str | None,
        typer.Option(
            "--roadmap",
            "-r",
            metavar="FILE",
            help="Roadmap file for this command (env: LLMPATH_ROADMAP; default: the one chosen "
            "with `llmpath use`, else the shipped LLM roadmap).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help=f"On an internal error (a bug, exit code 70), print the traceback (env: {DEBUG_ENV}=1).",
        ),
    ] = False,
) -> None:
    """Track your way along a prerequisite-ordered learning path.

    Run without a command for a short dashboard: overall progress and the next three topics.
    """
    ctx.obj = Options(roadmap=roadmap, debug=debug)
    if ctx.invoked_subcommand is None:
        _dashboard(ctx)


# --- helpers ----------------------------------------------------------------------------------------------


def _console() -> "Console":
    from llmpath.render import make_console

    return make_console()


def _workspace(ctx: typer.Context, *, force_sync: bool = False) -> "Workspace":
    from llmpath.sync import open_workspace

    options: Options = ctx.obj or Options()
    workspace = open_workspace(options.roadmap, force_sync=force_sync)
    if not force_sync:
        _report_sync(workspace.sync, workspace.title)
    return workspace


def _report_sync(report: "SyncReport", title: str | None = None) -> None:
    """What a (re-)load did, on stderr: a changed roadmap, progress that moved, the backup taken first; or
    that the file is missing or invalid and the copy loaded before is in use."""
    if report.warning:
        _note(report.warning)
    if title is not None and report.loaded and not report.first_load:
        # The first load is silent (nothing to report); a reload is news: the roadmap under you changed.
        _note(f"Roadmap file changed; re-loaded '{title}' ({report.topics} topics)")
    for old, new in report.moved:
        _note(f"progress on '{old}' moved to its new id '{new}'")
    if report.backup:
        _note(f"backup of the previous state: {report.backup}")


def _note(message: str) -> None:
    """A line on stderr (notices, warnings); control characters in it are made visible."""
    sys.stderr.write(f"{visible(message)}\n")


def _print_json(data: Any) -> None:
    import json

    sys.stdout.write(json_escaped(json.dumps(data, indent=2, ensure_ascii=False, default=_json_value)) + "\n")


def _json_value(value: Any) -> str:
    """Times as ISO 8601 with their UTC offset; anything else as text."""
    from datetime import datetime

    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


TopicArgs = Annotated[
    list[str],
    typer.Argument(
        metavar="TOPIC",
        help="Topic ids, aliases, titles or unique id prefixes.",
        autocompletion=complete_topic,
        show_default=False,
    ),
]


# --- next -------------------------------------------------------------------------------------------------


class SortOrder(StrEnum):
    roadmap = "roadmap"
    unlocks = "unlocks"


@app.command("next")
def next_command(
    ctx: typer.Context,
    count: Annotated[
        int, typer.Option("--count", "-n", metavar="N", min=1, help="How many topics to show.")
    ] = 5,
    phase: Annotated[
        str | None,
        typer.Option(
            "--phase", "-p", metavar="PHASE", help="Only this phase.", autocompletion=complete_phase
        ),
    ] = None,
    sort: Annotated[
        SortOrder,
        typer.Option(
            "--sort",
            help="roadmap: topics in progress first, then roadmap order. unlocks: most unfinished "
            "topics depending on it (directly or not) first; with a goal set, only those on the way.",
        ),
    ] = SortOrder.roadmap,
    all_topics: Annotated[
        bool, typer.Option("--all", help="Ignore the goal and the followed track; consider every topic.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """What to study next: topics whose prerequisites are all done or skipped.

    With a track followed (`llmpath track ID`), only the track's topics; with a goal set, only what leads
    to the goal.

    "Unlocks" counts the topics that become available once this one is done; with --sort unlocks the
    number in brackets counts every unfinished topic that depends on it.

    Example: llmpath next -n 10 --phase foundations
    """
    from llmpath import db, lookup, planner, store

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph, statuses = store.load_state(session, workspace.roadmap_id)
        goals = [] if all_topics else _current_goals(session, workspace.roadmap_id, graph)
        track = None if all_topics else _followed_track(session, workspace)
        review = _review_due(session, workspace.roadmap_id, graph, statuses, workspace.settings)
        reached = None if as_json else _reached(session, workspace, graph, statuses, goals, track)
    in_phase = graph.phase_topics(lookup.resolve_phase(graph, phase)) if phase else None
    within = planner.scope_of(track, goals, in_phase)
    offered = planner.next_topics(graph, statuses, within=within, goals=goals, sort=sort.value, review=review)
    shown = planner.describe_next(graph, statuses, offered[:count], goals=goals)
    if as_json:
        _print_json(shown)
        return
    _render_next(graph, statuses, len(offered), shown, goals, None if goals else track, phase, sort, reached)


def _followed_track(
    session: Any, workspace: "Workspace", settings: dict[str, str] | None = None
) -> "TrackInfo | None":
    """The track the learner follows in this roadmap (by `settings`, else the workspace's: the learner's
    own); a note when the roadmap no longer has it."""
    from llmpath import store

    settings = workspace.settings if settings is None else settings
    chosen = settings.get(vocab.track_setting(workspace.roadmap_id))
    if chosen is None:
        return None
    tracks = store.load_tracks(session, workspace.roadmap_id)
    track = store.followed_track(settings, tracks, workspace.roadmap_id)
    if track is None:
        _note(f"the followed track '{chosen}' is no longer in this roadmap; showing every topic")
    return track


def _current_goals(session: Any, roadmap_id: str, graph: Any) -> list[str]:
    """The goals set for this roadmap, leaving out (with a note) topics the roadmap no longer has."""
    from llmpath import store

    goals = store.load_goals(session, roadmap_id)
    gone = [g for g in goals if g not in graph.topics]
    if gone:
        listed = ", ".join(f"'{g}'" for g in gone)
        _note(f"goal {listed} is no longer in this roadmap; ignored (`llmpath goal TOPIC` sets another)")
    return [g for g in goals if g in graph.topics]


def _reached(
    session: Any,
    workspace: "Workspace",
    graph: Any,
    statuses: Any,
    goals: list[str],
    track: "TrackInfo | None",
) -> "list[Text] | None":
    """The renderable lines saying the goal, the followed track or the roadmap is finished, and what now;
    None while something is left (the usual case, which costs no query)."""
    from llmpath import planner, render, store

    reached = planner.aim_reached(graph, statuses, goals=goals, track=track)
    if reached is None:
        return None
    track_left = track is not None and planner.aim_reached(graph, statuses, track=track) is None
    suggest = planner.what_now(
        reached,
        track=track,
        track_left=track_left,
        has_tracks=track is not None or bool(store.load_tracks(session, workspace.roadmap_id)),
        review_on=store.review_interval(workspace.settings) is not None,
    )
    titles = {t: graph.topics[t].title for t in reached.topics}
    return render.reached_lines(reached, suggest, titles, track.title if track else None)


def _review_due(session: Any, roadmap_id: str, graph: Any, statuses: Any, settings: dict) -> list[str]:
    from llmpath import planner, store

    every = store.review_interval(settings)
    if every is None:
        return []
    finished = store.last_finished(session, roadmap_id)
    return planner.due_for_review(graph, statuses, finished, every, store.now())


def _render_next(graph, statuses, offered, shown, goals, track, phase, sort, reached) -> None:
    from llmpath import planner, render

    console = _console()
    total = planner.total_progress(planner.phase_progress(graph, statuses, within=track and track.topics))
    if goals:
        names = ", ".join(graph.topics[g].title for g in goals if g in graph.topics)
        console.print(render.line(f"Goal: {names} — showing only topics on the way (--all for everything)"))
    elif track:
        console.print(render.line(f"Track: {track.title} — showing only its topics (--all for everything)"))
    for reached_line in reached or []:  # reviews may still be offered below
        console.print(reached_line)
    if not offered:
        if not reached:
            where = f" in phase '{phase}'" if phase else ""
            console.print(f"Nothing is available{where} yet: it waits on topics in earlier phases.")
        return
    console.print(render.next_table(graph, shown, show_total_unlocks=sort == SortOrder.unlocks))
    if offered > len(shown):
        console.print(f"[dim]… and {offered - len(shown)} more (llmpath next -n {offered})[/dim]")
    console.print(
        f"[dim]{total.finished}/{total.total} done. Mark one with `llmpath done ID`, "
        "or `llmpath start ID`.[/dim]"
    )


# --- done / start / skip / reset --------------------------------------------------------------------------


def _change_status(ctx: typer.Context, names: list[str], status: str) -> None:
    from llmpath import db, lookup, planner, render, store

    workspace = _workspace(ctx)
    with db.writing(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id)
        aliases = store.load_aliases(session, workspace.roadmap_id)
        before = store.load_statuses(session, workspace.roadmap_id)
        topic_ids = lookup.resolve_topics(graph, aliases, names)  # raises before any write
        changes = store.set_status(
            session,
            roadmap_id=workspace.roadmap_id,
            topic_ids=topic_ids,
            status=status,
            at=store.now(),
        )
    after = dict(before)
    for made in changes:
        after[made.topic_id] = made.new
    console = _console()
    changed = {c.topic_id: c for c in changes}
    word = {"done": "done", "doing": "started", "skipped": "skipped", "todo": "reset to to-do"}[status]
    for topic_id in topic_ids:
        name = render.topic_ref(graph.topics[topic_id].title, topic_id)
        change = changed.get(topic_id)
        if change is None:
            console.print(render.line(f"· {name} is already {planner.status_of(before, topic_id)}"))
        elif change.old == change.new == "done":
            console.print(render.line(("✓", "green"), f" {name} reviewed: done again"))
        else:
            console.print(render.line(("✓", "green"), f" {name}: {word}"))
        if status in ("done", "doing"):
            still_open = graph.in_roadmap_order(planner.open_prerequisites(graph, after, topic_id))
            if still_open:
                listed = ", ".join(still_open)
                console.print(f"  [yellow]![/yellow] prerequisites still open: {listed}")
    unlocked = planner.newly_available(graph, before, after)
    if unlocked:
        listed = ", ".join(render.topic_ref(graph.topics[t].title, t) for t in unlocked)
        console.print(render.line(f"Now available: {listed}"))


@app.command()
def done(ctx: typer.Context, topics: TopicArgs) -> None:
    """Mark topics done. Prerequisites still open are allowed (people learn out of order) but listed.

    Marking a done topic done again records a review.

    Example: llmpath done linear-algebra python
    """
    _change_status(ctx, topics, "done")


@app.command()
def start(ctx: typer.Context, topics: TopicArgs) -> None:
    """Mark topics in progress; `next` lists them first.

    Example: llmpath start transformer
    """
    _change_status(ctx, topics, "doing")


@app.command()
def skip(ctx: typer.Context, topics: TopicArgs) -> None:
    """Skip topics you already know; like done, they satisfy prerequisites.

    Example: llmpath skip python sql
    """
    _change_status(ctx, topics, "skipped")


@app.command()
def reset(ctx: typer.Context, topics: TopicArgs) -> None:
    """Put topics back to to-do (their notes and history stay).

    Example: llmpath reset rag
    """
    _change_status(ctx, topics, "todo")


# --- status -----------------------------------------------------------------------------------------------


@app.command()
def status(
    ctx: typer.Context,
    phase: Annotated[
        str | None,
        typer.Argument(
            metavar="PHASE",
            help="Show this phase's topics.",
            autocompletion=complete_phase,
            show_default=False,
        ),
    ] = None,
    all_topics: Annotated[
        bool, typer.Option("--all", help="The whole roadmap, not only the followed track.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Progress per phase: done/total, a bar, percent, in progress and hours left.

    With a track followed (`llmpath track ID`), only the track's topics count.

    Example: llmpath status              # all phases
    Example: llmpath status transformers # one phase, topic by topic
    """
    _print_status(_workspace(ctx), phase=phase, all_topics=all_topics, as_json=as_json)


def _print_status(
    workspace: "Workspace",
    *,
    phase: str | None = None,
    all_topics: bool = False,
    as_json: bool = False,
    learner: str | None = None,
    extra: dict[str, Any] | None = None,
    header: "Text | None" = None,
) -> None:
    """What `status` shows; `learner` another learner's (`team show`), with `extra` in the JSON and
    `header` above the table."""
    from llmpath import db, lookup, planner, render, store

    with db.reading(workspace.engine, learner=learner) as session:
        settings = workspace.settings if learner is None else store.load_settings(session)
        # The overview only counts; a phase's topic list marks each one available or blocked.
        graph = store.load_graph(session, workspace.roadmap_id, edges=phase is not None)
        statuses = store.load_statuses(session, workspace.roadmap_id)
        orphans = store.orphaned_progress(session, workspace.roadmap_id)
        track = None if all_topics else _followed_track(session, workspace, settings)
    scope = track.topics if track else None
    rows = planner.phase_progress(graph, statuses, within=scope)
    total = planner.total_progress(rows)
    orphan_data = [{"id": topic_id, "status": state} for topic_id, state in orphans]
    track_data = {"id": track.id, "title": track.title} if track else None
    if phase:
        phase_id = lookup.resolve_phase(graph, phase)
        topic_ids = [t for t in graph.phase_topics(phase_id) if scope is None or t in scope]
        if not topic_ids and track is not None:
            raise LlmpathError(
                f"phase '{phase_id}' has no topics in track '{track.id}' (--all for the whole roadmap)"
            )
        states = {t: planner.topic_state(graph, statuses, t) for t in topic_ids}
        row = next(r for r in rows if r.phase.id == phase_id)
        if as_json:
            _print_json(
                {
                    **_progress_json(row),
                    "track": track_data,
                    "topics": [
                        {
                            "id": t,
                            "title": graph.topics[t].title,
                            "status": planner.status_of(statuses, t),
                            "state": states[t],
                            "hours": graph.topics[t].hours,
                        }
                        for t in topic_ids
                    ],
                }
            )
            return
        console = _console()
        console.print(render.progress_line(row.phase.title, row.finished, row.total))
        if topic_ids:
            console.print(render.phase_topics_table(graph, topic_ids, states))
        else:  # a phase the roadmap left empty (legal; `llmpath validate` warns about it)
            console.print("[dim]This phase has no topics.[/dim]")
        return
    if as_json:
        _print_json(
            {
                **(extra or {}),
                "roadmap": {"id": workspace.roadmap_id, "title": workspace.title},
                "track": track_data,
                "phases": [_progress_json(r) for r in rows],
                "total": _progress_json(total),
                "orphaned": orphan_data,
            }
        )
        return
    console = _console()
    console.print(render.line((workspace.title, "bold")))
    if header is not None:
        console.print(header)
    if track:
        following = f"Track: {track.title} — only its topics count (--all for the whole roadmap)"
        console.print(render.line(following))
    console.print(render.status_table(rows, total))
    if orphans:
        listed = ", ".join(f"{topic_id} ({state})" for topic_id, state in orphans)
        console.print(
            f"[yellow]Kept progress on {len(orphans)} topic(s) no longer in the roadmap:[/yellow] {listed}"
        )


def _progress_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.phase.id,
        "title": row.phase.title,
        "total": row.total,
        "done": row.done,
        "skipped": row.skipped,
        "doing": row.doing,
        "percent": round(row.percent, 1),
        "hours_left": row.hours_left,
    }


# --- show -------------------------------------------------------------------------------------------------


@app.command()
def show(
    ctx: typer.Context,
    topic: Annotated[
        str,
        typer.Argument(
            metavar="TOPIC",
            help="Topic id, alias, title or id prefix.",
            autocompletion=complete_topic,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everything about one topic: summary, concepts, tools, links, prerequisites, what it unlocks, notes.

    For a topic that is not available yet, also the open prerequisites blocking it, as a tree.

    Example: llmpath show rag
    """
    from llmpath import db, lookup, planner, render, store

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph, statuses = store.load_state(session, workspace.roadmap_id)
        topic_id = lookup.resolve_topic(graph, store.load_aliases(session, workspace.roadmap_id), topic)
        fields = store.load_topic_fields(session, workspace.roadmap_id, topic_id)
        progress = store.load_topic_progress(session, workspace.roadmap_id, topic_id)
        notes = store.load_notes(session, workspace.roadmap_id, topic_id)
    info = planner.describe_topic(
        graph,
        statuses,
        topic_id,
        fields=fields,
        started_at=progress.started_at if progress else None,
        finished_at=progress.finished_at if progress else None,
        notes=[(n.at, n.text) for n in notes],
    )
    if as_json:
        _print_json(info)
        return
    _console().print(render.topic_panel(info))


# --- export / import --------------------------------------------------------------------------------------


class ExportFormat(StrEnum):
    markdown = "markdown"
    json = "json"


# The options of every command that writes a file of text (`export`, `team export`).
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of stdout ('-': stdout).",
        dir_okay=False,
        allow_dash=True,
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Overwrite an existing output file (a symlink's target, a FIFO, a device)."),
]


@app.command()
def export(
    ctx: typer.Context,
    format: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="markdown: a GitHub checklist; json: a full backup."),
    ] = ExportFormat.markdown,
    output: OutputOption = None,
    force: ForceOption = False,
    graph: Annotated[
        bool,
        typer.Option("--graph", help="Append the prerequisite graph (Mermaid) to the markdown."),
    ] = False,
) -> None:
    """Export progress: a markdown checklist to paste into notes or a README, or a JSON backup.

    Both formats can be read back with `llmpath import`.

    Example: llmpath export -o progress.md
    Example: llmpath export --format json -o backup.json
    """
    from llmpath import db, files, store, transfer
    from llmpath import export as exporting

    if files.is_stdout(output):
        output = None
    if output is not None and output.exists() and not force:
        raise LlmpathError(f"{output} already exists; use --force to overwrite it")
    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        snapshot = transfer.snapshot(session, workspace.roadmap_id, at=store.now())
        mermaid = None
        if graph and format == ExportFormat.markdown:
            from llmpath import graphs

            full = store.load_graph(session, workspace.roadmap_id)
            mermaid = graphs.mermaid(full, store.load_statuses(session, workspace.roadmap_id))
    text = (
        exporting.to_json(snapshot)
        if format == ExportFormat.json
        else exporting.to_markdown(snapshot, mermaid)
    )
    if output is None:
        sys.stdout.write(text)
        return
    files.write_file_atomically(output, text, overwrite=force)
    _note(f"Wrote {format.value} export to {output}")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A file written by `llmpath export` (markdown or JSON).")
    ],
    any_roadmap: Annotated[
        bool,
        typer.Option(
            "--any-roadmap", help="Import a file of another roadmap anyway, matching topics by id only."
        ),
    ] = False,
) -> None:
    """Restore progress from an export (JSON or markdown; markdown lines match by id, else by title).

    Only what differs changes: a checklist line whose box agrees with your progress keeps its dates; a
    ticked or unticked box is a new status. A JSON backup also restores history, goals, the followed track
    and settings. Topics the file does not mention are left alone. Nothing changes if the file is invalid.

    Example: llmpath import backup.json
    """
    from llmpath import db, paths, render, store, transfer
    from llmpath import export as exporting

    try:
        if file.stat().st_size > paths.MAX_PROGRESS_FILE_BYTES:
            raise LlmpathError(f"{file}: too large for a progress export")
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LlmpathError(f"{file}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise LlmpathError(f"{file}: cannot read ({exc.__class__.__name__})") from None
    parsed = exporting.parse_progress(text, str(file))
    workspace = _workspace(ctx)
    transfer.check_roadmap(parsed, workspace.roadmap_id, str(file), any_roadmap=any_roadmap)
    with db.reading(workspace.engine) as session:
        plan = transfer.plan_import(session, workspace.roadmap_id, parsed, any_roadmap=any_roadmap)
    if not plan.matched:
        raise LlmpathError(f"{file}: no line matched a topic of '{workspace.roadmap_id}'; nothing imported")
    backup = db.backup_before(workspace.engine, "before-import")
    with db.writing(workspace.engine) as session:
        result = transfer.apply_import(session, workspace.roadmap_id, plan, at=store.now())
    kinds = [
        (result.changed, "topic"),
        (result.events_added, "history event"),
        (result.settings_changed, "setting"),
    ]
    made = [f"{count} {kind}{'' if count == 1 else 's'}" for count, kind in kinds if count]
    detail = f" ({', '.join(made)})" if made and not (len(made) == 1 and result.changed) else ""
    _console().print(
        render.line(
            f"Imported {len(plan.matched)} topics from {file}: {result.total_changed} changed{detail}, "
            f"{result.notes_added} notes added."
        ),
        soft_wrap=True,  # one line, however long the path: scripts and people grep it
    )
    for item in plan.unmatched:
        where = f"line {item.line}" if item.line else "entry"
        _note(f"warning: {file}: {where}: no topic matches '{item.id or item.title}'")
    for warning in plan.warnings:
        _note(f"warning: {file}: {warning}")
    if backup:
        _note(f"backup of the previous state: {backup}")


# --- housekeeping -----------------------------------------------------------------------------------------


@app.command()
def paths(ctx: typer.Context) -> None:
    """Where llmpath keeps its database, backups and the roadmap in use.

    Example: llmpath paths
    """
    from llmpath import config, sync
    from llmpath import paths as where

    target = config.target()
    roadmap = sync.roadmap_file_in_use((ctx.obj or Options()).roadmap)
    console = _console()
    console.print(f"data folder:  {where.data_dir()}", markup=False)
    if target.url:
        console.print(f"database:     {config.masked_url(target.url)}", markup=False)
        console.print(
            "backups:      the server's (pg_dump), and `llmpath export --format json`", markup=False
        )
    else:
        console.print(f"database:     {where.db_path()}", markup=False)
        console.print(f"backups:      {where.backups_dir()}", markup=False)
    console.print(f"config:       {config.config_path()}", markup=False)
    console.print(f"roadmap:      {roadmap}", markup=False)


@app.command()
def whoami(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Say which learner you are and which database your progress is kept in.

    The learner is LLMPATH_LEARNER, else the name `llmpath connect --as` remembered, else the user of the
    PostgreSQL URL, else your system user name. Passwords are never shown.

    Example: llmpath whoami
    """
    from llmpath import config
    from llmpath import paths as where

    target = config.target()
    database = config.masked_url(target.url) if target.url else str(where.db_path())
    data = {
        "learner": target.learner,
        "learner_from": target.learner_from,
        "engine": "postgresql" if target.url else "sqlite",
        "database": database,
        "database_from": target.url_from,
    }
    if as_json:
        _print_json(data)
        return
    console = _console()
    console.print(f"learner:   {target.learner}  (from {target.learner_from})", markup=False)
    kind = "PostgreSQL" if target.url else "SQLite"
    console.print(f"database:  {database}  ({kind}, from {target.url_from})", markup=False)


@app.command()
def connect(
    url: Annotated[
        str | None,
        typer.Argument(metavar="URL", help="postgresql://USER@HOST[:PORT]/DATABASE (no password in it)."),
    ] = None,
    learner: Annotated[
        str | None,
        typer.Option("--as", metavar="NAME", help="The learner you are there (default: the URL's user)."),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="Go back to the SQLite file in the data folder.")
    ] = False,
    bring_local: Annotated[
        bool,
        typer.Option("--bring-local", help="Copy your local progress, notes and history into the database."),
    ] = False,
) -> None:
    """Keep your progress in a PostgreSQL database (several computers, a study group), or locally again.

    The database is reached and its tables made (or migrated) before the URL is remembered, so a wrong URL
    changes nothing. The password comes from ~/.pgpass, PGPASSWORD or a service file, as for psql; a URL
    with one works but is stored in your config file (private to you). Needs `pip install
    "llmpath[postgres]"`. LLMPATH_DATABASE_URL overrides the remembered URL for one command; your local
    file is kept as it is.

    Example: llmpath connect --local
    Example: llmpath connect --local --as ada
    """
    from llmpath import config
    from llmpath import paths as where

    if local == (url is not None):
        raise typer.BadParameter(
            "give a PostgreSQL URL, or --local to go back to the local file", param_hint="URL"
        )
    if learner is not None:
        config.check_learner(learner, "--as")
    if local:
        if bring_local:
            raise typer.BadParameter("--bring-local copies into a PostgreSQL database", param_hint="--local")
        # The name remembered for a database goes with its URL; the local file's has its own key.
        names = {"learner": None, **({"local_learner": learner} if learner else {})}
        written = config.write_config({"database_url": None, **names})
        who = config.target()
        _console().print(
            f"Progress is kept in {where.db_path()} again, as learner {who.learner} ({written})", markup=False
        )
        _environment_overrides()
        return
    assert url is not None
    config.check_url(url)
    from urllib.parse import urlsplit

    from llmpath import db, postgres, store, transfer

    name = learner or urlsplit(url).username or config.local_learner()
    config.check_learner(name, "the URL's user")
    engine = postgres.open_database(url, name)  # reached and migrated, or one line saying why not
    copied = None
    if bring_local and where.db_path().exists():
        local_engine = db.open_database(where.db_path(), learner=config.local_learner())
        copied = transfer.copy_learner(local_engine, engine, at=store.now())
    written = config.write_config({"database_url": url, "learner": learner})
    console = _console()
    console.print(f"Connected to {config.masked_url(url)} as learner {name}", markup=False)
    if copied is not None:
        for rid, result in copied.imported.items():
            console.print(
                f"Brought your local progress in '{rid}': {result.changed} topic(s), "
                f"{result.events_added} history event(s), {result.notes_added} note(s)",
                markup=False,
            )
        for reason in copied.skipped:
            _note(f"not brought: {reason}")
    elif where.db_path().exists():
        _note(
            f"your local progress stays in {where.db_path()}; `llmpath connect URL --bring-local` copies it"
        )
    if urlsplit(url).password:
        _note(f"the password is stored in {written} (readable by you only); ~/.pgpass is the usual place")
    _environment_overrides()


def _sqlite_only(command: str) -> None:
    """`backups` and `restore` are about the SQLite file; on PostgreSQL the server keeps the backups."""
    from llmpath import config

    target = config.target()
    if target.url:
        raise LlmpathError(
            f"`llmpath {command}` is about the local SQLite file; your progress is in "
            f"{config.masked_url(target.url)}, whose backups are the server's (pg_dump) and "
            "`llmpath export --format json` (put back with `llmpath import`)"
        )


def _environment_overrides() -> None:
    import os

    from llmpath import config

    if os.environ.get(config.DATABASE_URL_ENV, "").strip():
        _note(f"{config.DATABASE_URL_ENV} is set, and overrides this until it is unset")


# --- a study group ----------------------------------------------------------------------------------------

team_app = LlmpathTyper(
    cls=LlmpathGroup,
    name="team",
    help="""A study group in one database: everyone's progress per phase or track, one learner's, a report.

    Each member connects with a database role of their own (`llmpath connect postgresql://NAME@HOST/DB`) and
    changes only their own progress; `llmpath team init` sets that up. On the local SQLite file the learners
    are the LLMPATH_LEARNER names used with it.

    Example: llmpath team status
    """,
    no_args_is_help=True,
)
app.add_typer(team_app)


class TeamSort(StrEnum):
    progress = "progress"
    activity = "activity"
    name = "name"


class TeamBy(StrEnum):
    phase = "phase"
    track = "track"


TeamTrack = Annotated[
    str | None,
    typer.Option(
        "--track",
        metavar="ID",
        help="Count only this track's topics (per phase).",
        autocompletion=complete_track,
        show_default=False,
    ),
]
TeamByOption = Annotated[
    TeamBy, typer.Option("--by", help="A column per phase, or per track of the roadmap.")
]
TeamSortOption = Annotated[
    TeamSort,
    typer.Option(
        "--sort", help="progress: most finished first, then most recent; activity: most recent first; name."
    ),
]


def _check_team_scope(track: str | None, by: TeamBy) -> None:
    if track is not None and by == TeamBy.track:
        raise typer.BadParameter(
            "--track counts one track per phase; --by track already shows every track", param_hint="--track"
        )


def _team_report(ctx: typer.Context, track_name: str | None, by: TeamBy, sort: TeamSort) -> Any:
    from llmpath import db, lookup, store, team

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id, edges=False)
        needs_tracks = track_name is not None or by == TeamBy.track
        tracks = store.load_tracks(session, workspace.roadmap_id) if needs_tracks else []
        learners = store.team_rows(session, workspace.roadmap_id)
    if by == TeamBy.track and not tracks:
        raise LlmpathError(
            f"roadmap '{workspace.roadmap_id}' has no tracks (a roadmap file lists them under `tracks:`)"
        )
    track = lookup.resolve_track(tracks, track_name) if track_name is not None else None
    return team.build(
        graph,
        learners,
        roadmap_id=workspace.roadmap_id,
        roadmap_title=workspace.title,
        by=by.value,
        track=track,
        tracks=tracks,
        sort=sort.value,
    )


@team_app.command("status")
def team_status(
    ctx: typer.Context,
    track: TeamTrack = None,
    by: TeamByOption = TeamBy.phase,
    sort: TeamSortOption = TeamSort.progress,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Everyone's progress: a row per learner with finished/total per phase (or per track), the total,
    percent and last activity.

    A learner is anyone with progress, history, a note, a goal or a followed track in the roadmap in use.
    Sorted by progress, then by the latest activity, then by name.

    Example: llmpath team status
    Example: llmpath team status --by track --sort activity
    """
    from llmpath import render, team

    _check_team_scope(track, by)
    report = _team_report(ctx, track, by, sort)
    if as_json:
        _print_json(team.as_dict(report))
        return
    console = _console()
    console.print(render.line((report.roadmap_title, "bold")))
    if report.track is not None:
        console.print(render.line(f"Track: {report.track.title} — only its topics count"))
    if not report.rows:
        console.print(
            "Nobody has progress in this roadmap yet: a member's first `llmpath done` shows here.",
            markup=False,
        )
        return
    console.print(render.team_table(report))


@team_app.command("show")
def team_show(
    ctx: typer.Context,
    learner: Annotated[
        str,
        typer.Argument(metavar="LEARNER", help="A learner as `team status` names them, or a unique prefix."),
    ],
    all_topics: Annotated[
        bool, typer.Option("--all", help="The whole roadmap, not only the track they follow.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One learner's progress per phase, as `llmpath status` shows your own (their followed track counts).

    Example: llmpath team show ada
    """
    from llmpath import db, render, store, team

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        known = store.team_activity(session, workspace.roadmap_id)
    name = team.resolve_learner(list(known), learner, f"roadmap '{workspace.roadmap_id}'")
    at = known[name]
    header = render.line(("Learner: ", "bold"), name, f" · last active {render.local(at)}" if at else "")
    extra = {"learner": name, "last_activity": at}
    _print_status(workspace, all_topics=all_topics, as_json=as_json, learner=name, extra=extra, header=header)


class TeamFormat(StrEnum):
    markdown = "markdown"
    csv = "csv"
    json = "json"


@team_app.command("export")
def team_export(
    ctx: typer.Context,
    format: Annotated[
        TeamFormat,
        typer.Option(
            "--format", "-f", help="markdown: a table for notes or an issue; csv: for a spreadsheet; json."
        ),
    ] = TeamFormat.markdown,
    output: OutputOption = None,
    force: ForceOption = False,
    track: TeamTrack = None,
    by: TeamByOption = TeamBy.phase,
    sort: TeamSortOption = TeamSort.progress,
) -> None:
    """A mentor's report of everyone's progress: a markdown table, CSV for a spreadsheet, or JSON (what
    `team status --json` prints, with the time it was made).

    Example: llmpath team export -o team.md
    Example: llmpath team export --format csv -o team.csv
    """
    from llmpath import files, store, team

    _check_team_scope(track, by)
    if files.is_stdout(output):
        output = None
    if output is not None and output.exists() and not force:
        raise LlmpathError(f"{output} already exists; use --force to overwrite it")
    report = _team_report(ctx, track, by, sort)
    at = store.now()
    if format == TeamFormat.csv:
        text = team.to_csv(report)
    elif format == TeamFormat.json:
        text = team.to_json(report, at)
    else:
        text = team.to_markdown(report, at)
    if output is None:
        sys.stdout.write(text if format != TeamFormat.json else json_escaped(text))
        return
    files.write_file_atomically(output, text, overwrite=force)
    _note(f"Wrote the {format.value} report of {len(report.rows)} learner(s) to {output}")


@team_app.command("init")
def team_init() -> None:
    """Set up a PostgreSQL database for a study group: run once, by the database's owner.

    Creates the tables and two group roles: llmpath_member reads everyone's progress and changes only that
    of the learner named like its own login role; llmpath_mentor reads everything and changes nothing.
    Row-level security enforces this whatever SQL a member sends. Running it again changes nothing. Then
    give each member a login role: CREATE ROLE alice LOGIN; GRANT llmpath_member TO alice;

    Example: llmpath team init
    """
    from llmpath import config
    from llmpath import paths as where

    target = config.target()
    if not target.url:
        raise LlmpathError(
            "`llmpath team init` sets up row-level security on a PostgreSQL database; progress is kept in "
            f"the local file {where.db_path()}, which only you use: `llmpath connect postgresql://…` first"
        )
    from sqlalchemy import exc as sa_exc

    from llmpath import db, postgres

    engine = db.open_database()  # reached, tables made or migrated, or one line saying why not
    shown = config.masked_url(target.url)
    try:
        done = postgres.team_init(engine)
    except sa_exc.DBAPIError as exc:
        if type(exc.orig).__name__ != "InsufficientPrivilege":
            raise
        detail = " ".join(str(exc.orig).split()).split("DETAIL:")[0].strip().rstrip(".")
        raise LlmpathError(
            f"the database at {shown} refused this ({detail}): `llmpath team init` is run by the database's "
            "owner, a role that may create roles (CREATEROLE); nothing was changed"
        ) from None
    console = _console()
    if done:
        console.print(f"Set up {shown} for a study group:", markup=False)
        for item in done:
            console.print(f"  {item}", markup=False)
    else:
        console.print(f"{shown} is already set up for a study group; nothing changed.", markup=False)
    console.print("A member:  CREATE ROLE alice LOGIN; GRANT llmpath_member TO alice;", markup=False)
    console.print("A mentor:  CREATE ROLE mentor LOGIN; GRANT llmpath_mentor TO mentor;", markup=False)
    console.print("Each then runs: llmpath connect postgresql://alice@HOST/DATABASE", markup=False)


@app.command()
def sync(ctx: typer.Context) -> None:
    """Re-load the roadmap file into the database now (it happens by itself when the file changes).

    Progress is kept: it is stored by topic id.

    Example: llmpath sync
    """
    from llmpath import db, store

    workspace = _workspace(ctx, force_sync=True)
    with db.reading(workspace.engine) as session:
        orphans = store.orphaned_progress(session, workspace.roadmap_id)
    _console().print(
        f"Loaded '{workspace.title}' ({workspace.sync.topics} topics) from {workspace.source_path}",
        markup=False,
    )
    if orphans:
        _note(f"kept progress on {len(orphans)} topic(s) no longer in the roadmap (see `llmpath status`)")


def _dashboard(ctx: typer.Context) -> None:
    from llmpath import db, planner, render, store

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph, statuses = store.load_state(session, workspace.roadmap_id)
        goals = _current_goals(session, workspace.roadmap_id, graph)
        track = _followed_track(session, workspace)
        reached = _reached(session, workspace, graph, statuses, goals, track)
    total = planner.total_progress(planner.phase_progress(graph, statuses, within=track and track.topics))
    items = planner.next_items(graph, statuses, within=planner.scope_of(track, goals), goals=goals, limit=3)
    console = _console()
    title = f"{workspace.title} · {track.title}" if track else workspace.title
    console.print(render.progress_line(title, total.finished, total.total))
    for reached_line in reached or []:
        console.print(reached_line)
    if items:
        console.print("Next up:")
        console.print(render.next_table(graph, items, show_total_unlocks=False))
    console.print("[dim]More: llmpath next · llmpath status · llmpath --help[/dim]")


@app.command()
def doctor(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Check the database (integrity, schema version, orphaned progress, disk) and the roadmap file in use.

    Read-only: it creates, migrates and changes nothing. A database that is locked, on a full or read-only
    disk, or damaged is told apart, with what to do. Exit code 1 if something is broken; warnings alone
    exit 0.

    Example: llmpath doctor
    """
    from llmpath import config, db, render
    from llmpath import doctor as checks
    from llmpath import paths as where

    target = config.target()
    override = (ctx.obj or Options()).roadmap
    if target.url:
        from llmpath import postgres

        findings = postgres.run_checks(target.url, target.learner, override)
    else:
        findings = checks.run_checks(where.db_path(), override)
    failed = [f for f in findings if not f.ok and not f.warning]
    if as_json:
        _print_json(
            [
                {"check": f.check, "ok": f.ok, "warning": f.warning, "detail": f.detail, "problem": f.problem}
                for f in findings
            ]
        )
        if failed:
            raise typer.Exit(1)
        return
    console = _console()
    for finding in findings:
        console.print(render.finding_line(finding.check, finding.ok, finding.warning, finding.detail))
    if target.url:
        console.print("· backups: the server's (pg_dump), and `llmpath export --format json`", markup=False)
        if failed:
            raise typer.Exit(1)
        return
    backups = db.list_backups()
    console.print(
        f"· backups: {len(backups)} in {where.backups_dir()}"
        + (f", newest {backups[0].name}" if backups else ""),
        markup=False,
    )
    if failed:
        if any(f.problem == checks.DAMAGED for f in failed):
            console.print(db.recovery_hint(where.db_path()))
        raise typer.Exit(1)


@app.command()
def restore(
    backup: Annotated[
        Path | None,
        typer.Argument(metavar="BACKUP", help="A backup file (default: the newest in the backups folder)."),
    ] = None,
) -> None:
    """Put back a backup of the database; the current one is kept (never deleted).

    A sound database is first backed up (reason before-restore: `llmpath restore` that file undoes the
    restore); a damaged one is kept as it is, as llmpath.db.damaged-…. `llmpath backups` lists the backups.

    Example: llmpath restore
    """
    from llmpath import db
    from llmpath import paths as where

    _sqlite_only("restore")
    restored = db.restore_backup(where.db_path(), backup)
    console = _console()
    console.print(f"Restored {restored.backup} to {where.db_path()}", markup=False)
    if restored.damaged:
        console.print(f"The damaged database is kept as {restored.previous}", markup=False)
    elif restored.previous:
        console.print(
            f"The previous database is backed up as {restored.previous} (to undo: llmpath restore "
            f"{restored.previous})",
            markup=False,
        )


@app.command("backups")
def backups_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the database backups llmpath keeps, newest first, with their reason, date and size.

    Kept per reason: the newest five taken before an import, a schema upgrade, a roadmap re-load and a
    restore, and one a day (before the day's first change) for a week.

    Example: llmpath backups
    """
    from llmpath import db, render
    from llmpath import paths as where

    _sqlite_only("backups")
    rows = [
        {"file": str(b.path), "reason": b.reason, "taken_at": b.taken_at.isoformat(), "bytes": b.size}
        for b in db.backups()
    ]
    if as_json:
        _print_json(rows)
        return
    console = _console()
    if not rows:
        console.print(f"No backups yet in {where.backups_dir()}", markup=False)
        return
    console.print(render.backups_table(rows))
    console.print(f"In {where.backups_dir()}; put one back with `llmpath restore FILE`", markup=False)


# --- several roadmaps -------------------------------------------------------------------------------------


@app.command()
def roadmaps(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """List the roadmaps this database knows, with progress; the one in use is marked.

    Example: llmpath roadmaps
    """
    from llmpath import db, render, store
    from llmpath import paths as where

    with db.reading(db.open_database()) as session:
        in_use = str(where.roadmap_path_in_use(store.load_settings(session), (ctx.obj or Options()).roadmap))
        known = store.list_roadmaps(session)
    for entry in known:
        entry["in_use"] = entry["source_path"] == in_use
    if as_json:
        _print_json(known)
        return
    console = _console()
    if not known:
        console.print("No roadmap loaded yet; `llmpath next` loads the shipped one.")
        return
    console.print(render.roadmaps_table(known))
    if not any(e["in_use"] for e in known):
        console.print(f"In use (not loaded yet): {in_use}", markup=False)


@app.command()
def use(
    roadmap: Annotated[
        str,
        typer.Argument(
            metavar="FILE|ID",
            help="A roadmap file, the id of a roadmap listed by `llmpath roadmaps`, or 'default'.",
        ),
    ],
) -> None:
    """Choose the roadmap later commands use (until `llmpath use default`).

    The file is validated and loaded first; an invalid file changes nothing. A roadmap id works from the
    database even when its file has moved or has an error (with a warning). `--roadmap FILE` and
    LLMPATH_ROADMAP still override it for a single command.

    Example: llmpath use my.yaml   # a roadmap file, e.g. from `llmpath init`
    Example: llmpath use default   # back to the shipped LLM roadmap
    """
    from llmpath import db, store, sync
    from llmpath import paths as where

    engine = db.open_database()
    by_id = False  # a roadmap id works from the database even when its file moved or broke (with a warning)
    if roadmap in ("default", "shipped"):
        path = where.shipped_roadmap_path()
        chosen = None
    else:
        candidate = Path(roadmap).expanduser()
        if not candidate.exists():
            with db.reading(engine) as session:
                source = store.roadmap_source(session, roadmap)
            if source is None:
                raise LlmpathError(
                    f"'{roadmap}' is neither a file nor a known roadmap id (see `llmpath roadmaps`)"
                )
            candidate = Path(source)
            by_id = True
        path = candidate.resolve()
        chosen = str(path)
    loaded, report = sync.ensure_synced(engine, path, keep_last=by_id)
    with db.writing(engine) as session:
        store.set_setting(session, vocab.ROADMAP_SETTING, chosen)
    _report_sync(report)
    _console().print(f"Now using '{loaded.title}' ({loaded.id}) from {path}", markup=False)


@app.command()
def init(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the starter roadmap.")] = Path(
        "roadmap.yaml"
    ),
) -> None:
    """Write a small, valid, commented starter roadmap to edit (never overwrites).

    Example: llmpath init my.yaml && llmpath use my.yaml
    """
    from llmpath import files
    from llmpath.starter import STARTER_ROADMAP

    files.write_file_atomically(file, STARTER_ROADMAP, overwrite=False, exists_hint="choose another name")
    _console().print(
        f"Wrote {file}. Edit it, check it with `llmpath validate {file}`, then `llmpath use {file}`."
    )


@app.command()
def fork(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy.")] = Path(
        "llm-roadmap.yaml"
    ),
) -> None:
    """Copy the shipped LLM roadmap to a file to trim or extend; ids stay, so progress carries over.

    Example: llmpath fork mine.yaml && llmpath use mine.yaml
    """
    from llmpath import files
    from llmpath import paths as where

    shipped = where.shipped_roadmap_path().read_text(encoding="utf-8")
    header = (
        "# A copy of llmpath's LLM roadmap. Keep `id:` and the topic ids to keep your progress;\n"
        "# to rename a topic, list its old id under `replaces:`. Check edits with `llmpath validate`.\n"
    )
    files.write_file_atomically(file, header + shipped, overwrite=False, exists_hint="choose another name")
    _console().print(f"Wrote {file}. Start using it with `llmpath use {file}`.", markup=False)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The roadmap file to check.")],
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> None:
    """Check a roadmap file: every error (file:line, topic, what, hint), then likely mistakes as warnings.

    Exit code 0 when valid, 1 when not (or, with --strict, when there are warnings).

    Example: llmpath validate my.yaml
    """
    from llmpath.roadmap import validate_file

    roadmap, errors, warnings, error_count, warning_count = validate_file(file)
    for problem in errors:
        _note(f"error: {problem.format(str(file))}")
    if error_count > len(errors):
        _note(f"error: … and {error_count - len(errors):,} more, not listed")
    for problem in warnings:
        _note(f"warning: {problem.format(str(file))}")
    if warning_count > len(warnings):
        _note(f"warning: … and {warning_count - len(warnings):,} more, not listed")
    if roadmap is None:
        _note(f"{file}: invalid — {error_count:,} error(s)")
        raise typer.Exit(1)
    sys.stdout.write(
        visible(f"{file}: valid — '{roadmap.id}', {len(roadmap.topics())} topics in {len(roadmap.phases)} ")
        + f"phases, {warning_count:,} warning(s)\n"
    )
    if strict and warning_count:
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of roadmap files, for editors with a YAML language server.

    Example: llmpath schema > roadmap.schema.json
    """
    from llmpath.roadmap import json_schema

    _print_json(json_schema())


# --- goals, paths, notes ----------------------------------------------------------------------------------


@app.command()
def goal(
    ctx: typer.Context,
    topics: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="TOPIC", help="Target topics.", autocompletion=complete_topic, show_default=False
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the goal.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Set, show or clear the topics you aim for; `next` then offers only what leads there.

    Example: llmpath goal rag agents
    """
    from llmpath import db, lookup, planner, render, store

    workspace = _workspace(ctx)
    with db.writing(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id)
        if clear:
            store.set_goals(session, roadmap_id=workspace.roadmap_id, topic_ids=[])
        elif topics:
            aliases = store.load_aliases(session, workspace.roadmap_id)
            chosen = lookup.resolve_topics(graph, aliases, topics)
            statuses = store.load_statuses(session, workspace.roadmap_id)
            finished = planner.already_finished(statuses, chosen)
            if finished:  # raised before any write: the goal stays as it was
                raise LlmpathError(_finished_goal_message(graph, statuses, finished))
            store.set_goals(session, roadmap_id=workspace.roadmap_id, topic_ids=chosen)
        goals = store.load_goals(session, workspace.roadmap_id)
        statuses = store.load_statuses(session, workspace.roadmap_id)
    goals = [g for g in goals if g in graph.topics]
    remaining = planner.study_path(graph, statuses, goals)
    hours_left = sum(graph.topics[t].hours or 0 for t in remaining)
    if as_json:
        _print_json({"goals": goals, "remaining": remaining, "hours_left": hours_left})
        return
    console = _console()
    if not goals:
        console.print("No goal set." + (" (cleared)" if clear else " Set one with `llmpath goal TOPIC`."))
        return
    titles = ", ".join(f"{graph.topics[g].title} ({g})" for g in goals)
    if not remaining:  # set earlier, finished since
        reached = planner.goal_reached(graph, statuses, goals)
        if reached is not None:
            names = {g: graph.topics[g].title for g in goals}
            for reached_line in render.reached_lines(reached, ("new-goal", "clear-goal"), names):
                console.print(reached_line)
            return
    count = f"{len(remaining)} topic{'' if len(remaining) == 1 else 's'}"
    console.print(render.line(f"Goal: {titles} — {count}, about {hours_left:.0f} h to go."))
    console.print(
        "[dim]`llmpath next` now shows only topics on the way; `llmpath path` lists them all.[/dim]"
    )


def _finished_goal_message(graph: Any, statuses: dict[str, str], finished: list[str]) -> str:
    """One line: which named topics are finished already, and that the goal did not change."""
    from llmpath import render

    names = ", ".join(
        f"{render.topic_ref(graph.topics[t].title, t)} is already {statuses[t]}" for t in finished
    )
    return (
        f"{names}: a goal must be a topic still to do, so the goal is unchanged (`llmpath next` shows those)"
    )


@app.command()
def track(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="TRACK",
            help="Follow this track (an id, a title or a unique id prefix).",
            autocompletion=complete_track,
            show_default=False,
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Stop following a track.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the roadmap's tracks with your progress in each, or follow one.

    A track is a way through the roadmap for one kind of learner: a few goal topics and everything they
    require. While you follow one, `next`, `status` and the dashboard keep to its topics. A goal set with
    `llmpath goal` is more specific, so `next` leads to the goal first.

    Example: llmpath track application-engineer
    """
    from llmpath import db, lookup, planner, render, store

    if name and clear:
        raise typer.BadParameter("give a TRACK to follow or --clear, not both")
    workspace = _workspace(ctx)
    key = vocab.track_setting(workspace.roadmap_id)
    # Only following or clearing writes; listing must not queue behind other writers.
    with (db.writing if name or clear else db.reading)(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id, edges=False)
        statuses = store.load_statuses(session, workspace.roadmap_id)
        tracks = store.load_tracks(session, workspace.roadmap_id)
        if clear:
            store.set_setting(session, key, None)
        elif name:
            store.set_setting(session, key, lookup.resolve_track(tracks, name).id)
        settings = store.load_settings(session)
        goals = store.load_goals(session, workspace.roadmap_id) if name else []
    following = store.followed_track(settings, tracks, workspace.roadmap_id)
    rows = planner.track_overview(graph, statuses, tracks, following and following.id)
    if as_json:
        _print_json(rows)
        return
    console = _console()
    if clear:
        console.print("Not following a track: `llmpath next` offers the whole roadmap.")
        return
    if name and following:
        row = next(r for r in rows if r["following"])
        finished = row["done"] + row["skipped"]
        console.print(
            render.line(
                f"Following track {following.title} ({following.id}): {row['total']} topics, "
                f"{finished} finished, about {row['hours_left']:.0f} h to go."
            )
        )
        console.print(
            "[dim]`llmpath next` and `llmpath status` now keep to it; `--all` shows everything.[/dim]"
        )
        if goals:
            console.print(
                "[dim]Your goal still comes first in `llmpath next` (`llmpath goal --clear`).[/dim]"
            )
        return
    if not rows:
        message = f"{workspace.title} has no tracks; `llmpath next` offers the whole roadmap."
        console.print(render.line(message))
        return
    console.print(render.tracks_table(rows))
    hint = (
        "Follow one with `llmpath track ID`."
        if following is None
        else "`llmpath track --clear` stops following."
    )
    console.print(f"[dim]{hint}[/dim]")


@app.command()
def path(
    ctx: typer.Context,
    topics: Annotated[
        list[str],
        typer.Argument(metavar="TOPIC", help="Where you want to get to.", autocompletion=complete_topic),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every topic still to do before TOPIC, in a valid study order, with hours and the total.

    Does not set a goal (see `llmpath goal`).

    Example: llmpath path rag
    """
    from llmpath import db, lookup, planner, render, store

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id)
        targets = lookup.resolve_topics(graph, store.load_aliases(session, workspace.roadmap_id), topics)
        statuses = store.load_statuses(session, workspace.roadmap_id)
    order = planner.study_path(graph, statuses, targets)
    total = sum(graph.topics[t].hours or 0 for t in order)
    if as_json:
        _print_json(
            {
                "targets": targets,
                "path": [
                    {
                        "id": t,
                        "title": graph.topics[t].title,
                        "status": planner.status_of(statuses, t),
                        "hours": graph.topics[t].hours,
                    }
                    for t in order
                ],
                "hours": total,
            }
        )
        return
    console = _console()
    if not order:
        console.print("Nothing left: " + ", ".join(targets) + " already done or skipped.")
        return
    states = {t: planner.topic_state(graph, statuses, t) for t in order}
    console.print(render.path_table(graph, order, states, total))


@app.command()
def note(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(metavar="TOPIC", help="The topic.", autocompletion=complete_topic)],
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="TEXT",
            help="The note; '-' reads it from standard input. With --edit: the number of a note to change "
            "(omit it to write a new note).",
            show_default=False,
        ),
    ] = None,
    edit: Annotated[
        bool,
        typer.Option(
            "--edit", "-e", help="Write a longer note in $EDITOR; `--edit N` changes note N instead."
        ),
    ] = False,
    delete: Annotated[
        int | None,
        typer.Option("--delete", metavar="N", min=1, help="Delete note N.", show_default=False),
    ] = None,
) -> None:
    """Add a dated note to a topic, or change or delete one; notes show in `notes`, `show` and both exports.

    N is a note's number in `llmpath notes TOPIC`: a topic's notes are numbered 1, 2, … oldest first.

    Example: llmpath note lora "rank 8 was enough for my 7B run"
    """
    from llmpath import db, lookup, store

    if delete is not None and (edit or text is not None):
        raise typer.BadParameter("--delete N takes no note text and no --edit", param_hint="'--delete'")
    if delete is not None or (edit and text is not None):
        number = delete if delete is not None else _note_number(text or "")
        _change_note(ctx, topic, number, delete=delete is not None)
        return
    if edit:
        text = _note_from_editor("")
    elif text == "-":
        text = _read_note_from_stdin()
    if not text or not text.strip():
        raise LlmpathError("the note is empty; nothing saved")
    store.check_note(text.strip())
    workspace = _workspace(ctx)
    with db.writing(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id)
        topic_id = lookup.resolve_topic(graph, store.load_aliases(session, workspace.roadmap_id), topic)
        store.add_note(
            session, roadmap_id=workspace.roadmap_id, topic_id=topic_id, text=text.strip(), at=store.now()
        )
    _console().print(f"Noted on {graph.topics[topic_id].title} ({topic_id}).", markup=False)


def _note_number(text: str) -> int:
    """The N of `note TOPIC --edit N`, checked before any I/O."""
    if not text.isdecimal() or int(text) < 1:
        raise typer.BadParameter(
            f"'{text}' is not a note number: `--edit N` changes note N (1, 2, … as `llmpath notes TOPIC` "
            "lists them); `--edit` alone writes a new note",
            param_hint="'--edit'",
        )
    return int(text)


def _change_note(ctx: typer.Context, topic: str, number: int, *, delete: bool) -> None:
    """`note TOPIC --delete N` (one transaction), or `--edit N`: read the note, edit it with no transaction
    open (an editor may stay open for an hour), then write it back."""
    from llmpath import db, render, store

    workspace = _workspace(ctx)
    with (db.writing if delete else db.reading)(workspace.engine) as session:
        topic_id, title = _noted_topic(session, workspace.roadmap_id, topic)
        old = store.note_by_number(session, roadmap_id=workspace.roadmap_id, topic_id=topic_id, number=number)
        if delete:
            store.delete_note(session, roadmap_id=workspace.roadmap_id, note_id=old.id)
    console = _console()
    name = render.topic_ref(title, topic_id)
    if delete:
        first = old.text.splitlines()[0] if old.text else ""
        shown = first if len(first) <= 60 and first == old.text else first[:57].rstrip() + "…"
        console.print(render.line(f"Deleted note {number} on {name}: {shown}"))
        return
    text = _note_from_editor(old.text)
    if not text.strip():
        raise LlmpathError(
            f"the note is empty; nothing saved (`llmpath note {topic_id} --delete {number}` deletes it)"
        )
    if text.strip() == old.text:
        console.print(render.line(f"Note {number} on {name} is unchanged."))
        return
    store.check_note(text.strip())
    with db.writing(workspace.engine) as session:
        store.update_note(session, roadmap_id=workspace.roadmap_id, note_id=old.id, text=text.strip())
    console.print(render.line(f"Changed note {number} on {name}."))


def _noted_topic(session: Any, roadmap_id: str, name: str) -> tuple[str, str]:
    """`(topic id, title)` of the topic whose notes are meant: a topic of the roadmap, or the exact id of a
    topic the roadmap no longer has but that still has notes (so they can be listed, fixed and removed)."""
    from llmpath import lookup, store
    from llmpath.errors import TopicNotFound

    graph = store.load_graph(session, roadmap_id, edges=False)
    try:
        topic_id = lookup.resolve_topic(graph, store.load_aliases(session, roadmap_id), name)
    except TopicNotFound:
        if not store.list_notes(session, roadmap_id=roadmap_id, topic_id=name):
            raise
        return name, name
    return topic_id, graph.topics[topic_id].title


_SCISSORS = "# ------------------------ >8 ------------------------"


def _note_from_editor(current: str) -> str:
    """A note written in $EDITOR, starting from `current`. Everything from the scissors line down is
    ignored, so lines of the note that start with # (a markdown heading) are kept; if the scissors line
    was deleted, lines starting with # are dropped instead."""
    draft = _edit_text(
        f"{current}\n\n{_SCISSORS}\n# Write the note above this line; it and all below it are ignored.\n"
    )
    lines = draft.splitlines()
    if _SCISSORS in lines:
        return "\n".join(lines[: lines.index(_SCISSORS)]).strip()
    return "\n".join(line for line in lines if not line.startswith("#")).strip()


def _read_note_from_stdin() -> str:
    """`note TOPIC -`: the note is standard input, until end of file."""
    if sys.stdin.isatty():
        _note("Reading the note from standard input; end it with Ctrl-D (Ctrl-Z, Enter on Windows).")
    from llmpath.store import MAX_NOTE_BYTES

    try:
        # No more than can be a note (a character is at least a byte): `check_note` refuses a longer one, and
        # a huge stream is never held in memory.
        return sys.stdin.read(MAX_NOTE_BYTES + 1)
    except UnicodeDecodeError:
        raise LlmpathError("standard input is not UTF-8 text; nothing saved") from None


@app.command()
def notes(
    ctx: typer.Context,
    topic: Annotated[
        str | None,
        typer.Argument(
            metavar="TOPIC",
            help="Only this topic's notes (default: every note of the roadmap).",
            autocompletion=complete_topic,
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List notes, numbered per topic (1 is the oldest): the N that `note TOPIC --edit N` and
    `note TOPIC --delete N` take.

    Example: llmpath notes lora
    """
    from llmpath import db, planner, render, store

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id, edges=False)
        topic_id = _noted_topic(session, workspace.roadmap_id, topic)[0] if topic is not None else None
        rows = store.list_notes(session, roadmap_id=workspace.roadmap_id, topic_id=topic_id)
    listed = planner.number_notes(graph, [(n.topic_id, n.at, n.text) for n in rows])
    if as_json:
        _print_json(listed)
        return
    console = _console()
    if not listed:
        if topic_id is None:
            console.print("No notes yet. Add one with `llmpath note TOPIC TEXT`.")
        else:
            title = graph.topics[topic_id].title if topic_id in graph.topics else topic_id
            console.print(render.line(f"No notes on {render.topic_ref(title, topic_id)} yet."))
        return
    if topic_id is not None:
        console.print(render.line((render.topic_ref(listed[0]["title"], topic_id), "bold")))
    console.print(render.notes_listing(listed, with_topics=topic_id is None))


def _edit_text(initial: str) -> str:
    """Open $VISUAL / $EDITOR (else vi) on a temporary file and return what was saved."""
    import os
    import shlex
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory() as folder:
        draft = Path(folder) / "note.md"
        draft.write_text(initial, encoding="utf-8")
        try:
            finished = subprocess.run([*shlex.split(editor), str(draft)], check=False)
        except OSError as exc:
            raise LlmpathError(f"cannot start editor '{editor}': {exc.strerror}; set EDITOR") from None
        if finished.returncode != 0:
            raise LlmpathError(f"editor '{editor}' exited with status {finished.returncode}; nothing saved")
        try:
            return draft.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise LlmpathError(f"editor '{editor}' saved text that is not UTF-8; nothing saved") from None


# --- history, pace, review --------------------------------------------------------------------------------


# Option values are checked by callbacks while the command line is parsed, so a bad one is a usage error
# (exit code 2) that says what is accepted, before any file or the database is opened.


def _parse_duration(text: str, accepted: str = "a span like 60d, 8w or 12h") -> Any:
    """'60d', '8w', '12h' or a number of days."""
    import math
    from datetime import timedelta

    units = {"d": 1.0, "w": 7.0, "h": 1 / 24}
    value, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "d")
    try:
        amount = float(value)
    except ValueError:
        amount = math.nan
    if not math.isfinite(amount):
        raise typer.BadParameter(
            f"'{text}' is not {accepted} (d: days, w: weeks, h: hours; a number is days)"
        )
    if amount <= 0 or amount * units[unit] > 36500:
        raise typer.BadParameter(f"'{text}' must be more than 0 and at most 100 years")
    return timedelta(days=amount * units[unit])


def _parse_since(text: str) -> Any:
    """A date (YYYY-MM-DD, local midnight) as a UTC datetime, or a span back from now as a timedelta."""
    import re
    from datetime import UTC, date, datetime

    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            try:
                date(*(int(part) for part in text.split("-")))
                why = ""
            except ValueError as exc:
                why = f" ({exc})"
            raise typer.BadParameter(
                f"'{text}' is not a date{why}: dates like 2026-11-01 and spans like 7d or 2w are accepted"
            ) from None
        return _parse_duration(text, "a date like 2026-11-01 or a span like 7d, 2w or 12h")
    return day.astimezone().astimezone(UTC)


def _check_span(value: str | None) -> str | None:
    if value is not None:
        _parse_duration(value)
    return value


def _check_since(value: str | None) -> str | None:
    if value is not None:
        _parse_since(value)
    return value


@app.command()
def log(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE|SPAN",
            callback=_check_since,
            help="Only changes since a date (2026-11-01) or for a span (7d, 2w).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", min=1, help="At most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recent status changes, newest first.

    Example: llmpath log --since 7d
    """
    from datetime import timedelta

    from llmpath import db, render, store

    start = _parse_since(since) if since else None
    if isinstance(start, timedelta):
        start = store.now() - start
    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        graph = store.load_graph(session, workspace.roadmap_id, edges=False)
        events = store.load_events(session, workspace.roadmap_id, since=start, limit=limit)
    rows = [
        {
            "at": e.at,
            "id": e.topic_id,
            "title": graph.topics[e.topic_id].title if e.topic_id in graph.topics else e.topic_id,
            "from": e.old_status,
            "to": e.new_status,
        }
        for e in events
    ]
    if as_json:
        _print_json(rows)
        return
    console = _console()
    if not rows:
        console.print("No changes recorded" + (f" since {since}." if since else " yet."))
        return
    console.print(render.log_table(rows))


@app.command()
def stats(
    ctx: typer.Context,
    weeks: Annotated[
        int, typer.Option("--weeks", "-w", metavar="N", min=1, max=104, help="How many weeks to chart.")
    ] = 8,
    eta: Annotated[
        bool | None,
        typer.Option(
            "--eta/--no-eta",
            help="Estimate finish dates from your pace (default: `llmpath config eta`).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Topics and hours completed per week, your streak of active days, and (opt-in) finish estimates.

    Estimates divide the hours left (phases in roadmap order, one after the other) by your pace: the hours
    of the topics you finished in the last 28 days, per week (a rolling window, so a new week does not
    move it). They are off unless you ask (--eta, or `llmpath config eta on`), since deadlines stress
    some learners.

    Example: llmpath stats --eta
    """
    from llmpath import db, pace, planner, render, store

    workspace = _workspace(ctx)
    now = store.now()
    with db.reading(workspace.engine) as session:
        graph, statuses = store.load_state(session, workspace.roadmap_id)
        events = store.load_events(session, workspace.roadmap_id)
    show_eta = eta if eta is not None else workspace.settings.get(vocab.ETA_SETTING) == "on"
    completed = pace.completions(events, statuses)
    hours = {t.id: t.hours for t in graph.topics.values()}
    chart = pace.weekly(completed, hours, now, weeks)
    streak = pace.streak([e.at for e in events], now)
    recent = pace.measure(completed, hours, now)
    per_week = recent.hours_per_week
    rows = planner.phase_progress(graph, statuses)
    total = planner.total_progress(rows)
    estimates = [
        {
            "phase": e.phase_id,
            "title": e.title,
            "hours_left": e.hours_left,
            "finish": e.finish and e.finish.isoformat(),
        }
        for e in pace.finish_estimates(
            [(r.phase.id, r.phase.title, r.hours_left) for r in rows], per_week, now
        )
    ]
    if estimates:
        # The whole roadmap finishes with its last phase.
        estimates.append(
            {
                **estimates[-1],
                "phase": total.phase.id,
                "title": total.phase.title,
                "hours_left": total.hours_left,
            }
        )
    weeks_data = [{"start": w.start.isoformat(), "topics": w.topics, "hours": w.hours} for w in chart]
    eta_data = estimates if show_eta else None
    report = {
        "weeks": weeks_data,
        "streak_days": streak,
        "hours_per_week": round(per_week, 2),
        "done": total.done,
        "total": total.total,
        "eta": eta_data,
    }
    if as_json:
        _print_json(report)
        return
    console = _console()
    console.print(render.weeks_table(weeks_data))
    console.print(
        f"Streak: {streak} day(s) in a row · pace {per_week:.1f} h/week over the last {recent.days} days"
    )
    if eta_data and per_week <= 0 and total.hours_left > 0:
        # One line, not one per phase: the reason is the same for all of them.
        console.print(render.no_estimate_line(recent.topics, recent.days, total.hours_left))
        return
    for estimate in eta_data or []:
        console.print(
            f"  {estimate['title']}: {estimate['hours_left']:.0f} h left → {estimate['finish']}", markup=False
        )


@app.command()
def review(
    ctx: typer.Context,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            metavar="SPAN",
            callback=_check_span,
            help="Bring done topics back after this long (60d, 8w, 12h).",
        ),
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Turn review off.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Spaced review: topics done longer ago than an interval come back in `next` until done again.

    Off by default.

    Example: llmpath review --every 60d
    """
    from llmpath import db, store

    interval_days = _parse_duration(every).total_seconds() / 86400 if every and not off else None
    workspace = _workspace(ctx)
    with db.writing(workspace.engine) as session:
        if off:
            store.set_setting(session, vocab.REVIEW_SETTING, None)
        elif interval_days is not None:
            store.set_setting(session, vocab.REVIEW_SETTING, f"{interval_days:g}")
        settings = store.load_settings(session)
        interval = store.review_interval(settings)
        graph, statuses = store.load_state(session, workspace.roadmap_id)
        due = _review_due(session, workspace.roadmap_id, graph, statuses, settings)
    if as_json:
        _print_json(
            {
                "every_days": interval.total_seconds() / 86400 if interval else None,
                "due": [{"id": t, "title": graph.topics[t].title} for t in due],
            }
        )
        return
    console = _console()
    if interval is None:
        console.print("Review is off. Turn it on with `llmpath review --every 60d`.")
        return
    days = interval.total_seconds() / 86400
    after = f"{days:g} day(s)" if days >= 1 else f"{days * 24:g} hour(s)"
    console.print(f"Review is on: done topics come back after {after}. {len(due)} due now.")
    for topic_id in due:
        console.print(f"  ↻ {graph.topics[topic_id].title} ({topic_id})", markup=False)


@app.command()
def config(
    key: Annotated[str | None, typer.Argument(metavar="KEY", help="Setting name: eta.")] = None,
    value: Annotated[str | None, typer.Argument(metavar="VALUE", help="New value: on or off.")] = None,
) -> None:
    """Show or change preferences (eta: show finish estimates in `stats` by default).

    Example: llmpath config eta on
    """
    from llmpath import db, store

    known = vocab.CONFIG_SETTINGS
    if key is not None and key not in known:
        raise typer.BadParameter(f"unknown setting '{key}'; settings: {', '.join(known)}", param_hint="'KEY'")
    if key and value is not None and value not in known[key]:
        raise typer.BadParameter(
            f"{key} takes {' or '.join(known[key])}, not '{value}'", param_hint="'VALUE'"
        )
    engine = db.open_database()
    if key and value is not None:
        with db.writing(engine) as session:
            store.set_setting(session, key, value)
    with db.reading(engine) as session:
        settings = store.load_settings(session)
    for name in [key] if key else list(known):
        _console().print(f"{name} = {settings.get(name) or 'off'}")


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


@app.command()
def graph(
    ctx: typer.Context,
    phase: Annotated[
        str | None,
        typer.Option(
            "--phase", "-p", metavar="PHASE", help="Only this phase.", autocompletion=complete_phase
        ),
    ] = None,
    goal_topic: Annotated[
        str | None,
        typer.Option(
            "--goal",
            metavar="TOPIC",
            help="Only what is still to do before TOPIC.",
            autocompletion=complete_topic,
        ),
    ] = None,
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="mermaid (GitHub renders it) or dot (Graphviz).")
    ] = GraphFormat.mermaid,
    markdown: Annotated[
        bool,
        typer.Option("--markdown", help="Wrap the chart in a ```mermaid (or ```dot) fence, ready to paste."),
    ] = False,
) -> None:
    """Print the prerequisite graph, nodes styled by status (done, doing, available, blocked).

    Example: llmpath graph --goal rag > rag.mmd
    Example: llmpath graph --format dot | dot -Tsvg > roadmap.svg
    """
    from llmpath import db, graphs, lookup, planner, store

    workspace = _workspace(ctx)
    with db.reading(workspace.engine) as session:
        full = store.load_graph(session, workspace.roadmap_id)
        statuses = store.load_statuses(session, workspace.roadmap_id)
        aliases = store.load_aliases(session, workspace.roadmap_id)
    only: set[str] | None = None
    if phase:
        only = set(full.phase_topics(lookup.resolve_phase(full, phase)))
    if goal_topic:
        target = lookup.resolve_topic(full, aliases, goal_topic)
        on_the_way = planner.open_ancestors(full, statuses, [target]) | {target}
        only = on_the_way if only is None else only & on_the_way
    render_graph = graphs.dot if format == GraphFormat.dot else graphs.mermaid
    chart = render_graph(full, statuses, only)
    sys.stdout.write(graphs.fenced(chart, format.value) if markdown else chart)


@app.command()
def report(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write here ('-': stdout; default: llmpath-report.html in this folder).",
            dir_okay=False,
            allow_dash=True,
            show_default=False,
        ),
    ] = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open the report in your web browser.")] = False,
    track_name: Annotated[
        str | None,
        typer.Option(
            "--track",
            metavar="TRACK",
            help="Only this track's topics.",
            autocompletion=complete_track,
            show_default=False,
        ),
    ] = None,
    goal_only: Annotated[
        bool, typer.Option("--goal", help="Only your goals and everything they require.")
    ] = False,
    phase: Annotated[
        str | None,
        typer.Option(
            "--phase", "-p", metavar="PHASE", help="Only this phase.", autocompletion=complete_phase
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite an existing file that is not an earlier report."),
    ] = False,
) -> None:
    """Write an HTML progress report: a map of the roadmap with your progress on it, to look at or share.

    One self-contained file that loads nothing from the network: progress per phase, the prerequisite map
    (hover a topic to see what it requires and unlocks, click it for its details, resources and notes),
    your weekly activity and, with `llmpath config eta on`, finish estimates. The map shows the whole
    roadmap, your goal's or followed track's topics outlined; --track, --goal and --phase narrow it. An
    earlier report is replaced; any other existing file only with --force.

    Example: llmpath report -o report.html
    """
    from llmpath import files
    from llmpath import report as reporting

    to_stdout = files.is_stdout(output)
    if to_stdout and open_it:
        raise typer.BadParameter("--open needs a file, not standard output", param_hint="'--open'")
    target = None if to_stdout else (output or Path(reporting.DEFAULT_FILE))
    overwrite = force
    if target is not None and (target.exists() or target.is_symlink()) and not force:
        if not reporting.is_report_file(target):
            raise LlmpathError(
                f"{target} already exists and is not an llmpath report; use --force to overwrite it"
            )
        overwrite = True
    page = reporting.build_report(_report_input(ctx, track_name, goal_only, phase))
    if target is None:
        sys.stdout.write(page)
        return
    files.write_file_atomically(target, page, overwrite=overwrite)
    _note(f"Wrote the report to {target}")
    if open_it:
        import webbrowser

        webbrowser.open(target.resolve().as_uri())


def _report_input(ctx: typer.Context, track_name: str | None, goal_only: bool, phase: str | None) -> Any:
    """What `report` shows, loaded in one read transaction: the graph, progress, details, notes, history."""
    from llmpath import db, lookup, planner, store
    from llmpath import report as reporting

    workspace = _workspace(ctx)
    rid = workspace.roadmap_id
    with db.reading(workspace.engine) as session:
        graph, statuses = store.load_state(session, rid)
        fields = store.load_all_topic_fields(session, rid)
        progress = store.load_progress(session, rid)
        notes = store.load_notes(session, rid)
        events = store.load_events(session, rid)
        goals = _current_goals(session, rid, graph)
        track = _followed_track(session, workspace)
        tracks = store.load_tracks(session, rid) if track_name else []
    only: set[str] | None = None
    scope: list[str] = []
    if phase:
        phase_id = lookup.resolve_phase(graph, phase)
        only = set(graph.phase_topics(phase_id))
        scope.append(f"Phase: {next(p.title for p in graph.phases if p.id == phase_id)}")
    if track_name:
        chosen = lookup.resolve_track(tracks, track_name)
        only = set(chosen.topics) if only is None else only & set(chosen.topics)
        scope.append(f"Track: {chosen.title}")
    if goal_only:
        if not goals:
            raise LlmpathError("no goal is set; set one with `llmpath goal TOPIC`, or leave out --goal")
        wanted = planner.open_ancestors(graph, {}, goals)  # no status given: done ones count too
        only = wanted if only is None else only & wanted
        scope.append("Goal: " + ", ".join(graph.topics[g].title for g in goals))
    if only is not None and not only:
        raise LlmpathError(f"no topic is in {' and '.join(scope)}; nothing to show")
    by_topic: dict[str, list[tuple[Any, str]]] = {}
    for note_row in notes:
        by_topic.setdefault(note_row.topic_id, []).append((note_row.at, note_row.text))
    return reporting.ReportInput(
        title=workspace.title,
        graph=graph,
        statuses=statuses,
        now=store.now(),
        fields=fields,
        dates={t: (p.started_at, p.finished_at) for t, p in progress.items()},
        notes=by_topic,
        events=events,
        goals=goals,
        track=track,
        only=None if only is None else frozenset(only),
        scope=" · ".join(scope) or None,
        eta=workspace.settings.get(vocab.ETA_SETTING) == "on",
        version=__version__,
    )


def main() -> None:
    """Console-script entry point."""
    app(prog_name="llmpath")
