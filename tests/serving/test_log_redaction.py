"""The development server's request lines name no member."""

from __future__ import annotations

import logging

from app.log_redaction import install


def test_member_ids_in_request_lines_are_replaced(caplog):
    install()
    install()  # once is enough: no second filter
    werkzeug_logger = logging.getLogger("werkzeug")
    assert len(werkzeug_logger.filters) == len(set(map(type, werkzeug_logger.filters)))
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        werkzeug_logger.info(
            '%s - - [%s] "%s" %s -', "127.0.0.1", "now", "GET /members/700000001?program=all", 200
        )
        werkzeug_logger.info("POST /members/565039505/refresh")
    assert "700000001" not in caplog.text and "565039505" not in caplog.text
    assert "GET /members/{id}?program=all" in caplog.text
    assert "POST /members/{id}/refresh" in caplog.text


def test_password_setup_tokens_in_request_lines_are_replaced(caplog):
    install()
    werkzeug_logger = logging.getLogger("werkzeug")
    token = "UQKHCgp8J7sBkmzai66H4zafmqUDLLkiWO5ylWSymgw"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        werkzeug_logger.info('"%s" %s -', f"GET /welcome/{token} HTTP/1.1", 200)
        line = f"POST /welcome/{token}"  # the token in the message itself, not in its args
        werkzeug_logger.info(line)
    assert token not in caplog.text
    assert caplog.text.count("/welcome/{token}") == 2
