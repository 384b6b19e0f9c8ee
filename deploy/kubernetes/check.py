#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests in this directory and socket/ (no cluster needed).

  check.py --bin-dir BUILD/bin     lint, schema, regfront's own rules, then the self-test

1. yamllint --strict over every YAML file here (.yamllint: the defaults, 110 columns).
2. Every document of a built-in kind is walked against the Kubernetes Python client's model
   (Debian python3-kubernetes): an unknown field (a typo such as terminationGracePeriodSecond),
   a scalar of the wrong type (replicas: "3") or a missing required field fails. The
   NetworkAttachmentDefinition (a CRD the client has no model for) is checked by hand.
3. regfront's rules: guaranteed QoS with whole CPUs, hugepages on a HugePages-1Gi volume, the
   SR-IOV resource and its Multus network agree, SHARDS equals replicas, the grace period
   covers --shutdown-timeout, and start.sh (the ConfigMap's wrapper) composes for every pod
   ordinal a startup-config that `regfrontd --check-config` accepts in shard ORDINAL of N.
4. The self-test feeds the same checks broken manifests and expects each to be refused.
"""
import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEBIAN_PYTHON = "/usr/bin/python3"

try:
    import yaml
    from kubernetes import client as k8s
except ImportError:
    # The build's Python (a pyenv one, say) may not see Debian's packages: use Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    sys.exit("check.py: needs python3-yaml and python3-kubernetes (deploy/install-deps.sh)")

HERE = os.path.dirname(os.path.abspath(__file__))
NAD_API = "k8s.cni.cncf.io/v1"


# ---- 2. schema ---------------------------------------------------------------------------

def model_class(api_version, kind):
    """apps/v1 StatefulSet -> V1StatefulSet, v1 ConfigMap -> V1ConfigMap, policy/v1 ... ."""
    version = api_version.split("/")[-1]
    return getattr(k8s, version[0].upper() + version[1:] + kind, None)


def scalar_ok(type_name, value):
    if type_name == "str":
        return isinstance(value, str)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "datetime":
        return isinstance(value, str)
    return None  # not a scalar type


def walk(type_name, value, path, errors):
    """Checks value against the client's type name (as in its models' openapi_types)."""
    if value is None:
        return
    if type_name == "object":  # IntOrString and free-form fields
        return
    ok = scalar_ok(type_name, value)
    if ok is not None:
        if not ok:
            errors.append(f"{path}: {value!r} is not of type {type_name}")
        return
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list of {m.group(1)}")
            return
        for i, item in enumerate(value):
            walk(m.group(1), item, f"{path}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map of {m.group(1)}")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{path}: key {k!r} is not a string")
            walk(m.group(1), v, f"{path}.{k}", errors)
        return
    cls = getattr(k8s, type_name, None)
    if cls is None:
        errors.append(f"{path}: the client has no model {type_name}")
        return
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({type_name}), got {value!r}")
        return
    by_json = {j: a for a, j in cls.attribute_map.items()}
    kwargs = {}
    for key, v in value.items():
        attr = by_json.get(key)
        if attr is None:
            errors.append(f"{path}.{key}: unknown field of {type_name}")
            continue
        walk(cls.openapi_types[attr], v, f"{path}.{key}", errors)
        kwargs[attr] = v
    # The constructor's setters refuse a required field left out (and enum values they know),
    # when client-side validation is on (the default).
    try:
        cls(**kwargs)
    except (ValueError, TypeError) as e:
        errors.append(f"{path}: {type_name}: {e}")


def check_nad(doc, where, errors):
    if doc.get("kind") != "NetworkAttachmentDefinition":
        errors.append(f"{where}: {NAD_API} has only NetworkAttachmentDefinition, not {doc.get('kind')}")
        return
    unknown = set(doc) - {"apiVersion", "kind", "metadata", "spec"}
    if unknown:
        errors.append(f"{where}: unknown top-level fields {sorted(unknown)}")
    walk("V1ObjectMeta", doc.get("metadata"), f"{where}.metadata", errors)
    if not (doc.get("metadata") or {}).get("name"):
        errors.append(f"{where}.metadata.name: missing")
    spec = doc.get("spec")
    if not isinstance(spec, dict) or set(spec) - {"config"}:
        errors.append(f"{where}.spec: must be an object with config only")
        return
    try:
        cfg = json.loads(spec.get("config", ""))
    except (TypeError, json.JSONDecodeError) as e:
        errors.append(f"{where}.spec.config: not JSON: {e}")
        return
    for key in ("cniVersion", "type"):
        if not isinstance(cfg.get(key), str):
            errors.append(f"{where}.spec.config.{key}: missing")
    if cfg.get("type") == "sriov" and "vlan" in cfg and not (isinstance(cfg["vlan"], int) and 0 <= cfg["vlan"] <= 4094):
        errors.append(f"{where}.spec.config.vlan: {cfg['vlan']!r} is not 0..4094")


def check_schema(doc, where):
    errors = []
    if not isinstance(doc, dict):
        return [f"{where}: not a mapping"]
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str):
        return [f"{where}: apiVersion and kind are required"]
    if api == NAD_API:
        check_nad(doc, where, errors)
        return errors
    cls = model_class(api, kind)
    if cls is None:
        return [f"{where}: {api} {kind}: no model in the Kubernetes client (not a built-in kind?)"]
    walk(cls.__name__, doc, where, errors)
    return errors


# ---- 3. regfront's rules -----------------------------------------------------------------

def whole_cpus(q):
    return isinstance(q, str) and re.fullmatch(r"[1-9][0-9]*", q) is not None


def env_of(container):
    return {e.get("name"): e.get("value") for e in container.get("env") or []}


def check_statefulset(sts, docs, where):
    errors = []
    spec = sts.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
    if spec.get("podManagementPolicy") != "Parallel":
        errors.append(f"{where}: podManagementPolicy must be Parallel (the shards are independent)")
    replicas = spec.get("replicas")
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    nads = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "NetworkAttachmentDefinition"}
    containers = (pod.get("initContainers") or []) + (pod.get("containers") or [])
    for c in containers:
        cw = f"{where}: container {c.get('name')}"
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if not req or req != lim:
            errors.append(f"{cw}: requests must equal limits (guaranteed QoS), got {req} and {lim}")
        for r in ("cpu", "memory"):
            if r not in lim:
                errors.append(f"{cw}: no {r} limit (guaranteed QoS needs cpu and memory)")
        if "cpu" in lim and not whole_cpus(lim["cpu"]):
            errors.append(f"{cw}: cpu {lim['cpu']!r} is not a whole number of CPUs (static CPU manager)")
        if "hugepages-1Gi" in lim:
            mounted = {m.get("name") for m in c.get("volumeMounts") or []}
            if not any(((volumes.get(n) or {}).get("emptyDir") or {}).get("medium") == "HugePages-1Gi" for n in mounted):
                errors.append(f"{cw}: hugepages-1Gi requested but no HugePages-1Gi emptyDir mounted")
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                errors.append(f"{cw}: mounts {m.get('name')}, which is no volume")
        env = env_of(c)
        if "SHARDS" in env and str(replicas) != env["SHARDS"]:
            errors.append(f"{cw}: SHARDS={env['SHARDS']} but replicas: {replicas}")
        try:
            timeout = int(env.get("SHUTDOWN_TIMEOUT", "10"))
        except ValueError:
            timeout = 10**9
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if not isinstance(grace, int) or grace <= timeout:
            errors.append(f"{cw}: terminationGracePeriodSeconds {grace} does not cover "
                          f"--shutdown-timeout {timeout} (SIGTERM unregisters every binding)")
        sec = c.get("securityContext") or {}
        if sec.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{cw}: readOnlyRootFilesystem must be true")
        if (sec.get("capabilities") or {}).get("drop") != ["ALL"]:
            errors.append(f"{cw}: capabilities must drop ALL and add back only what DPDK needs")
        if c in (pod.get("containers") or []):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    errors.append(f"{cw}: no {probe}")
        # The SR-IOV resource, its Multus network and the variable naming the VF agree.
        sriov = [r for r in lim if "/" in r]
        for r in sriov:
            var = "PCIDEVICE_" + re.sub(r"[^A-Za-z0-9]", "_", r).upper()
            if env.get("SRIOV_PCI_ENV") != var:
                errors.append(f"{cw}: requests {r}, whose VF is in {var}, but SRIOV_PCI_ENV is "
                              f"{env.get('SRIOV_PCI_ENV')}")
            networks = [n.strip().split("@")[0] for n in
                        annotations.get("k8s.v1.cni.cncf.io/networks", "").split(",") if n.strip()]
            if not any((nads.get(n, {}).get("metadata", {}).get("annotations") or {})
                       .get("k8s.v1.cni.cncf.io/resourceName") == r for n in networks):
                errors.append(f"{cw}: requests {r} but no network of k8s.v1.cni.cncf.io/networks "
                              f"({networks}) is a NetworkAttachmentDefinition of that resource")
    return errors


def check_shards(sts, docs, bin_dir, where):
    """Runs the ConfigMap's start.sh in --check-config mode for every pod ordinal."""
    errors = []
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    if "start.sh" not in " ".join(c.get("command") or []) + " ".join(c.get("args") or []):
        return [f"{where}: the container does not run start.sh (which passes --shard)"]
    cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts") or []}
    data = {}  # what the pod sees in its configuration directory: a ConfigMap, or several projected
    for v in pod.get("volumes") or []:
        if v.get("name") not in mounts:
            continue
        names = [v["configMap"]["name"]] if "configMap" in v else \
            [s["configMap"]["name"] for s in (v.get("projected") or {}).get("sources") or [] if "configMap" in s]
        for name in names:
            if name not in cms:
                errors.append(f"{where}: volume {v['name']} takes ConfigMap {name}, which is not here")
            else:
                data.update(cms[name].get("data") or {})
    if "start.sh" not in data or "startup-config" not in data:
        return errors + [f"{where}: no start.sh and startup-config among the mounted ConfigMaps"]
    script = data["start.sh"]
    # Both ways out of start.sh (the check and the daemon) give regfrontd --shard ORDINAL/SHARDS.
    if len(re.findall(r'--shard "?\$ordinal/\$shards', script)) < 2:
        errors.append(f"{where}: start.sh does not pass --shard $ordinal/$shards to regfrontd")
    regfrontd = os.path.join(bin_dir, "regfrontd")
    with tempfile.TemporaryDirectory() as tmp:
        etc, run = os.path.join(tmp, "etc"), os.path.join(tmp, "run")
        os.mkdir(etc)
        os.mkdir(run)
        for key, text in data.items():
            with open(os.path.join(etc, key), "w") as f:
                f.write(text)
        env = dict(os.environ, REGFRONTD=regfrontd, CONFIG_DIR=etc, RUN_DIR=run)
        env.update({k: v for k, v in env_of(c).items() if v is not None})
        n = spec["replicas"]
        for ordinal in range(n):
            env["HOSTNAME"] = f"{sts['metadata']['name']}-{ordinal}"
            p = subprocess.run(["/bin/sh", os.path.join(etc, "start.sh"), "--check-config"], env=env,
                               capture_output=True, text=True, timeout=60)
            out = (p.stdout + p.stderr).strip()
            print(f"  {env['HOSTNAME']}: {out}")
            if p.returncode != 0 or f"in shard {ordinal} of {n})" not in out:
                errors.append(f"{where}: pod {env['HOSTNAME']}: regfrontd --check-config: {out}")
    return errors


