"""Templates are compiled once per process (app/templating.py): a second app renders from
what the first compiled, and an edited template is compiled again, not served stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from app import templating


@pytest.fixture
def compiles(monkeypatch) -> list[str]:
    """The name of every template Jinja compiles from source from here on."""
    compiled: list[str] = []
    compile_source = Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counted)
    return compiled


def test_a_second_app_compiles_no_template_the_first_compiled(make_app, compiles):
    templating.COMPILED.clear()  # as if no app had been built in this process yet
    first = make_app()
    with first.test_request_context():
        first.jinja_env.get_template("auth/login.html")
    assert "auth/login.html" in compiles

    compiles.clear()
    second = make_app()
    assert second.jinja_env is not first.jinja_env
    with second.test_request_context():
        template = second.jinja_env.get_template("auth/login.html")

    assert compiles == []
    assert template.name == "auth/login.html"


def test_an_edited_template_is_compiled_again(tmp_path: Path, compiles):
    page = tmp_path / "page.html"
    page.write_text("before", encoding="utf-8")
    cache = templating.ProcessBytecodeCache()

    def render() -> str:
        # A new environment each time, as each app has: only the bytecode cache is shared.
        loader = FileSystemLoader(str(tmp_path))
        return Environment(loader=loader, bytecode_cache=cache).get_template("page.html").render()

    assert render() == "before"
    assert render() == "before"
    assert compiles == ["page.html"]

    page.write_text("after", encoding="utf-8")
    assert render() == "after"
    assert compiles == ["page.html", "page.html"]
