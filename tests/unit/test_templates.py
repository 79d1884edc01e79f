import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.domain.incident import Incident, IncidentStatus
from message_templates.all_clear import render_all_clear
from message_templates.announcement import load_declared, render_declared
from message_templates.catalog import load_templates
from message_templates.engine import TemplateError
from message_templates.status_update import render_update

INCIDENT = Incident(
    id=1,
    public_id="INC-20261122-001",
    title="<!channel> Checkout & payments down",
    severity="sev1",
    status=IncidentStatus.INVESTIGATING,
    declared_by="U0DECLARER",
    declared_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    channel_id="C0WARROOM1",
)


def override(tmp_path: Path, text: str) -> Path:
    (tmp_path / "declared.toml").write_text(text)
    return tmp_path


def test_built_in_templates_load_and_escape_user_text() -> None:
    config = load_config()
    message = render_declared(load_declared(None), INCIDENT, config.severities["sev1"])
    rendered = message.text + str(message.blocks)
    assert "<!channel>" not in rendered
    assert "&lt;!channel&gt; Checkout &amp; payments down" in rendered
    assert "<#C0WARROOM1>" in rendered


def test_each_severity_has_its_own_notice_and_others_fall_back() -> None:
    config = load_config()
    templates = load_declared(None)
    sev1 = render_declared(templates, INCIDENT, config.severities["sev1"])
    sev3 = render_declared(templates, INCIDENT, config.severities["sev3"])
    assert sev1.text.startswith(":rotating_light:")
    assert sev3.text.startswith("SEV3 incident declared")


def test_long_values_are_cut_to_slack_limits() -> None:
    config = load_config()
    long = dataclasses.replace(INCIDENT, title="x" * 150, description="<" * 3000)
    message = render_declared(load_declared(None), long, config.severities["sev1"])
    assert len(message.blocks[0]["text"]["text"]) <= 150
    assert all(len(field["text"]) <= 2000 for field in message.blocks[2]["fields"])


def test_operator_override_replaces_a_table(tmp_path: Path) -> None:
    directory = override(
        tmp_path,
        """
[sev1]
text = "Heads up: {title}"
[[sev1.blocks]]
type = "section"
text = { type = "mrkdwn", text = "*{incident_id}* {title} in {war_room}" }
""",
    )
    config = load_config()
    message = render_declared(load_declared(directory), INCIDENT, config.severities["sev1"])
    assert message.text == "Heads up: &lt;!channel&gt; Checkout &amp; payments down"
    # Other severities keep the built-in tables.
    other = render_declared(load_declared(directory), INCIDENT, config.severities["sev2"])
    assert other.text.startswith(":warning:")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[sev1]\ntext = "{titel}"\nblocks = []', "unknown placeholder {titel}"),
        ('[sev1]\ntext = "ok {"\nblocks = []', "literal braces"),
        ("[sev1]\nblocks = []", "a fallback text is required"),
        ('[sev1]\ntext = "x"\nblocks = "nope"', "must be a list of Block Kit blocks"),
        (
            '[sev1]\ntext = "x"\n[[sev1.blocks]]\ntype = "header"\n'
            'text = { type = "mrkdwn", text = "no" }',
            "does not render to valid Block Kit",
        ),
        ('[sev1]\ntext = "x"\n[[sev1.blocks]]\ntype = "sparkles"', "unknown 'type'"),
        ('[sev1]\ntext = "x"\nblocks = []\ncolour = "red"', "unknown key 'colour'"),
        ("[sev1", "not valid TOML"),
    ],
)
def test_broken_template_stops_startup_naming_file_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        load_templates(override(tmp_path, text))
    message = str(caught.value)
    assert str(tmp_path / "declared.toml") in message
    assert problem in message


def test_missing_template_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="is not a folder"):
        load_templates(tmp_path / "nowhere")


def test_all_clear_and_update_escape_user_text_and_fall_back_per_severity() -> None:
    config = load_config()
    templates = load_templates(None)
    resolved = dataclasses.replace(
        INCIDENT,
        status=IncidentStatus.RESOLVED,
        resolved_by="U0RESOLVER",
        resolved_at=datetime(2026, 11, 22, 4, 30, tzinfo=UTC),
        acknowledged_at=datetime(2026, 11, 22, 3, 5, tzinfo=UTC),
        resolution="Rolled back <@U0EVIL> & restarted",
    )
    sev1 = render_all_clear(templates.resolved, resolved, config.severities["sev1"])
    text = sev1.text + str(sev1.blocks)
    assert "All clear" in text
    assert "1h30m" in text  # duration, declared 03:00 -> resolved 04:30
    assert "5m" in text  # time to acknowledge
    assert "Rolled back &lt;@U0EVIL&gt; &amp; restarted" in text
    assert "<@U0EVIL>" not in text
    sev3 = render_all_clear(templates.resolved, resolved, config.severities["sev3"])
    assert sev3.text.startswith(":white_check_mark: Resolved:")

    update = render_update(
        templates.update,
        dataclasses.replace(INCIDENT, update_count=2),
        config.severities["sev2"],
        {"summary": "<!here> rolling back", "impact": "EU users"},
        posted_by="U0POSTER1",
        now=datetime(2026, 11, 22, 3, 45, tzinfo=UTC),
    )
    rendered = update.text + str(update.blocks)
    assert "update #2" in rendered
    assert "&lt;!here&gt; rolling back" in rendered
    assert "<!here>" not in rendered
    assert "45m" in rendered
    assert "in 30m" in rendered  # the SEV2 cadence


def test_broken_update_override_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "update.toml").write_text(
        '[sev1]\ntext = "{nope}"\nblocks = []\n', encoding="utf-8"
    )
    with pytest.raises(TemplateError, match=r"update\.toml \[sev1\].*unknown placeholder \{nope\}"):
        load_templates(tmp_path)


def test_truncating_escaped_text_never_cuts_an_entity_in_half() -> None:
    from message_templates.mrkdwn import escape, truncate

    escaped = escape("A" + "&" * 10)
    for limit in range(2, len(escaped)):
        cut = truncate(escaped, limit)
        assert len(cut) <= limit
        assert re.search(r"&(?!amp;)", cut) is None, cut
