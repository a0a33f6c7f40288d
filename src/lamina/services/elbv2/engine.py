"""elbv2's state: the resources in memory, written through to the documents store, and the routing question
the front door asks (which load balancer a host names, which listener a port, which actions a request gets)."""

from __future__ import annotations

import random
from typing import Any

from lamina.services.elbv2.conditions import HttpFacts, matches
from lamina.services.elbv2.records import (
    Listener,
    LoadBalancer,
    Rule,
    TargetGroup,
    from_doc,
    to_doc,
)
from lamina.store.documents import DocumentStore

LB_KIND = "elbv2-load-balancer"
TG_KIND = "elbv2-target-group"
LISTENER_KIND = "elbv2-listener"
RULE_KIND = "elbv2-rule"


class Elbv2Engine:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.load_balancers: dict[str, LoadBalancer] = {}
        self.target_groups: dict[str, TargetGroup] = {}
        self.listeners: dict[str, Listener] = {}
        self.rules: dict[str, Rule] = {}
        self._by_dns: dict[str, str] = {}

    def load(self) -> None:
        for doc in self._store.load(LB_KIND).values():
            lb = from_doc(LoadBalancer, doc)
            self.load_balancers[lb.arn] = lb
            self._by_dns[lb.dns_name.lower()] = lb.arn
        for doc in self._store.load(TG_KIND).values():
            tg = from_doc(TargetGroup, doc)
            self.target_groups[tg.arn] = tg
        for doc in self._store.load(LISTENER_KIND).values():
            listener = from_doc(Listener, doc)
            self.listeners[listener.arn] = listener
        for doc in self._store.load(RULE_KIND).values():
            rule = from_doc(Rule, doc)
            self.rules[rule.arn] = rule

    # -- writes (each durable before it is visible) ------------------------------------------------
    def put_load_balancer(self, lb: LoadBalancer) -> None:
        self._store.put(LB_KIND, lb.arn, to_doc(lb))
        self.load_balancers[lb.arn] = lb
        self._by_dns[lb.dns_name.lower()] = lb.arn

    def delete_load_balancer(self, lb: LoadBalancer) -> None:
        listeners = [li for li in self.listeners.values() if li.lb_arn == lb.arn]
        with self._store.transaction():
            for listener in listeners:
                self._delete_listener_docs(listener)
            self._store.delete(LB_KIND, lb.arn)
        for listener in listeners:
            self._forget_listener(listener)
        self.load_balancers.pop(lb.arn, None)
        self._by_dns.pop(lb.dns_name.lower(), None)

    def put_target_group(self, tg: TargetGroup) -> None:
        self._store.put(TG_KIND, tg.arn, to_doc(tg))
        self.target_groups[tg.arn] = tg

    def delete_target_group(self, tg: TargetGroup) -> None:
        self._store.delete(TG_KIND, tg.arn)
        self.target_groups.pop(tg.arn, None)

    def put_listener(self, listener: Listener) -> None:
        self._store.put(LISTENER_KIND, listener.arn, to_doc(listener))
        self.listeners[listener.arn] = listener

    def delete_listener(self, listener: Listener) -> None:
        with self._store.transaction():
            self._delete_listener_docs(listener)
        self._forget_listener(listener)

    def _delete_listener_docs(self, listener: Listener) -> None:
        for rule in self.rules_of(listener.arn):
            self._store.delete(RULE_KIND, rule.arn)
        self._store.delete(LISTENER_KIND, listener.arn)

    def _forget_listener(self, listener: Listener) -> None:
        for rule in self.rules_of(listener.arn):
            self.rules.pop(rule.arn, None)
        self.listeners.pop(listener.arn, None)

    def put_rules(self, rules: list[Rule]) -> None:
        with self._store.transaction():
            for rule in rules:
                self._store.put(RULE_KIND, rule.arn, to_doc(rule))
        for rule in rules:
            self.rules[rule.arn] = rule

    def delete_rule(self, rule: Rule) -> None:
        self._store.delete(RULE_KIND, rule.arn)
        self.rules.pop(rule.arn, None)

    # -- questions -----------------------------------------------------------------------------------
    def rules_of(self, listener_arn: str) -> list[Rule]:
        return sorted((r for r in self.rules.values() if r.listener_arn == listener_arn), key=lambda r: r.priority)

    def listeners_of(self, lb_arn: str) -> list[Listener]:
        return sorted((li for li in self.listeners.values() if li.lb_arn == lb_arn), key=lambda li: li.port)

    def target_group_users(self, tg_arn: str) -> list[str]:
        """The ARNs of the listeners and rules whose actions forward to the target group."""
        users = [li.arn for li in self.listeners.values() if tg_arn in forward_targets(li.default_actions)]
        users += [r.arn for r in self.rules.values() if tg_arn in forward_targets(r.actions)]
        return users

    def load_balancers_of(self, tg_arn: str) -> list[str]:
        arns = {li.lb_arn for li in self.listeners.values() if tg_arn in forward_targets(li.default_actions)}
        for rule in self.rules.values():
            if tg_arn in forward_targets(rule.actions):
                listener = self.listeners.get(rule.listener_arn)
                if listener is not None:
                    arns.add(listener.lb_arn)
        return sorted(arns)

    def by_dns_name(self, host: str) -> LoadBalancer | None:
        arn = self._by_dns.get(host)
        return None if arn is None else self.load_balancers.get(arn)

    def listener_for(self, lb: LoadBalancer, port: int | None) -> Listener | None:
        """The listener on the port the client named; with one port for everything, a request on another
        port goes to the load balancer's lowest-port HTTP listener."""
        listeners = self.listeners_of(lb.arn)
        for listener in listeners:
            if listener.port == port:
                return listener
        return listeners[0] if listeners else None

    def actions_for(self, listener: Listener, facts: HttpFacts) -> list[dict[str, Any]]:
        for rule in self.rules_of(listener.arn):
            if matches(rule.conditions, facts):
                return rule.actions
        return listener.default_actions


def forward_targets(actions: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for action in actions:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            found.add(action["TargetGroupArn"])
        for weighted in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
            found.add(weighted["TargetGroupArn"])
    return found


def pick_target_group(action: dict[str, Any], rng: random.Random) -> str | None:
    """The target group a forward action sends this request to (weighted, as ALB splits traffic)."""
    weighted = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    if not weighted:
        arn: str | None = action.get("TargetGroupArn")
        return arn
    weights = [int(w.get("Weight", 1)) for w in weighted]
    if sum(weights) <= 0:
        return None
    chosen: str = rng.choices([w["TargetGroupArn"] for w in weighted], weights=weights)[0]
    return chosen
