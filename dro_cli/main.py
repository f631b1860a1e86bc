"""The `dro` command group. Commands load lazily so that `dro --help` stays fast."""

from __future__ import annotations

import importlib
import itertools
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from dro_cli import __version__

if TYPE_CHECKING:
    from dro_cli.errors import DroError

# name -> (module:function, one-line help). The help is here so listing commands imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("dro_cli.commands.validate:validate",
                 "Check catalogs: schema, references, cycles, expressions, templates."),
    "compile": ("dro_cli.commands.compile:compile_command",
                "Compile a catalog into plan templates (JSON)."),
    "fmt": ("dro_cli.commands.fmt:fmt_command",
            "Rewrite .dro files in the canonical layout, keeping comments (--check: list, change nothing)."),
    "test": ("dro_cli.commands.test:test_command",
             "Run a catalog's scenario tests (*.test.yaml): plan facts and simulated runs on a virtual clock."),
    "diff": ("dro_cli.commands.diff:diff_command",
             "Show how two catalog revisions change the plans of sample orders (exit 3 when they do)."),
    "plan": ("dro_cli.commands.plan:plan_command",
             "Show the plan an order would get: steps by swimlane, dependencies, SLA."),
    "run": ("dro_cli.commands.run:run_command",
            "Run an order: plan it once, then work its plan until it completes or must wait."),
    "status": ("dro_cli.commands.status:status_command",
               "Show orders (state, progress, what they wait on), or one order's steps by lane."),
    "log": ("dro_cli.commands.log:log_command", "Show an order's journal as a timeline."),
    "complete": ("dro_cli.commands.act:complete_command",
                 "Complete a manual step (or a step in fallout, with --reason)."),
    "signal": ("dro_cli.commands.act:signal_command", "Send an event to the pauses waiting for it."),
    "resume": ("dro_cli.commands.act:resume_command", "Resume a pause without waiting for its event or timer."),
    "retry": ("dro_cli.commands.retry:retry_command",
              "Try steps in fallout again: one order's, or a whole queue's with --all."),
    "cancel": ("dro_cli.commands.amend:cancel_command",
               "Cancel an order, or some of its lines (--items), compensating what was done."),
    "amend": ("dro_cli.commands.amend:amend_command",
              "Amend a running order with a revised order file (`dro plan --amend` previews it)."),
    "discard": ("dro_cli.commands.discard:discard_command",
                "Remove an order started by mistake, before it has acted; its files are archived."),
    "fallout": ("dro_cli.commands.queues:fallout_command", "List the steps in fallout queues across orders."),
    "jeopardy": ("dro_cli.commands.queues:jeopardy_command",
                 "List the steps in jeopardy or late across orders."),
    "tick": ("dro_cli.commands.tick:tick_command",
             "Continue every order whose timers are due; journal SLA crossings (for cron)."),
    "events": ("dro_cli.commands.events:events_command",
               "Send orders' events (TMF622 and dro's own) to registered listeners; list and resend dead letters."),
    "serve": ("dro_cli.commands.serve:serve_command",
              "Serve a read-only dashboard of the orders and their plan views on 127.0.0.1."),
    "schema": ("dro_cli.commands.schema:schema_command",
               "Print a JSON Schema dro ships (catalog, order, plan, status, ...), or list them."),
    "verify": ("dro_cli.commands.log:verify_command", "Check an order's journal: sequence and checksum chain."),
    "import": ("dro_cli.commands.import_:import_command",
               "Turn a Salesforce DRO configuration export (CSV or SOQL JSON) into a dro catalog."),
    "view": ("dro_cli.commands.view:view_command",
             "Draw an order's plan with its steps' states: one self-contained HTML page, mermaid or dot."),
    "worker": ("dro_cli.commands.worker:worker_command",
               "Run orders on a Temporal cluster (--engine temporal): poll a task queue, run workflows and steps."),
}


class Failed(click.ClickException):
    """A DroError on its way out through click: shown as dro shows errors, then its exit code."""

    def __init__(self, error: DroError) -> None:
        super().__init__(error.message)
        self.error = error
        self.exit_code = error.exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: object = None) -> None:
        from dro_cli.output.failure import show_error

        show_error(self.error)


