"""The health report of a verify run: one page a person takes in at a glance, and its JSON.

Enabled through ansible.cfg; inert unless JOVIAL_HEALTH_REPORT names where to write. Then, at
the end of the run (`make lab-verify` sets it to build/lab/verify), it writes

    <JOVIAL_HEALTH_REPORT>.json   {"inventory", "generated", "summary", "failing", "layers",
                                   "hosts", "topology"}
    <JOVIAL_HEALTH_REPORT>.html   the same as one self-contained page (no script, no fetch):
                                  failing checks first, the site's topology drawn from the
                                  inventory's groups with each node's state on it, then every
                                  layer (play) with each node's checks and the state lines its
                                  report tasks printed (who holds a VIP, the etcd leader,
                                  replication, certificate expiry, the hub and its servers...)

A check is a task; it fails on a node when the task failed there (each failed loop item is
listed with its message) or the node was unreachable. State lines are the messages of the
debug tasks of the run (playbooks/verify.yml's "... report" tasks).
"""

from __future__ import annotations

DOCUMENTATION = """
name: jovial_health
type: aggregate
short_description: the health report of a verify run, as one HTML page and JSON
description:
  - Records every task result per play (layer) and host, and the messages of debug tasks, then
    writes <JOVIAL_HEALTH_REPORT>.json and <JOVIAL_HEALTH_REPORT>.html with the failing checks
    first and the topology of the inventory's groups with each node's state. Prints nothing;
    does nothing when JOVIAL_HEALTH_REPORT is not set.
requirements:
  - enable in ansible.cfg (callbacks_enabled)
"""

import html
import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

# The inventory groups drawn in the topology, in the order the layers stack (those the
# inventory has; a node in several is drawn in each).
TOPOLOGY_GROUPS = (
    ("storage", ("lustre_mgs", "lustre_mds", "lustre_oss", "lustre_client")),
    ("core", ("etcd", "ldap_server")),
    ("kubernetes", ("kube_control_plane", "kube_node")),
    ("front", ("proxy", "jupyterhub")),
)
STATE_ORDER = {"failed": 0, "unreachable": 1, "ok": 2, "skipped": 3, "unchecked": 4}
COLOURS = {
    "failed": "#d73a49",
    "unreachable": "#e36209",
    "ok": "#28a745",
    "skipped": "#959da5",
    "unchecked": "#d1d5da",
}


def _message(result: dict[str, Any]) -> str:
    """What a failed result says: its msg, else stderr, else stdout (trimmed)."""
    for key in ("msg", "stderr", "stdout"):
        value = result.get(key)
        if value:
            text = value if isinstance(value, str) else json.dumps(value)
            return text.strip()[:1000]
    return "failed (no message)"


def host_state(checks: list[dict[str, Any]]) -> str:
    """A node's state from its checks: the worst of them, unchecked when there are none."""
    states = [c["state"] for c in checks] or ["unchecked"]
    return min(states, key=STATE_ORDER.__getitem__)


