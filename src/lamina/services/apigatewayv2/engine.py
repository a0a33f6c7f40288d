"""apigatewayv2's state: the HTTP APIs in memory, each written through to the documents store as one
document before it is visible, and the questions the front door asks (which API an id names)."""

from __future__ import annotations

from lamina.services.apigatewayv2.records import HttpApi
from lamina.store.documents import DocumentStore

API_KIND = "apigatewayv2-api"


class HttpApiEngine:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.apis: dict[str, HttpApi] = {}

    def load(self) -> None:
        for doc in self._store.load(API_KIND).values():
            api = HttpApi.from_doc(doc)
            self.apis[api.api_id] = api

    def put(self, api: HttpApi) -> None:
        self._store.put(API_KIND, api.api_id, api.to_doc())
        self.apis[api.api_id] = api

    def delete(self, api: HttpApi) -> None:
        self._store.delete(API_KIND, api.api_id)
        self.apis.pop(api.api_id, None)

    def get(self, api_id: str) -> HttpApi | None:
        return self.apis.get(api_id)
