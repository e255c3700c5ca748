"""Every Kubernetes manifest of roles/jupyterhub/templates/k8s/, rendered by Ansible's Templar
with the sample inventory (inventories/sample, read by InventoryManager/VariableManager as a
play on hub01 sees it) on top of the role's real defaults, then:

- validated against the Kubernetes OpenAPI schema of the pinned version (strict);
- pods and pod templates checked against Pod Security "restricted";
- the hub's rendered settings fed to jovial_hub.hubconfig, and the KubeSpawner it configures
  asked for a user's pod manifest, which must pass both checks too.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager
from kubernetes_asyncio.client import V1ResourceQuota, V1ResourceQuotaList, V1ResourceQuotaStatus
from traitlets.config import Config

from jovial_dask import kube as dask_kube
from jovial_hub import config, hubconfig, podsecurity, schema
from jovial_hub.identity import Identity
from jovial_hub.spawner import JovialKubeSpawner

ROLE = Path(__file__).resolve().parents[3] / "roles" / "jupyterhub"
TEMPLATES = sorted((ROLE / "templates" / "k8s").glob("*.yaml.j2"))
SAMPLE = Path(__file__).resolve().parents[3] / "inventories" / "sample"
HUB_ROUTES = Path(__file__).resolve().parents[3] / "playbooks" / "vars" / "hub_routes.yml"
DASK_VARS = Path(__file__).resolve().parents[3] / "playbooks" / "vars" / "dask_gateway.yml"

# Inputs of the role's shared (not kubernetes-specific) part, used only when the role's
# defaults / the sample inventory do not define them yet.
SHARED_FALLBACKS: dict[str, Any] = {
    "jupyterhub_proxy_token": "REPLACE-ME-proxy-token",
    "jupyterhub_ldap_uris": ["ldaps://ldap01.obs.example.org", "ldaps://ldap02.obs.example.org"],
    "jupyterhub_ldap_base_dn": "dc=obs,dc=example,dc=org",
    "jupyterhub_ldap_bind_dn": "cn=reader,ou=services,dc=obs,dc=example,dc=org",
    "jupyterhub_ldap_bind_password": "REPLACE-ME-reader",
    "jupyterhub_admin_groups": ["jovial-admins"],
    "jupyterhub_allowed_groups": ["survey-gal", "survey-var"],
}


def render(ca: Path, overrides: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    """{template name: [objects]} for every hub of jupyterhub_hubs; ``overrides`` act as
    extra vars (highest precedence)."""
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(SAMPLE)])
    manager = VariableManager(loader=loader, inventory=inventory)
    HostVars(inventory=inventory, variable_manager=manager, loader=loader)
    play_vars = manager.get_vars(host=inventory.get_host("hub01"), include_hostvars=True)
    defaults = loader.load_from_file(str(ROLE / "defaults" / "main.yml"), trusted_as_template=True)
    variables: dict[str, Any] = dict(SHARED_FALLBACKS)
    variables.update(defaults)  # role defaults: lowest precedence after the fallbacks
    variables.update(play_vars)  # inventory wins over role defaults
    # The role's vars (vars/main.yml: the hub's Secret) win over the inventory.
    variables.update(
        loader.load_from_file(str(ROLE / "vars" / "main.yml"), trusted_as_template=True)
    )
    # The play's vars file (playbooks/jupyterhub.yml: vars_files) and the site CA's directory.
    variables.update(loader.load_from_file(str(HUB_ROUTES), trusted_as_template=True))
    variables.update(loader.load_from_file(str(DASK_VARS), trusted_as_template=True))
    variables["jupyterhub_k8s_ldap_ca_file"] = str(ca)
    variables["jovial_pki_dir"] = str(ca.parent)
    variables.update(overrides or {})
    templar = Templar(loader=loader, variables=variables)
    hubs = templar.template(trust_as_template("{{ jupyterhub_hubs }}"))
    for hub in hubs:  # what tasks/kubernetes.yml has the site CA issue before rendering
        issued = ca.parent / "issued" / f"jupyterhub-{hub['name']}"
        issued.mkdir(parents=True, exist_ok=True)
        (issued / "proxy.crt").write_text(ca.read_text())
        (issued / "proxy.key").write_text(
            "-----BEGIN PRIVATE KEY-----\nMIIBkey\n-----END PRIVATE KEY-----\n"
        )
    out: dict[str, list[dict[str, Any]]] = {}
    for hub in hubs:
        for path in TEMPLATES:
            templar.available_variables = {**variables, "__jupyterhub_hub": hub}
            text = templar.template(trust_as_template(path.read_text())) or ""
            docs = [d for d in yaml.safe_load_all(text) if d]
            out.setdefault(path.name, []).extend(docs)
    return out


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory) -> Path:
    """The site CA's directory on the control node (jovial_pki_dir): ca.crt and crl.pem."""
    ca = tmp_path_factory.mktemp("pki") / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n")
    (ca.parent / "crl.pem").write_text(CRL)
    return ca


