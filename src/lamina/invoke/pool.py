"""The environment pool: which warm environments exist, which are idle, and for which configuration.

Invariants: an environment is in at most one idle stack, and only while IDLE and not retired; idle stacks
are LIFO, so the most recently used (hottest) environment is reused first and the coldest ones age out
and get reaped. The pool never starts or awaits anything: the executor does, the pool only keeps books.

Provisioned environments (`env.provisioned`) idle in stacks of their own: `take` hands them out before any
on-demand environment of the same configuration, and `idle()` (what reaping and eviction look at) never
lists them, so they live until their provisioned concurrency config is deleted.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from ..sandbox.environment import Environment, EnvironmentState


class EnvironmentPool:
    def __init__(self) -> None:
        self._idle: dict[Hashable, list[Environment]] = {}
        self._provisioned: dict[Hashable, list[Environment]] = {}
        self._live: set[Environment] = set()
        self._keys: dict[Environment, Hashable] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __iter__(self) -> Iterator[Environment]:
        return iter(list(self._live))

    def add(self, env: Environment, key: Hashable) -> None:
        self._live.add(env)
        self._keys[env] = key

    def discard(self, env: Environment) -> None:
        self._live.discard(env)
        key = self._keys.pop(env, None)
        self.remove_idle(env, key)

    def take(self, key: Hashable) -> Environment | None:
        for stacks in (self._provisioned, self._idle):
            stack = stacks.get(key)
            while stack:
                env = stack.pop()
                if env.state is EnvironmentState.IDLE and not env.retired:
                    return env
        return None

    def give_back(self, env: Environment) -> None:
        key = self._keys.get(env)
        if key is None or env.state is not EnvironmentState.IDLE or env.retired:
            return
        (self._provisioned if env.provisioned else self._idle).setdefault(key, []).append(env)

    def idle(self) -> list[Environment]:
        return [env for stack in self._idle.values() for env in stack]

    def remove_idle(self, env: Environment, key: Hashable | None = None) -> None:
        key = self._keys.get(env) if key is None else key
        if key is None:
            return
        for stacks in (self._provisioned, self._idle):
            stack = stacks.get(key)
            if stack is not None and env in stack:
                stack.remove(env)

    def provisioned(self, key: Hashable) -> list[Environment]:
        """Live provisioned environments of one configuration, idle or busy."""
        return [env for env in self._live if env.provisioned and self._keys.get(env) == key]

    def least_recently_used_idle(self) -> Environment | None:
        candidates = self.idle()
        return min(candidates, key=lambda e: e.last_used) if candidates else None
