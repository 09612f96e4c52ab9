"""The interactive apply prompt: it names the Tanium about to be changed and takes `yes`
only (Terraform's rule: a stray Enter or `y` never applies)."""

from __future__ import annotations

import click

from controller.core.plan import Plan
from controller.target import describe_target


def confirmed(plan: Plan) -> bool:
    s = plan.summary
    click.echo(
        f"\nApply these changes to {describe_target(plan)}? "
        f"({s.create} to create, {s.update} to update, {s.delete} to delete)\n"
        "Only 'yes' will be accepted."
    )
    answer: str = click.prompt("Enter a value", default="", show_default=False)
    return answer.strip() == "yes"