# ---- driving -----------------------------------------------------------------------------

def load_kustomization(directory):
    """The documents of a kustomization's resources, as (file, index, document)."""
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    out = []
    for r in kust.get("resources") or []:
        path = os.path.join(directory, r)
        if os.path.isdir(path):
            out += load_kustomization(path)
            continue
        with open(path) as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc is not None:
                    out.append((os.path.relpath(path, HERE), i, doc))
    return out


VARIANTS = ("", "socket")  # kustomization roots: DPDK, and the kernel-socket backend


def check_directory(directory, bin_dir):
    errors = []
    yamls = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(directory) for f in fs
                   if f.endswith((".yaml", ".yml")))
    p = subprocess.run(["yamllint", "--strict", "-c", os.path.join(directory, ".yamllint")] + yamls,
                       capture_output=True, text=True)
    print(f"yamllint --strict: {len(yamls)} files, exit {p.returncode}")
    if p.returncode != 0:
        errors.append("yamllint:\n" + p.stdout + p.stderr)
    listed = set()
    checked = set()
    for variant in VARIANTS:
        root = os.path.join(directory, variant)
        docs = load_kustomization(root)
        listed |= {os.path.join(HERE, f) for f, _, _ in docs} | {os.path.join(root, "kustomization.yaml")}
        plain = [d for _, _, d in docs]
        print(f"{variant or 'dpdk'} ({os.path.relpath(root, directory)}/kustomization.yaml): {len(docs)} documents")
        for f, i, doc in docs:
            where = f"{f}#{i} {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
            if (f, i) not in checked:
                checked.add((f, i))
                errs = check_schema(doc, where)
                print(f"  schema: {where}: {'OK' if not errs else str(len(errs)) + ' error(s)'}")
                errors += errs
            if doc.get("kind") == "StatefulSet" and not check_schema(doc, where):
                errors += check_statefulset(doc, plain, where)
                if bin_dir is not None:
                    errors += check_shards(doc, plain, bin_dir, where)
    for y in yamls:
        if y not in listed and os.path.basename(y) != "kustomization.yaml":
            errors.append(f"{os.path.relpath(y, directory)}: in no kustomization's resources")
    return errors


