"""Every data template Klaxon renders, loaded and checked once at startup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from message_templates.all_clear import load_resolved
from message_templates.announcement import load_declared
from message_templates.engine import TemplateError, TemplateFile
from message_templates.status_update import load_update


@dataclass(frozen=True, slots=True)
class Templates:
    declared: TemplateFile
    resolved: TemplateFile
    update: TemplateFile


def load_templates(override_directory: Path | None) -> Templates:
    """Raises :class:`TemplateError` naming the file and the problem."""
    if override_directory is not None and not override_directory.is_dir():
        raise TemplateError(f"templates.directory: {override_directory} is not a folder")
    return Templates(
        declared=load_declared(override_directory),
        resolved=load_resolved(override_directory),
        update=load_update(override_directory),
    )
