"""AWS's route selection for HTTP APIs: the most specific route wins, `$default` catches the rest."""

from __future__ import annotations

from lamina.services.apigatewayv2.routing import select_route, valid_route_key

ROUTES = [
    {"RouteKey": key}
    for key in (
        "$default",
        "ANY /{proxy+}",
        "GET /items/{id}",
        "GET /items/special",
        "ANY /items/{id}",
        "GET /items/{proxy+}",
        "POST /",
    )
]


def _pick(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = select_route(ROUTES, method, path)
    return None if found is None else (found.route["RouteKey"], found.path_parameters)


def test_the_most_specific_route_wins() -> None:
    assert _pick("GET", "/items/special") == ("GET /items/special", {})
    assert _pick("GET", "/items/42") == ("GET /items/{id}", {"id": "42"})
    assert _pick("PUT", "/items/42") == ("ANY /items/{id}", {"id": "42"})
    assert _pick("GET", "/items/42/parts") == ("GET /items/{proxy+}", {"proxy": "42/parts"})
    assert _pick("DELETE", "/a/b%20c") == ("ANY /{proxy+}", {"proxy": "a/b c"})
    assert _pick("POST", "/") == ("POST /", {})
    assert _pick("GET", "/") == ("$default", {})  # a greedy variable needs at least one segment


def test_without_a_default_route_nothing_matches() -> None:
    assert select_route([{"RouteKey": "GET /a"}], "GET", "/b") is None


def test_route_keys() -> None:
    assert valid_route_key("GET /items/{id}") and valid_route_key("$default") and valid_route_key("ANY /{proxy+}")
    assert not valid_route_key("FETCH /x") and not valid_route_key("GET items")
