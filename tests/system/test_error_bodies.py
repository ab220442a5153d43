"""Bodies the routes cannot read answer 422 with the body echoed as text, never 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(("raw", "echoed"), [
    (b'{"name": "sent as text"}', '{"name": "sent as text"}'),
    (b'\xff\xfe{"name"', '\ufffd\ufffd{"name"'),  # not UTF-8 either
])
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/samples"), ("POST", "/api/zones"), ("POST", "/api/elements/custom"),
    ("POST", "/api/v2/methods"),
])
def test_a_json_body_sent_as_text_plain_is_a_422_naming_the_body(
        client: TestClient, method: str, path: str, raw: bytes, echoed: str) -> None:
    response = client.request(method, path, content=raw,
                              headers={"content-type": "text/plain"})

    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "model_attributes_type", "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "input": echoed}]}