COLOR_CHOICES = ("auto", "always", "never")  # as dro_cli.output.terminal takes them


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        from dro_cli.output import terminal

        terminal.configure(color=value)
        ctx.color = terminal.use_color()  # what click.echo keeps or strips, here and in the command's context


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool | None) -> None:
    if value is not None:
        from dro_cli.output import terminal

        terminal.configure(quiet=value)


def terminal_options(default_color: str | None, default_quiet: bool | None) -> list[click.Option]:
    """`--color` and `-q`: dro takes them before the command (where their defaults reset them for each
    command line), and every command after its name, as `cargo` and `pip` do."""
    return [
        click.Option(["--color"], type=click.Choice(COLOR_CHOICES), default=default_color, expose_value=False,
                     callback=_set_color, show_default=default_color is not None,
                     help="Colour: auto (on a terminal, unless NO_COLOR), always (so does FORCE_COLOR), never."),
        click.Option(["-q", "--quiet"], is_flag=True, default=default_quiet, expose_value=False,
                     callback=_set_quiet,
                     help="Say nothing but errors, warnings and the data asked for; the exit code tells the rest."),
    ]


class LazyGroup(click.Group):
    """Commands imported on first use, each given the terminal options (`--color`, `-q`) too."""

    def invoke(self, ctx: click.Context) -> Any:
        from dro_cli.errors import DroError  # here, not at the top: `dro --help` invokes nothing

        try:
            return super().invoke(ctx)
        except DroError as error:
            raise Failed(error) from error
        except OSError as error:  # a file operation no command expected to fail: still the path and what is wrong
            from dro_cli.journal.path_errors import is_path_error, path_error

            if not is_path_error(error):
                raise
            raise Failed(path_error(error, action="use")) from error

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target[0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        subcommands = list(command.commands.values()) if isinstance(command, click.Group) else []
        for each in (command, *subcommands):  # `dro import salesforce -q` as `dro import -q`
            if not any(param.name == "color" for param in each.params):
                each.params.extend(terminal_options(None, None))
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, summary) in COMMANDS.items()])

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[Any, Any, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            from dsl.diagnostics import did_you_mean

            hint = did_you_mean(name, COMMANDS)
            ctx.fail(f"no such command '{name}'." + (f" {hint[0].upper()}{hint[1:]}" if hint else ""))
        if name:
            from dro_cli.errors import DroError

            try:
                _refuse_unsupported_engine(name, args[1:])
            except DroError as error:
                raise Failed(error) from error
        return super().resolve_command(ctx, args)


def _refuse_unsupported_engine(verb: str, args: list[str]) -> None:
    """A verb that does not run on Temporal yet, asked to (--engine temporal, $DRO_ENGINE), says so rather
    than act on the local state directory."""
    wanted = os.environ.get("DRO_ENGINE") == "temporal" or "--engine=temporal" in args or any(
        a == "--engine" and b == "temporal" for a, b in itertools.pairwise(args))
    if wanted:
        from dro_cli.commands.engine import NOT_YET_ON_TEMPORAL, not_on_temporal

        if verb in NOT_YET_ON_TEMPORAL:
            raise not_on_temporal(verb)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             params=terminal_options("auto", False))
@click.version_option(__version__, "-V", "--version", prog_name="dro")
def cli() -> None:
    """dro: fulfillment orchestration as code.

    Designers write product fulfillment scenarios and step definitions in .dro or
    .dro.yaml files; dro validates them, compiles them into plan templates, and
    runs orders through them.
    """


def main() -> None:
    """Entry point: never a traceback, unless DRO_DEBUG asks for one."""
    try:
        cli.main(prog_name="dro")
    except SystemExit as done:
        if "temporalio" in sys.modules:
            _exit_now(done.code)
        raise
    except Exception as exc:
        if os.environ.get("DRO_DEBUG"):
            raise
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("  = help: this is a bug in dro; run again with DRO_DEBUG=1 to see where", err=True)
        sys.exit(1)


def _exit_now(code: object) -> None:
    """Exit at once once temporalio has run: its native runtime's threads may abort the interpreter's
    shutdown (SIGABRT, SIGSEGV), which would turn a finished command's exit status into a crash's."""
    if code is not None and not isinstance(code, int):
        click.echo(code, err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
