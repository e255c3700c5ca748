"""The health report an operator opens at 3 am (playbooks/verify.yml with JOVIAL_HEALTH_REPORT,
the jovial_health callback; `make lab-verify` writes the lab's): with nginx deliberately
stopped on mj-core2, verify.yml fails, and the page, opened in headless Chromium, renders
with that failure first (node and message) and every node of the scenario on the topology.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jovial_browser import chromium, save
from jovial_fixtures import run_playbook
from selenium.webdriver.common.by import By

EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
NODES = ["mj-core1", "mj-core2", "mj-hub", "mj-kcp1", "mj-kcp2", "mj-kw1", "mj-kw2"]
# The callback: enabled in ansible.cfg; named here too for Molecule's own ansible.cfg.
CALLBACK = {"ANSIBLE_CALLBACKS_ENABLED": "jovial_summary,jovial_health"}


def test_the_report_shows_a_stopped_service_first_and_every_node(node):
    report = EPH / "health" / "verify"
    core2 = node("mj-core2")
    core2.run_expect([0], "systemctl stop nginx")
    try:
        out = run_playbook(
            "playbooks/verify.yml", env={**CALLBACK, "JOVIAL_HEALTH_REPORT": str(report)}
        )
    finally:
        core2.run_expect([0], "systemctl start nginx")
    assert out.returncode != 0, out.stdout[-3000:]

    data = json.loads(report.with_suffix(".json").read_text())
    assert data["summary"]["healthy"] is False
    assert data["hosts"]["mj-core2"] == "failed", data["hosts"]
    assert {h: s for h, s in data["hosts"].items() if s != "ok"} == {"mj-core2": "failed"}
    first = data["failing"][0]
    assert first["host"] == "mj-core2" and "nginx" in first["message"], data["failing"]

    with chromium(EPH / "pki" / "ca.crt") as browser:
        browser.get(report.with_suffix(".html").as_uri())
        save(browser, EPH / "screenshots", "health-report")
        assert browser.title.startswith("Jovial health: "), browser.title
        verdict = browser.find_element(By.ID, "verdict")
        assert "failed" in verdict.get_attribute("class")
        failing = browser.find_element(By.ID, "failing")
        assert failing.is_displayed()
        assert "mj-core2" in failing.text and "nginx" in failing.text, failing.text
        # The failing table comes before the topology, which draws every node with its state.
        headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
        assert headings.index("Failing checks") < headings.index("Topology"), headings
        drawn = {
            t.get_attribute("textContent")
            for t in browser.find_elements(By.CSS_SELECTOR, "svg title")
        }
        assert drawn >= {f"{n}: ok" for n in NODES if n != "mj-core2"} | {"mj-core2: failed"}, drawn