CRL = "-----BEGIN X509 CRL-----\nMIIBcrl\n-----END X509 CRL-----\n"


@pytest.fixture(scope="module")
def rendered(ca_file, ansible_plugin_loader) -> dict[str, list[dict[str, Any]]]:
    return render(ca_file)


def all_objects(rendered):
    return [obj for objs in rendered.values() for obj in objs]


def find(rendered, kind, name, namespace="hub-astro"):
    """The one object of that kind and name (in the sample's astro hub unless namespace says
    otherwise; cluster-scoped objects have no namespace)."""
    matches = [
        o
        for o in all_objects(rendered)
        if o["kind"] == kind
        and o["metadata"]["name"] == name
        and o["metadata"].get("namespace", namespace) == namespace
    ]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} objects"
    return matches[0]


def test_every_template_renders_objects(rendered):
    assert {p.name for p in TEMPLATES} == set(rendered)
    kinds = sorted({o["kind"] for o in all_objects(rendered)})
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "LimitRange",
        "NetworkPolicy",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "ResourceQuota",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
    ]


def test_every_object_matches_the_kubernetes_schema(rendered):
    problems = []
    for obj in all_objects(rendered):
        try:
            schema.validate(obj)
        except schema.SchemaError as exc:
            problems.append(str(exc))
    assert problems == []


def test_every_pod_template_is_restricted(rendered):
    workloads = [o for o in all_objects(rendered) if o["kind"] == "Deployment"]
    # Both hubs of the sample (astro, teaching): a hub and a proxy each, in their namespace;
    # astro (dask_gateway: true) its Dask Gateway too.
    assert sorted((o["metadata"]["namespace"], o["metadata"]["name"]) for o in workloads) == [
        ("hub-astro", "dask-gateway"),
        ("hub-astro", "hub"),
        ("hub-astro", "proxy"),
        ("hub-teaching", "hub"),
        ("hub-teaching", "proxy"),
    ]
    for obj in workloads:
        assert podsecurity.check_object(obj) == [], obj["metadata"]["name"]


def _rolls(rendered) -> dict[str, str]:
    """{deployment: the checksum annotation of its pod template} of the astro hub."""
    return {
        name: find(rendered, "Deployment", name)["spec"]["template"]["metadata"]["annotations"][
            "jovial/secret-sha256"
        ]
        for name in ("hub", "proxy")
    }


