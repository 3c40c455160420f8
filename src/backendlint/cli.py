"""The command line: ``backendlint check|rules|rule|docs|schema``.

Exit codes: 0 nothing at or above ``fail-on``; 1 findings; 2 usage, configuration
or internal error (one line on stderr, never a traceback unless ``--debug``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Optional, Sequence, Tuple

import click

from backendlint import __version__
from backendlint.baseline import DEFAULT_FILE as DEFAULT_BASELINE_FILE
from backendlint.engine.cache import DEFAULT_DIR as DEFAULT_CACHE_DIR
from backendlint.reporters import FORMATS, ReportOptions

if TYPE_CHECKING:  # pragma: no cover
    from backendlint.config import Settings
    from backendlint.registry import Registry
    from backendlint.types import RunResult

# Only what every command needs is imported above: ``--version``, ``--help`` and a small
# pre-commit run must not pay for the engine, LibCST, sqlglot or rich before they use them.

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROGRESS_MIN_FILES = 200


class UserError(click.ClickException):
    """A problem the user can fix; printed as one line, exit 2."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"backendlint: error: {self.format_message()}", err=True)


def _split(values: Sequence[str]) -> List[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _color_wanted(no_color: bool, output: Optional[str]) -> bool:
    if no_color or output or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _user_errors() -> Tuple[type, ...]:
    from backendlint.baseline import BaselineError
    from backendlint.config import ConfigError
    from backendlint.gitdiff import GitError
    from backendlint.registry import RegistryError

    return (ConfigError, RegistryError, BaselineError, GitError)


def _guard(debug: bool, action: Callable[[], int]) -> int:
    try:
        return action()
    except click.ClickException:
        raise
    except KeyboardInterrupt:
        click.echo("backendlint: interrupted", err=True)
        return 130
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            raise UserError(str(exc)) from None
        if debug:
            import traceback

            traceback.print_exc()
        raise UserError(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        ) from None


def _registry() -> Registry:
    from backendlint.registry import default_registry

    return default_registry()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="backendlint")
def main() -> None:
    """A static-analysis linter for Python backends."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated; replaces the config).")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the config.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Read settings from FILE.")
@click.option("--fail-on", type=click.Choice(["info", "low", "medium", "high"]), help="Lowest severity that fails the run.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--no-color", is_flag=True, help="Plain text output.")
@click.option("--report-unused-ignores", is_flag=True, help="Report suppression comments that suppress nothing (BL002).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal and rule errors.")
@click.option("--max-file-size", help='Skip files larger than this ("5MB", bytes; 0: no limit).')
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: the number of CPUs).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the findings cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Cache directory (default: .backendlint_cache at the project root).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path), help="Report only findings this baseline file does not record.")
@click.option("--no-baseline", is_flag=True, help="Ignore the baseline file named in the config.")
@click.option("--diff", "diff_ref", metavar="REF", help="Report only findings on lines changed since the git REF (a branch, tag or commit).")
def check(
    paths: Tuple[Path, ...],
    select: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    fmt: str,
    output: Optional[Path],
    config_file: Optional[Path],
    fail_on: Optional[str],
    exit_zero: bool,
    no_color: bool,
    report_unused_ignores: bool,
    debug: bool,
    max_file_size: Optional[str],
    jobs: Optional[int],
    no_cache: bool,
    cache_dir: Optional[Path],
    baseline_file: Optional[Path],
    no_baseline: bool,
    diff_ref: Optional[str],
) -> None:
    """Lint PATHS (default: the current directory)."""

    def action() -> int:
        from backendlint import baseline as baselines
        from backendlint import gitdiff
        from backendlint.discovery import relative_to_root
        from backendlint.engine.runner import default_jobs
        from backendlint.reporters import reporters

        targets = list(paths) or [Path(".")]
        registry = _registry()
        settings = _selection_settings(
            registry, targets, config_file, select, extend_select, ignore, report_unused_ignores, max_file_size,
            fail_on=fail_on, baseline=baseline_file,
        )
        changed = gitdiff.changed_lines(settings.root, diff_ref) if diff_ref else None
        entries = baselines.read(settings.baseline) if settings.baseline and not no_baseline else None
        result = lint_paths(
            targets,
            settings,
            registry,
            debug=debug,
            jobs=jobs or default_jobs(),
            cache_dir=None if no_cache else (cache_dir or settings.root / DEFAULT_CACHE_DIR),
            show_progress=fmt == "text" and output is None and sys.stderr.isatty(),
            only=changed.wants if changed else None,
        )
        if entries is not None and settings.baseline is not None:
            result = baselines.apply(result, entries, relative_to_root(settings.baseline, settings.root))
        if changed is not None:
            result = gitdiff.apply(result, changed)
        options = ReportOptions(color=_color_wanted(no_color, str(output) if output else None), width=_width())
        text = reporters()[fmt](result, options)
        _write(text, output, options.color)
        if exit_zero:
            return EXIT_CLEAN
        failing = [f for f in result.findings if f.severity >= settings.fail_on]
        return EXIT_FINDINGS if failing else EXIT_CLEAN

    sys.exit(_guard(debug, action))


def _selection_settings(
    registry: Registry,
    targets: Sequence[Path],
    config_file: Optional[Path],
    select: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    report_unused_ignores: bool,
    max_file_size: Optional[str],
    **more: Any,
) -> Settings:
    """The settings of ``check`` and ``baseline``: the configuration found from the first
    target (or ``--config``) with the command line's selection on top."""
    from backendlint.config import load

    overrides = {
        "select": _split(select),
        "extend_select": _split(extend_select),
        "ignore": _split(ignore),
        "report_unused_ignores": report_unused_ignores,
        "max_file_size": max_file_size,
        **more,
    }
    return load(registry, config_file=config_file, start=targets[0], overrides=overrides)