def build_report(
    inventory: str, groups: dict[str, list[str]], plays: list[dict[str, Any]]
) -> dict[str, Any]:
    """The report's data from the recorded plays (each {"name", "checks": [{"task", "host",
    "state", "message"}], "lines": [{"host", "text"}]}) and the inventory's groups."""
    hosts: dict[str, list[dict[str, Any]]] = {}
    for play in plays:
        for check in play["checks"]:
            hosts.setdefault(check["host"], []).append({**check, "layer": play["name"]})
    for members in groups.values():
        for host in members:
            hosts.setdefault(host, [])
    failing = [
        {"layer": play["name"], **check}
        for play in plays
        for check in play["checks"]
        if check["state"] in ("failed", "unreachable")
    ]
    layers = []
    for play in plays:
        per_host: dict[str, dict[str, Any]] = {}
        for check in play["checks"]:
            entry = per_host.setdefault(check["host"], {"checks": [], "lines": []})
            entry["checks"].append(check)
        for line in play["lines"]:
            per_host.setdefault(line["host"], {"checks": [], "lines": []})["lines"].append(
                line["text"]
            )
        nodes = [
            {
                "host": host,
                "state": host_state(entry["checks"]),
                "passed": sum(c["state"] == "ok" for c in entry["checks"]),
                "failed": [c for c in entry["checks"] if c["state"] in ("failed", "unreachable")],
                "lines": entry["lines"],
            }
            for host, entry in sorted(per_host.items())
        ]
        states = [n["state"] for n in nodes] or ["unchecked"]
        layers.append(
            {
                "name": play["name"],
                "state": min(states, key=STATE_ORDER.__getitem__),
                "nodes": nodes,
            }
        )
    layers.sort(key=lambda layer: STATE_ORDER[layer["state"]])  # failing layers first
    node_states = {host: host_state(checks) for host, checks in sorted(hosts.items())}
    topology = [
        {
            "tier": tier,
            "groups": [
                {"name": group, "hosts": [{"host": h, "state": node_states[h]} for h in members]}
                for group in names
                for members in [groups.get(group, [])]
                if members
            ],
        }
        for tier, names in TOPOLOGY_GROUPS
    ]
    return {
        "inventory": inventory,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "summary": {
            "healthy": not failing,
            "checks": sum(len(p["checks"]) for p in plays),
            "failing": len(failing),
            "nodes": len(node_states),
            "nodes_failing": sum(s in ("failed", "unreachable") for s in node_states.values()),
        },
        "failing": failing,
        "layers": layers,
        "hosts": node_states,
        "topology": [t for t in topology if t["groups"]],
    }


def topology_svg(topology: list[dict[str, Any]]) -> str:
    """The site's groups as rows of boxes (one row per tier), each node coloured by its state."""
    box_w, box_h, gap, label_h = 86, 26, 8, 18
    rows = []
    y = 10
    width = 0
    for tier in topology:
        x = 10
        parts = []
        for group in tier["groups"]:
            n = len(group["hosts"])
            group_w = n * box_w + (n + 1) * gap
            parts.append(
                f'<rect x="{x}" y="{y}" width="{group_w}" height="{box_h + label_h + 2 * gap}" '
                'rx="6" fill="#f6f8fa" stroke="#d1d5da"/>'
                f'<text x="{x + gap}" y="{y + 14}" font-size="12" fill="#24292e">'
                f"{html.escape(group['name'])}</text>"
            )
            hx = x + gap
            for node in group["hosts"]:
                colour = COLOURS[node["state"]]
                parts.append(
                    f"<g><title>{html.escape(node['host'])}: {node['state']}</title>"
                    f'<rect x="{hx}" y="{y + label_h + gap}" width="{box_w}" height="{box_h}" '
                    f'rx="4" fill="{colour}"/>'
                    f'<text x="{hx + box_w / 2}" y="{y + label_h + gap + 17}" font-size="12" '
                    f'text-anchor="middle" fill="#fff">{html.escape(node["host"])}</text></g>'
                )
                hx += box_w + gap
            x += group_w + 2 * gap
        width = max(width, x)
        rows.append("".join(parts))
        y += box_h + label_h + 4 * gap
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
        f'role="img" aria-label="topology">{"".join(rows)}</svg>'
    )