def test_a_new_proxy_token_or_certificate_rolls_the_pods_that_read_it(rendered, ca_file, tmp_path):
    """configurable-http-proxy and the hub read their secrets only at start: the checksum on
    their pod templates changes with what each reads (the token: both; the proxy's
    certificate: the proxy only), so applying the new Secret replaces those pods."""
    before = _rolls(rendered)
    assert _rolls(render(ca_file)) == before  # the same inputs, the same pods
    new_token = _rolls(render(ca_file, {"jupyterhub_proxy_token": "another-token-" + "x" * 32}))
    assert new_token["hub"] != before["hub"] and new_token["proxy"] != before["proxy"]
    renewed = tmp_path / "pki" / "ca.crt"  # render() issues the proxy's certificate from it
    renewed.parent.mkdir()
    renewed.write_text(ca_file.read_text().replace("MIIBtest", "MIIBrenewed"))
    (renewed.parent / "crl.pem").write_text(CRL)
    new_cert = _rolls(render(renewed))
    assert new_cert["proxy"] != before["proxy"]
    assert find(render(renewed), "Secret", "proxy-tls")["stringData"]["tls.crt"].startswith(
        "-----BEGIN CERTIFICATE-----\nMIIBrenewed"
    )


def test_each_hub_culls_idle_servers_by_its_own_setting_or_the_sites(rendered):
    """The sample's teaching hub sets cull (30 min); astro keeps jupyterhub_cull_*."""
    cullers = {
        namespace: json.loads(
            find(rendered, "ConfigMap", "jupyterhub-config", namespace)["data"]["jovial-kube.json"]
        )["culler"]
        for namespace in ("hub-astro", "hub-teaching")
    }
    assert cullers == {
        "hub-astro": {"timeout": 3600, "every": 600, "max_age": 0},
        "hub-teaching": {"timeout": 1800, "every": 300, "max_age": 0},
    }


def test_default_hubs_sizes_fit_their_quotas(rendered):
    from jovial_hub.kube import hub_problems

    for quota in (o for o in all_objects(rendered) if o["kind"] == "ResourceQuota"):
        namespace = quota["metadata"]["namespace"]
        settings = json.loads(
            next(
                o
                for o in all_objects(rendered)
                if o["kind"] == "ConfigMap"
                and o["metadata"]["namespace"] == namespace
                and o["metadata"]["name"] == "jupyterhub-config"
            )["data"]["jovial-kube.json"]
        )
        (limits,) = next(
            o["spec"]["limits"]
            for o in all_objects(rendered)
            if o["kind"] == "LimitRange" and o["metadata"]["namespace"] == namespace
        )
        hub = {
            "name": namespace,
            "quota": {
                "cpu": quota["spec"]["hard"]["limits.cpu"],
                "memory": quota["spec"]["hard"]["limits.memory"],
                "pods": quota["spec"]["hard"]["pods"],
            },
            "limitrange": {"max": limits["max"], "default": limits["default"]},
            "profiles": settings["kubespawner"]["profiles"],
        }
        assert hub_problems(hub) == []


def test_the_hubs_namespaces_are_the_kubernetes_layers_users_namespaces():
    """A hub deploys into a namespace the kubernetes layer made (Pod Security "restricted",
    default deny): by default kubernetes_user_namespaces lists every hub's namespace."""
    defaults = yaml.safe_load((ROLE.parent / "kubernetes" / "defaults" / "main.yml").read_text())
    loader = DataLoader()
    sample = loader.load_from_file(
        str(SAMPLE / "group_vars" / "all" / "jupyterhub.yml"), trusted_as_template=True
    )
    templar = Templar(loader=loader, variables={**sample})
    namespaces = templar.template(trust_as_template(defaults["kubernetes_user_namespaces"]))
    assert namespaces == ["hub-astro", "hub-teaching"]


def test_quota_and_limits(rendered):
    quota = find(rendered, "ResourceQuota", "jupyterhub-quota")
    # inventories/sample/group_vars/all/jupyterhub.yml, hub astro
    assert quota["spec"]["hard"] == {
        "requests.cpu": "128",
        "requests.memory": "768Gi",
        "limits.cpu": "128",
        "limits.memory": "768Gi",
        "pods": "60",
    }
    (limit,) = find(rendered, "LimitRange", "jupyterhub-limits")["spec"]["limits"]
    assert limit["max"] == {"cpu": "16", "memory": "64Gi"}
    teaching = find(rendered, "ResourceQuota", "jupyterhub-quota", "hub-teaching")
    assert teaching["spec"]["hard"]["limits.memory"] == "128Gi"