def lint_paths(
    targets: Sequence[Path],
    settings: Settings,
    registry: Registry,
    debug: bool = False,
    jobs: int = 1,
    cache_dir: Optional[Path] = None,
    show_progress: bool = False,
    only: Optional[Callable[[str], bool]] = None,
) -> RunResult:
    """Discover and lint (only the files whose relative path ``only`` accepts, when
    given); the programmatic entry point the CLI uses."""
    from backendlint.discovery import discover
    from backendlint.engine.cache import Cache, bucket_key, code_digest
    from backendlint.engine.lint import Job
    from backendlint.engine.runner import run
    from backendlint.project import EMPTY as EMPTY_PROJECT
    from backendlint.project import gather_project

    files, problems = discover(targets, settings)
    # The project pass reads the tree under the root: the same files when that is what
    # is being linted, discovered once.
    whole_tree = files if [t.resolve() for t in targets] == [settings.root.resolve()] else None
    if only is not None:
        files = [f for f in files if only(f.relpath)]
    selected = [r for r in registry.rules() if settings.is_enabled(r.meta.code)]
    rule_classes = tuple(r.cls for r in selected)
    code_key = code_digest(rule_classes) if cache_dir is not None or any(c.project_facts for c in rule_classes) else ""
    wanted = sorted({name for cls in rule_classes for name in cls.project_facts})
    project = gather_project(settings, wanted, cache_dir, code_key, whole_tree) if wanted else EMPTY_PROJECT
    job = Job(
        settings=settings,
        rules=rule_classes,
        names=tuple((k, r.meta.code) for r in registry.rules() for k in (r.meta.name, *r.meta.aliases)),
        project=project,
        debug=debug,
    )
    metas = [m for m in registry.metas() if settings.is_enabled(m.code)]
    cache = None
    if cache_dir is not None:
        key = bucket_key(repr(settings), code_key, "", repr((debug, job.names)))
        cache = Cache(cache_dir, key, project.digest())
    with progress_bar(len(files), show_progress) as advance:
        return run(files, job, metas, problems, progress=advance, jobs=jobs, cache=cache)


@contextlib.contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Optional[Callable[[int], None]]]:
    """A transient progress bar on stderr for runs big enough to need one."""
    if not enabled or total < PROGRESS_MIN_FILES:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("linting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("lint", total=total)
        yield lambda count: bar.advance(task, count)


def _width() -> int:
    try:
        return int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
    except (ValueError, OSError):
        return 100


def _write(text: str, output: Optional[Path], color: bool = False) -> None:
    """Print, or write ``output``: atomically (temporary file + rename) when it is a
    regular file or does not exist yet, directly when it is a device or a pipe."""
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    from backendlint.atomic import write_atomically

    try:
        if output.exists() and not output.is_file():
            with open(output, "w", encoding="utf-8") as stream:
                stream.write(text)
            return
        write_atomically(output, text)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None


@main.command("baseline")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help=f"Baseline file to write (default: the config's baseline, else {DEFAULT_BASELINE_FILE} at the project root).")
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated; replaces the config).")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the config.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Read settings from FILE.")
@click.option("--report-unused-ignores", is_flag=True, help="Record unused suppression comments (BL002) too.")
@click.option("--max-file-size", help='Skip files larger than this ("5MB", bytes; 0: no limit).')
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes (default: the number of CPUs).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the findings cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Cache directory (default: .backendlint_cache at the project root).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal and rule errors.")
def baseline_command(
    paths: Tuple[Path, ...],
    output: Optional[Path],
    select: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    config_file: Optional[Path],
    report_unused_ignores: bool,
    max_file_size: Optional[str],
    jobs: Optional[int],
    no_cache: bool,
    cache_dir: Optional[Path],
    debug: bool,
) -> None:
    """Record the findings in PATHS (default: .) in a baseline file; `check --baseline
    FILE` (or `baseline` in the config) then reports only findings it does not record."""

    def action() -> int:
        from backendlint import baseline as baselines
        from backendlint.discovery import relative_to_root
        from backendlint.engine.runner import default_jobs

        targets = list(paths) or [Path(".")]
        registry = _registry()
        settings = _selection_settings(
            registry, targets, config_file, select, extend_select, ignore, report_unused_ignores, max_file_size
        )
        result = lint_paths(
            targets,
            settings,
            registry,
            debug=debug,
            jobs=jobs or default_jobs(),
            cache_dir=None if no_cache else (cache_dir or settings.root / DEFAULT_CACHE_DIR),
        )
        entries = baselines.entries_of(result.findings)
        target = output or settings.baseline or settings.root / baselines.DEFAULT_FILE
        _write(baselines.dumps(entries), target)
        count = len(result.findings)
        where = len({f.path for f in result.findings})
        click.echo(
            f"Recorded {count} finding{'' if count == 1 else 's'} in {where} file{'' if where == 1 else 's'} "
            f"({result.files_checked} checked) in {relative_to_root(target, settings.root)}."
        )
        return EXIT_CLEAN

    sys.exit(_guard(debug, action))