def render_html(report: dict[str, Any]) -> str:
    esc = html.escape
    s = report["summary"]
    verdict = "healthy" if s["healthy"] else f"{s['failing']} failing check(s)"
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Jovial health: {esc(report['inventory'])}: {esc(verdict)}</title><style>",
        "body{font-family:sans-serif;margin:1.5em;color:#24292e}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #d1d5da;padding:.25em .5em;text-align:left;vertical-align:top}"
        ".failed,.unreachable{color:#d73a49;font-weight:bold}.ok{color:#28a745}"
        ".skipped,.unchecked{color:#6a737d}pre{margin:0;white-space:pre-wrap}",
        "</style></head><body>",
        f"<h1>Jovial health: {esc(report['inventory'])}</h1>",
        f"<p id='verdict' class='{'ok' if s['healthy'] else 'failed'}'>{esc(verdict)}: "
        f"{s['checks']} checks on {s['nodes']} nodes, {s['nodes_failing']} node(s) failing; "
        f"generated {esc(report['generated'])}</p>",
    ]
    if report["failing"]:
        out.append("<h2>Failing checks</h2><table id='failing'><tr><th>layer</th><th>node</th>")
        out.append("<th>check</th><th>message</th></tr>")
        for f in report["failing"]:
            out.append(
                f"<tr class='{f['state']}'><td>{esc(f['layer'])}</td><td>{esc(f['host'])}</td>"
                f"<td>{esc(f['task'])}</td><td><pre>{esc(f['message'])}</pre></td></tr>"
            )
        out.append("</table>")
    out.append("<h2>Topology</h2>")
    out.append(topology_svg(report["topology"]))
    out.append("<h2>Layers</h2>")
    for layer in report["layers"]:
        out.append(
            f"<h3 class='{layer['state']}'>{esc(layer['name'])}: {layer['state']}</h3>"
            "<table><tr><th>node</th><th>state</th><th>checks passed</th><th>state lines</th></tr>"
        )
        for node in layer["nodes"]:
            lines = "<br>".join(esc(line) for line in node["lines"])
            failed = "".join(
                f"<br><span class='failed'>{esc(c['task'])}: {esc(c['message'])}</span>"
                for c in node["failed"]
            )
            out.append(
                f"<tr><td>{esc(node['host'])}</td><td class='{node['state']}'>{node['state']}</td>"
                f"<td>{node['passed']}</td><td>{lines}{failed}</td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>\n")
    return "".join(out)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "jovial_health"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._target = os.environ.get("JOVIAL_HEALTH_REPORT", "")
        self._plays: list[dict[str, Any]] = []
        self._groups: dict[str, list[str]] = {}
        self._inventory = ""

    def v2_playbook_on_play_start(self, play: Any) -> None:
        if not self._target:
            return
        self._plays.append({"name": play.get_name().strip(), "checks": [], "lines": []})
        inventory = getattr(play.get_variable_manager(), "_inventory", None)
        if inventory is not None and not self._groups:
            self._groups = {
                name: sorted(h.get_name() for h in group.get_hosts())
                for name, group in inventory.groups.items()
            }
            sources = [s for s in getattr(inventory, "_sources", []) if isinstance(s, str)]
            self._inventory = ", ".join(os.path.basename(s.rstrip("/")) for s in sources)

    def _record(self, result: Any, state: str) -> None:
        if not self._target or not self._plays:
            return
        play = self._plays[-1]
        host = result._host.get_name()
        task = result._task.get_name().strip()
        data = result._result if isinstance(result._result, dict) else {}
        if state == "ok" and result._task.action in ("debug", "ansible.builtin.debug"):
            msg = data.get("msg")
            lines = msg if isinstance(msg, list) else [msg]
            play["lines"].extend({"host": host, "text": str(m)} for m in lines if m)
            return
        message = ""
        if state in ("failed", "unreachable"):
            items = [r for r in data.get("results", []) if isinstance(r, dict) and r.get("failed")]
            message = "; ".join(
                f"{r.get('_ansible_item_label', r.get('item'))}: {_message(r)}" for r in items
            ) or _message(data)
        play["checks"].append({"task": task, "host": host, "state": state, "message": message})

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "ok" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if not self._target:
            return
        report = build_report(self._inventory, self._groups, self._plays)
        os.makedirs(os.path.dirname(os.path.abspath(self._target)) or ".", exist_ok=True)
        with open(f"{self._target}.json", "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
        with open(f"{self._target}.html", "w", encoding="utf-8") as fh:
            fh.write(render_html(report))