def test_a_quota_with_limits_lets_servers_burst_beyond_what_they_reserve(
    ca_file, ansible_plugin_loader
):
    """quota.limits sets the namespace's limits.* apart from what its pods may reserve."""
    hubs = yaml.safe_load((SAMPLE / "group_vars" / "all" / "jupyterhub.yml").read_text())
    hubs = hubs["jupyterhub_hubs"]
    hubs[0]["quota"] = {**hubs[0]["quota"], "limits": {"cpu": "256"}}
    quota = find(render(ca_file, {"jupyterhub_hubs": hubs}), "ResourceQuota", "jupyterhub-quota")
    assert quota["spec"]["hard"] == {
        "requests.cpu": "128",
        "requests.memory": "768Gi",
        "limits.cpu": "256",
        "limits.memory": "768Gi",
        "pods": "60",
    }


def test_user_pods_cannot_reach_control_plane_etcd_ldap(rendered):
    policy = find(rendered, "NetworkPolicy", "singleuser")
    assert policy["spec"]["podSelector"] == {"matchLabels": {"component": "singleuser-server"}}
    ip_rules = [r for r in policy["spec"]["egress"] if "ipBlock" in r["to"][0]]
    (rule,) = ip_rules
    assert rule["to"][0]["ipBlock"] == {
        "cidr": "0.0.0.0/0",
        "except": [
            # kube_control_plane nodes and the kube-apiserver VIP (inventories/sample)
            "10.10.1.11/32",
            "10.10.1.12/32",
            "10.10.1.13/32",
            "10.10.0.20/32",
            # etcd
            "10.10.1.21/32",
            "10.10.1.22/32",
            "10.10.1.23/32",
            # ldap_server
            "10.10.1.31/32",
            "10.10.1.32/32",
            # pod and service networks
            "10.244.0.0/16",
            "10.96.0.0/12",
        ],
    }
    # Inbound: only the hub and its proxy, only the notebook port.
    (ingress,) = policy["spec"]["ingress"]
    assert [
        p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in ingress["from"]
    ] == ["proxy", "hub"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8888}]


def test_proxy_public_port_only_from_front_door_and_nodes(rendered):
    policy = find(rendered, "NetworkPolicy", "proxy")
    public = next(r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == 8000)
    sources = [s["ipBlock"]["cidr"] for s in public["from"]]
    assert sources[:2] == ["10.10.1.41/32", "10.10.1.42/32"]  # proxy01, proxy02
    assert "10.10.3.11/32" in sources  # a worker (NodePort source)
    assert "10.10.1.31/32" not in sources  # not the LDAP servers


def test_hub_rbac_is_namespaced_and_minimal(rendered):
    role = find(rendered, "Role", "hub")
    assert role["metadata"]["namespace"] == "hub-astro"
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["get", "watch", "list", "create", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]},
        {"apiGroups": [""], "resources": ["resourcequotas"], "verbs": ["get", "list"]},
    ]