@main.command("schema")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="Read settings from FILE.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), help="Cache directory (default: .backendlint_cache at the project root).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def schema_command(
    paths: Tuple[Path, ...], fmt: str, config_file: Optional[Path], no_cache: bool, cache_dir: Optional[Path], debug: bool
) -> None:
    """Print the schema catalogue the linter believes in: tables, columns, keys, indexes
    and ORM models of the project that `check PATHS` would lint (read from models,
    migrations, Alembic revisions and .sql files under the project root)."""

    def action() -> int:
        import json

        from backendlint.config import load
        from backendlint.engine.cache import code_digest
        from backendlint.project import gather_project
        from backendlint.project.catalog import Catalog

        targets = list(paths) or [Path(".")]
        for target in targets:
            if not target.exists():
                raise UserError(f"no such file or directory: {target}")
        registry = _registry()
        settings = load(registry, config_file=config_file, start=targets[0])
        rule_classes = tuple(r.cls for r in registry.rules() if settings.is_enabled(r.meta.code))
        directory = None if no_cache else (cache_dir or settings.root / DEFAULT_CACHE_DIR)
        catalog = gather_project(settings, ["catalog"], directory, code_digest(rule_classes)).get("catalog")
        if not isinstance(catalog, Catalog):
            catalog = Catalog()
        if fmt == "json":
            click.echo(json.dumps({"root": str(settings.root), "problems": list(catalog.problems), **catalog.to_json()}, indent=2))
        elif catalog.tables or catalog.models or catalog.problems:
            click.echo("\n".join(catalog.describe()))
        else:
            click.echo(f"no tables or models found under {settings.root}")
        return EXIT_CLEAN

    sys.exit(_guard(debug, action))


@main.command("rules")
def rules_command() -> None:
    """List every rule."""

    def action() -> int:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False, box=None, pad_edge=False)
        for column in ("Code", "Name", "Severity", "Summary"):
            table.add_column(column)
        for meta in _registry().metas():
            table.add_row(meta.code, meta.name, meta.severity.label, meta.summary)
        Console(no_color=not _color_wanted(False, None), width=_width()).print(table)
        return EXIT_CLEAN

    sys.exit(_guard(False, action))


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Show the documentation of rule CODE (a code or a name)."""

    def action() -> int:
        from backendlint.docs import render_markdown

        meta = _registry().meta(code)
        if meta is None:
            raise UserError(f"unknown rule {code!r} (see 'backendlint rules')")
        click.echo(render_markdown(meta), nl=False)
        return EXIT_CLEAN

    sys.exit(_guard(False, action))


@main.command("docs")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/rules"))
@click.option("--check", "check_only", is_flag=True, help="Fail when a page is missing or stale instead of writing.")
def docs_command(directory: Path, check_only: bool) -> None:
    """Write one Markdown page per rule (generated from the rule docstrings) into DIRECTORY."""

    def action() -> int:
        pages = generated_pages(_registry())
        stale = []
        for name, text in pages.items():
            target = directory / name
            current = target.read_text(encoding="utf-8") if target.is_file() else None
            if current != text:
                stale.append(name)
                if not check_only:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
        if check_only and stale:
            click.echo(f"stale or missing rule pages: {', '.join(sorted(stale))}", err=True)
            return EXIT_FINDINGS
        return EXIT_CLEAN

    sys.exit(_guard(False, action))


def generated_pages(registry: Registry) -> dict:
    """File name -> text of every generated rule page and the index."""
    from backendlint.docs import page_filename, render_index, render_markdown

    metas = [m for m in registry.metas() if m.origin == "backendlint"]
    pages = {page_filename(m): render_markdown(m) for m in metas}
    pages["README.md"] = render_index(metas)
    return pages