def self_test():
    """Each broken copy of the StatefulSet must be refused, naming what is wrong; the
    unbroken one must pass. Then a broken file end to end, through check_directory."""
    docs = [d for _, _, d in load_kustomization(HERE)]
    sts = next(d for d in docs if d.get("kind") == "StatefulSet")
    failures = []

    def expect(name, doc, needle, check):
        errs = check(doc)
        hit = [e for e in errs if needle in e]
        print(f"self-test: {name}: {'refused' if hit else 'NOT refused'}" + (f" ({hit[0]})" if hit else ""))
        if not hit:
            failures.append(f"self-test: {name} was not refused with '{needle}': {errs}")

    if check_schema(sts, "StatefulSet") or check_statefulset(sts, docs, "StatefulSet"):
        failures.append("self-test: the unbroken StatefulSet does not pass")
    schema = lambda d: check_schema(d, d.get("kind", "?"))  # noqa: E731
    rules = lambda d: check_statefulset(d, docs, "StatefulSet")  # noqa: E731

    d = copy.deepcopy(sts)
    pod = d["spec"]["template"]["spec"]
    pod["terminationGracePeriodSecond"] = pod.pop("terminationGracePeriodSeconds")
    expect("misspelled terminationGracePeriodSecond", d, "terminationGracePeriodSecond: unknown field", schema)
    d = copy.deepcopy(sts)
    d["spec"]["replicas"] = "3"
    expect("replicas as a string", d, "replicas: '3' is not of type int", schema)
    d = copy.deepcopy(sts)
    del d["spec"]["template"]["spec"]["containers"][0]["name"]
    expect("container without a name", d, "`name`, must not be `None`", schema)
    d = copy.deepcopy(sts)
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "3500m"
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "3500m"
    expect("cpu 3500m", d, "not a whole number of CPUs", rules)
    d = copy.deepcopy(sts)
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = "1Gi"
    expect("requests != limits", d, "requests must equal limits", rules)
    d = copy.deepcopy(sts)
    d["spec"]["replicas"] = 4
    expect("replicas without SHARDS", d, "SHARDS=3 but replicas: 4", rules)
    nad = next(d for d in docs if d.get("kind") == "NetworkAttachmentDefinition")
    d = copy.deepcopy(nad)
    d["spec"]["config"] = d["spec"]["config"].replace('"vlan": 100,', '"vlan": 100')
    expect("NetworkAttachmentDefinition config not JSON", d, "spec.config: not JSON", schema)

    # End to end: the directory copied with one typo in statefulset.yaml.
    with tempfile.TemporaryDirectory() as tmp:
        copy_dir = os.path.join(tmp, "kubernetes")
        shutil.copytree(HERE, copy_dir, ignore=shutil.ignore_patterns("__pycache__"))
        path = os.path.join(copy_dir, "statefulset.yaml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("terminationGracePeriodSeconds:", "terminationGracePeriodSecond:"))
        errs = check_directory_at(copy_dir)
        hit = [e for e in errs if "terminationGracePeriodSecond: unknown field" in e]
        print(f"self-test: statefulset.yaml with the typo, whole directory: {'refused' if hit else 'NOT refused'}")
        if not hit:
            failures.append(f"self-test: the directory with a typo passed: {errs}")
    return failures


def check_directory_at(directory):
    global HERE
    saved, HERE = HERE, directory
    try:
        return check_directory(directory, None)
    finally:
        HERE = saved


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", help="the build's bin directory (regfrontd for --check-config)")
    args = ap.parse_args()
    errors = check_directory(HERE, args.bin_dir)
    if args.bin_dir is None:
        errors.append("--bin-dir not given: the startup-config was not checked by regfrontd")
    errors += self_test()
    for e in errors:
        print(f"FAIL: {e}")
    print("check.py: " + ("FAILED" if errors else "all checks passed"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