def test_home_pv_binds_only_to_the_hubs_claim(rendered):
    pv = find(rendered, "PersistentVolume", "jupyterhub-astro-home")
    assert pv["spec"]["claimRef"] == {"namespace": "hub-astro", "name": "lustre-home"}
    assert pv["spec"]["hostPath"] == {"path": "/lustre/obs/home", "type": "Directory"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    pvc = find(rendered, "PersistentVolumeClaim", "lustre-home")
    assert pvc["spec"]["volumeName"] == "jupyterhub-astro-home"


def test_without_group_directories_there_is_no_groups_volume(rendered):
    """The sample runs Lustre, where the storage layer makes no group directories."""
    names = [o["metadata"]["name"] for o in all_objects(rendered)]
    assert "lustre-groups" not in names
    assert "jupyterhub-astro-groups" not in names
    settings = json.loads(
        find(rendered, "ConfigMap", "jupyterhub-config")["data"]["jovial-kube.json"]
    )
    assert settings["kubespawner"]["group_dirs"] == []


def test_group_directories_get_a_pv_bound_to_the_hubs_claim(ca_file, ansible_plugin_loader):
    """With backend moosefs, each lustre_quotas group has a directory: a user pod mounts its
    groups' ones from a second PV per hub, on <mount>/groups."""
    rendered = render(
        ca_file,
        {
            "lustre_server_backend": "moosefs",
            "lustre_quotas": [{"group": "survey-var"}, {"group": "radio"}],
        },
    )
    pv = find(rendered, "PersistentVolume", "jupyterhub-astro-groups")
    assert pv["spec"]["claimRef"] == {"namespace": "hub-astro", "name": "lustre-groups"}
    assert pv["spec"]["hostPath"] == {"path": "/lustre/obs/groups", "type": "Directory"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    pvc = find(rendered, "PersistentVolumeClaim", "lustre-groups")
    assert pvc["spec"]["volumeName"] == "jupyterhub-astro-groups"
    settings = json.loads(
        find(rendered, "ConfigMap", "jupyterhub-config")["data"]["jovial-kube.json"]
    )
    assert {k: v for k, v in settings["kubespawner"].items() if k.startswith("group_")} == {
        "group_claim": "lustre-groups",
        "group_root": "/lustre/obs/groups",
        "group_dirs": ["survey-var", "radio"],
    }
    for obj in all_objects(rendered):
        assert schema.validate(obj) == schema.KUBERNETES_VERSION


def test_rendered_hub_settings_give_a_compliant_user_pod(
    rendered, tmp_path, monkeypatch, offline_kubeconfig, hub, mock_user
):
    """The hub pod's own configuration path: the rendered jupyterhub_config.py (ConfigMap) run
    as JupyterHub runs it, reading the rendered jovial-kube.json (ConfigMap) and
    jovial-ldap.json (Secret), down to the pod KubeSpawner builds for a directory user."""
    config_map = find(rendered, "ConfigMap", "jupyterhub-config")["data"]
    secret = find(rendered, "Secret", "jupyterhub-secret")["stringData"]
    kube_settings = json.loads(config_map["jovial-kube.json"])
    ldap_settings = json.loads(secret["jovial-ldap.json"])
    kube_settings["hub"]["state_dir"] = str(tmp_path)  # stands for the hub-db volume
    (tmp_path / "jovial-kube.json").write_text(json.dumps(kube_settings))
    (tmp_path / "jovial-ldap.json").write_text(secret["jovial-ldap.json"])
    config_py = (
        config_map["jupyterhub_config.py"]
        .replace("/etc/jupyterhub/", f"{tmp_path}/")
        .replace("/etc/jupyterhub-secret/", f"{tmp_path}/")
    )
    looked_up = []

    def directory(settings, name):
        looked_up.append((settings.uris, settings.bind_dn, settings.min_uid, name))
        return Identity(name, 10003, 10101, (), f"/lustre/home/{name}", ("survey-var",))

    monkeypatch.setattr(hubconfig, "lookup_identity", directory)
    # The hub pod's variable from the Secret dask-gateway (the sample's astro has a gateway).
    gateway_secret = find(rendered, "Secret", "dask-gateway")["stringData"]
    monkeypatch.setenv(hubconfig.DASK_GATEWAY_TOKEN_ENV, gateway_secret["api-token"])
    c = Config()
    exec(compile(config_py, "jupyterhub_config.py", "exec"), {"c": c})
    assert c.JupyterHub.cleanup_servers is False
    assert c.JupyterHub.last_activity_interval == 60  # a replaced proxy's routes back in 1 min
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path}/jupyterhub.sqlite"
    assert c.JupyterHub.authenticator_class == "jovial_hub.auth.JovialLDAPAuthenticator"
    assert c.JupyterHub.spawner_class == "jovial_hub.spawner.JovialKubeSpawner"
    assert c.ConfigurableHTTPProxy.should_start is False
    assert c.ConfigurableHTTPProxy.api_url == "http://proxy-api:8001"
    assert c.JovialLDAPAuthenticator.server_addresses == [
        "ldap01.obs.example.org",
        "ldap02.obs.example.org",
    ]
    culler, gateway = c.JupyterHub.services
    assert culler["name"] == "idle-culler"
    # The gateway is the hub's service, reached in the namespace; users may use it.
    assert gateway == {
        "name": "dask-gateway",
        "url": "http://dask-gateway:8010",
        "api_token": gateway_secret["api-token"],
        "display": False,
    }
    assert {"name": "user", "scopes": ["self", config.DASK_GATEWAY_ACCESS]} in (
        c.JupyterHub.load_roles
    )
    assert config.DASK_GATEWAY_ACCESS in c.KubeSpawner.server_token_scopes
    assert culler["command"][1:] == [
        "-m",
        "jupyterhub_idle_culler",
        "--timeout=3600",
        "--cull-every=600",
    ]

    async def spawn():
        spawner = JovialKubeSpawner(
            hub=hub,
            user=mock_user(name="lvega"),
            config=c,
            _mock=True,
            api_token="t",
            oauth_client_id="c",
        )
        spawner.user_options = {"profile": "large"}
        hard = find(rendered, "ResourceQuota", "jupyterhub-quota")["spec"]["hard"]

        async def quotas(namespace):  # the rendered quota, nothing in use yet
            assert namespace == "hub-astro"
            status = V1ResourceQuotaStatus(hard=hard, used={})
            return V1ResourceQuotaList(items=[V1ResourceQuota(status=status)])

        spawner.api.list_namespaced_resource_quota = quotas
        try:
            await spawner.run_pre_spawn_hook()
            await spawner.load_user_options()
            pod = spawner.modify_pod_hook(spawner, await spawner.get_pod_manifest())
            return spawner.api.api_client.sanitize_for_serialization(pod)
        finally:
            await spawner.api.api_client.close()

    pod = asyncio.run(spawn())
    assert looked_up == [
        (tuple(ldap_settings["ldap"]["uris"]), ldap_settings["ldap"]["bind_dn"], 10000, "lvega")
    ]
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == 10003
    assert container["volumeMounts"] == [
        {"name": "home", "mountPath": "/lustre/home/lvega", "subPath": "lvega"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert pod["spec"]["volumes"] == [
        {"name": "home", "persistentVolumeClaim": {"claimName": "lustre-home"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    # The sample's "large" profile of hub astro: 8 CPU, 32 GiB.
    assert container["resources"]["limits"] == {"cpu": 8.0, "memory": 32 * 2**30}
    assert schema.validate(pod) == "1.31"
    assert podsecurity.check_object(pod) == []
    # The server's Dask Gateway client needs nothing pasted: the gateway's Service in the
    # namespace, its scheduler proxy, dashboards through the front door, the hub's token.
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DASK_GATEWAY__ADDRESS"] == (
        "http://dask-gateway.hub-astro.svc:8010/astro/services/dask-gateway"
    )
    assert env["DASK_GATEWAY__PROXY_ADDRESS"] == "tls://dask-gateway.hub-astro.svc:8786"
    assert env["DASK_GATEWAY__PUBLIC_ADDRESS"].endswith("/astro/services/dask-gateway")
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    # A Dask worker made from this very pod (jovial_dask.kube) is restricted too, and is the
    # user: uid, gid, groups and home as the server's, the cluster's certificate mounted.
    pod["metadata"]["annotations"] = {"hub.jupyter.org/username": "lvega"}
    pod["status"] = {"phase": "Running"}
    worker = dask_kube.cluster_pod(
        name="dask-abc-w1", namespace="hub-astro", cluster="abc", username="lvega",
        role="worker", server_pod=pod, command=["/opt/jovial/notebook/bin/dask", "worker"],
        env={"DASK_GATEWAY_CLUSTER_NAME": "abc"}, secret="dask-abc", cores=1,
        memory=2 * 10**9, cpu_request="100m", memory_request=5 * 10**8,
    )  # fmt: skip
    assert schema.validate(worker) == "1.31"
    assert podsecurity.check_object(worker) == []
    assert worker["spec"]["securityContext"]["runAsUser"] == 10003
    assert worker["spec"]["securityContext"]["runAsGroup"] == 10101
    worker_mounts = worker["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "home", "mountPath": "/lustre/home/lvega", "subPath": "lvega"} in worker_mounts


def test_several_hubs_get_separate_objects(ca_file, ansible_plugin_loader):
    sample = SAMPLE / "group_vars" / "all" / "jupyterhub.yml"
    base = yaml.safe_load(sample.read_text())["jupyterhub_hubs"][0]
    second = {**base, "name": "survey", "namespace": "hub-survey", "node_port": 30081}
    objects = all_objects(render(ca_file, {"jupyterhub_hubs": [base, second]}))
    for obj in objects:
        schema.validate(obj)
        assert podsecurity.check_object(obj) == []
    keys = [(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys)), "two objects with the same kind/namespace/name"
    pvs = sorted(o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolume")
    assert pvs == ["jupyterhub-astro-home", "jupyterhub-survey-home"]
    claims = {
        o["metadata"]["name"]: o["spec"]["claimRef"]["namespace"]
        for o in objects
        if o["kind"] == "PersistentVolume"
    }
    assert claims == {"jupyterhub-astro-home": "hub-astro", "jupyterhub-survey-home": "hub-survey"}
    ports = sorted(
        o["spec"]["ports"][0]["nodePort"]
        for o in objects
        if o["kind"] == "Service" and o["metadata"]["name"] == "proxy-public"
    )
    assert ports == [30080, 30081]


def test_the_role_applies_every_template_workloads_last() -> None:
    """tasks/kubernetes.yml applies __jupyterhub_k8s_templates: every template of
    templates/k8s/ (none forgotten), secrets and quota before the workloads."""
    order = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__jupyterhub_k8s_templates"]
    assert sorted(order) == [p.name for p in TEMPLATES]
    assert "namespace.yaml.j2" not in order  # the kubernetes layer's (user-namespaces)
    assert order.index("secret.yaml.j2") < order.index("hub.yaml.j2")
    assert order.index("quota.yaml.j2") < order.index("proxy.yaml.j2")


def test_each_hub_is_served_under_its_path_over_tls(rendered):
    """The front door reaches hub astro at /astro/ over TLS: the hub's base URL and probes use
    the path, the proxy serves the public port with the site CA's certificate for the name
    nginx checks (playbooks/vars/hub_routes.yml), from the proxy-tls Secret."""
    settings = json.loads(
        find(rendered, "ConfigMap", "jupyterhub-config")["data"]["jovial-kube.json"]
    )
    assert settings["hub"]["base_url"] == "/astro/"
    hub = find(rendered, "Deployment", "hub")["spec"]["template"]["spec"]["containers"][0]
    assert hub["readinessProbe"]["httpGet"]["path"] == "/astro/hub/health"
    proxy_pod = find(rendered, "Deployment", "proxy")["spec"]["template"]["spec"]
    args = proxy_pod["containers"][0]["command"]
    assert "--ssl-cert=/etc/jupyterhub-proxy/tls.crt" in args
    assert "--ssl-key=/etc/jupyterhub-proxy/tls.key" in args
    assert "--error-target=http://hub:8081/astro/hub/error" in args
    assert proxy_pod["volumes"] == [
        {"name": "tls", "secret": {"secretName": "proxy-tls", "defaultMode": 0o440}}
    ]
    secret = find(rendered, "Secret", "proxy-tls")
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["stringData"]["tls.key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_without_a_provisioner_the_hub_database_is_a_local_volume_on_one_node(ca_file):
    objects = render(ca_file, {"jupyterhub_k8s_hub_db_node": "kw1"})
    pv = find(objects, "PersistentVolume", "jupyterhub-astro-db")
    assert pv["spec"]["local"] == {"path": "/var/lib/jovial/hubs/astro"}
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["kw1"]}
            ]
        }
    ]
    assert pv["spec"]["claimRef"] == {"namespace": "hub-astro", "name": "hub-db"}
    claim = find(objects, "PersistentVolumeClaim", "hub-db")
    assert claim["spec"]["volumeName"] == "jupyterhub-astro-db"
    assert claim["spec"]["storageClassName"] == ""
    schema.validate(pv)


def hub_secret_checksum(objects) -> str:
    return find(objects, "Deployment", "hub")["spec"]["template"]["metadata"]["annotations"][
        "jovial/secret-sha256"
    ]


def test_the_hub_checks_the_ldap_servers_against_the_ca_and_its_crl(rendered):
    """The hub's Secret ships the site CA's CRL (jupyterhub_k8s_ldap_crl_file, the control
    node's <jovial_pki_dir>/crl.pem) beside its certificate, and the rendered LDAP settings
    point the login and the uid lookup at both, where the Secret is mounted."""
    secret = find(rendered, "Secret", "jupyterhub-secret")["stringData"]
    assert secret["ldap-crl.pem"] == CRL
    assert secret["ldap-ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert secret["proxy-token"].startswith("REPLACE-ME")
    assert "\n" not in secret["proxy-token"]  # the hub and proxy read it as is (env)
    ldap = json.loads(secret["jovial-ldap.json"])["ldap"]
    assert ldap["ca_file"] == "/etc/jupyterhub-secret/ldap-ca.crt"
    assert ldap["crl_file"] == "/etc/jupyterhub-secret/ldap-crl.pem"
    pod = find(rendered, "Deployment", "hub")["spec"]["template"]["spec"]
    assert {"name": "secret", "mountPath": "/etc/jupyterhub-secret", "readOnly": True} in pod[
        "containers"
    ][0]["volumeMounts"]
    assert config.authenticator_config(ldap)["crl_file"] == ldap["crl_file"]
    assert hubconfig.identity_settings(ldap).crl_file == ldap["crl_file"]


def test_a_new_crl_rolls_the_hub_pod(rendered, tmp_path, ansible_plugin_loader):
    """The hub's pod template carries the checksum of its Secret: a new CRL changes it (so the
    Deployment rolls); rendering the same inputs again does not."""
    crl = tmp_path / "crl.pem"
    crl.write_text(CRL)
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n")
    before = hub_secret_checksum(render(ca))
    assert before == hub_secret_checksum(rendered)
    crl.write_text(CRL.replace("MIIBcrl", "MIIBnewcrl"))
    after = render(ca)
    assert find(after, "Secret", "jupyterhub-secret")["stringData"]["ldap-crl.pem"] != CRL
    assert hub_secret_checksum(after) != before


def test_without_a_crl_the_secret_has_none_and_no_check_is_made(ca_file, ansible_plugin_loader):
    objects = render(ca_file, {"jupyterhub_k8s_ldap_crl_file": ""})
    secret = find(objects, "Secret", "jupyterhub-secret")["stringData"]
    assert "ldap-crl.pem" not in secret
    ldap = json.loads(secret["jovial-ldap.json"])["ldap"]
    assert ldap["crl_file"] == ""
    assert hubconfig.identity_settings(ldap).crl_file == ""
