"""A rendered message: fallback text plus Block Kit blocks, checked against Slack's limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block

MAX_BLOCKS_PER_MESSAGE = 50
MAX_TEXT = 40_000


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    blocks: tuple[dict[str, Any], ...]

    @classmethod
    def build(cls, text: str, blocks: Sequence[Block]) -> Message:
        # to_dict() runs slack_sdk's validation; the block count it does not check.
        if len(blocks) > MAX_BLOCKS_PER_MESSAGE:
            raise ValueError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS_PER_MESSAGE}")
        if len(text) > MAX_TEXT:
            raise ValueError(f"fallback text of {len(text)} characters exceeds {MAX_TEXT}")
        return cls(text=text, blocks=tuple(block.to_dict() for block in blocks))

    def ephemeral(self) -> dict[str, Any]:
        """The body of an ack or a response_url post that only the requester sees."""
        return {"response_type": "ephemeral", "text": self.text, "blocks": list(self.blocks)}
