"""`bridge postmortem`: a washup draft from the tickets."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    cli,
    config_option,
    emit,
    json_option,
    open_bridge,
    parse_vars,
    require_output_dir,
    write_output,
)


@cli.command()
@click.argument("defect")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the draft here."
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help='A template variable (repeatable), e.g. earlier="the disk alert fired at 95%".',
)
@click.option("--template", default="postmortem", show_default=True, help="Template name.")
@config_option
@json_option
def postmortem(
    defect: str,
    output: Path | None,
    variables: tuple[str, ...],
    template: str,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Draft the washup of DEFECT from its tickets, as Markdown.

    Summary, impact, a timeline of sightings, actions and remediations, the evidence, and the
    questions a washup must answer: what would have told us earlier, and how do we stop similar
    defects elsewhere. Override the template with a postmortem.md.j2 in templates_dir.

    \b
    Examples:
      bridge postmortem OPS-1 > washup.md
      bridge postmortem OPS-1 --output washup.md --var earlier="the disk alert fired at 95%"
    """
    pairs = parse_vars(variables)
    require_output_dir(output)
    with open_bridge(config_path) as bridge:
        draft = bridge.postmortem(defect, variables=pairs, template=template)
    if as_json:
        emit({"defect": draft.defect, "title": draft.title, "body": draft.body})
    elif output is not None:
        write_output(output, draft.body, "the washup draft")
        click.echo(f"Washup draft of {defect} written to {output}.", err=True)
    else:
        click.echo(draft.body, nl=False)
