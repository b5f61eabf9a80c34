"""The contract corpus: documented response and error examples, one per file, with the page
each came from. Loaded here and replayed as real HTTP answers by the corpus tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from werkzeug import Response

CORPUS = Path(__file__).parent / "corpus"
REQUIRED = ("source", "contract", "call", "status", "status_documented", "content_type")
CALLS = ("balance", "schedule", "token", "programs")


@dataclass(frozen=True)
class Example:
    """One documented answer: where it is documented, which call it answers, and its bytes."""

    name: str
    source: str
    contract: str
    call: str
    status: int
    status_documented: bool
    content_type: str
    body: Any  # the parsed JSON body (Decimal numbers), or None for a text body
    text: str  # the body as sent

    def response(self, status: int | None = None) -> Response:
        """The answer as a werkzeug response (pytest-httpserver serves it over HTTP)."""
        return Response(self.text, status=status or self.status, content_type=self.content_type)

    def error_code(self) -> int | None:
        """The code of a documented errors[] body's single entry, if it is one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("errors"), list):
            entries = self.body["errors"]
            if len(entries) == 1 and "entityId" not in self.body:
                return entries[0]["code"]
        return None


def encode(value: Any) -> str:
    """JSON text with every Decimal written as the docs wrote it (8500.000 stays 8500.000)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(encode(v) for v in value) + "]"
    return json.dumps(value)


def load(name: str) -> Example:
    """The corpus example of that name (the file name without .json)."""
    raw = json.loads((CORPUS / f"{name}.json").read_text(), parse_float=Decimal)
    missing = [key for key in REQUIRED if key not in raw]
    if missing or ("body" in raw) == ("text" in raw) or raw["call"] not in CALLS:
        raise ValueError(f"corpus file {name}.json is not well formed: {missing or raw['call']}")
    body = raw.get("body")
    return Example(
        name=name,
        source=raw["source"],
        contract=raw["contract"],
        call=raw["call"],
        status=raw["status"],
        status_documented=raw["status_documented"],
        content_type=raw["content_type"],
        body=body,
        text=encode(body) if "body" in raw else raw["text"],
    )


def names(prefixes: Iterable[str] = ("",)) -> list[str]:
    """The corpus's example names that start with one of the prefixes, sorted."""
    found = sorted(path.stem for path in CORPUS.glob("*.json"))
    return [name for name in found if any(name.startswith(p) for p in prefixes)]
