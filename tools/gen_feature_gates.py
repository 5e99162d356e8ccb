#!/usr/bin/env python3
"""gen_feature_gates.py - writes lib/featuregate_table.c, the feature gates
kube-controller-manager knows, from the upstream Go sources in a module cache.

Owns: turning upstream's gate declarations into kubus's one table of known
gates (name, default, stage, locked) at upstream's emulation version. It
reads facts (names and specs) only; no upstream code is copied.

Usage: tools/gen_feature_gates.py [GOMODCACHE] > lib/featuregate_table.c
(GOMODCACHE defaults to ~/go/pkg/mod). The gate set is the one
kube-controller-manager registers: k8s.io/kubernetes pkg/features (which
relists the apiserver, apiextensions, controller-manager and zpages gates),
client-go's, component-base's logging and metrics gates, and the two
special gates AllAlpha and AllBeta.
"""
import os
import re
import sys

K8S = "1.36.3"
MOD = "0.36.3"
EMULATED = (1, 36)
MIN_COMPAT = (1, 35)  # emulated - 1, upstream's default

ENTRY = re.compile(r"^\s*((?:[A-Za-z]+\.)?[A-Za-z0-9]+):\s*\{\s*$")
SPEC = re.compile(r"\{([^{}]*Version:[^{}]*)\}")
CONST = re.compile(r'^\s*([A-Za-z0-9]+)(?:\s+(?:featuregate\.)?Feature)?\s*=\s*(?:featuregate\.Feature\()?"([A-Za-z0-9]+)"', re.M)
STAGES = {"Alpha": "FG_ALPHA", "Beta": "FG_BETA", "GA": "FG_GA", "Deprecated": "FG_DEPRECATED"}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def version(text):
    m = re.search(r'MustParse\("(\d+)\.(\d+)"\)', text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def spec_of(text):
    """One FeatureSpec literal -> (version, default, stage, locked, min_compat)."""
    d = re.search(r"Default:\s*(true|false)", text)
    p = re.search(r"PreRelease:\s*(?:featuregate\.)?([A-Za-z]+)", text)
    lock = re.search(r"LockToDefault:\s*(true|false)", text)
    mc = re.search(r'MinCompatibilityVersion:\s*version\.MustParse\("(\d+)\.(\d+)"\)', text)
    ver_text = re.sub(r"MinCompatibilityVersion:[^,}]*", "", text)
    return (version(ver_text), d.group(1) == "true", p.group(1),
            bool(lock and lock.group(1) == "true"),
            (int(mc.group(1)), int(mc.group(2))) if mc else None)


def effective(specs):
    """The spec in force at the emulated version, as upstream picks it."""
    for s in sorted(specs, key=lambda s: s[0], reverse=True):
        if s[0] > EMULATED:
            continue
        if s[4] is not None and MIN_COMPAT < s[4]:
            continue
        return s
    return None  # PreAlpha: not settable


def map_entries(text, start):
    """Gate key -> spec list of the map literal that begins at `start`."""
    body = text[text.index(start):]
    out, key, buf, depth = {}, None, "", 0
    for line in body.splitlines()[1:]:
        if key is None:
            if line.strip() == "}":
                break
            m = ENTRY.match(line)
            if m:
                key, buf, depth = m.group(1), "", 1
            continue
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            out[key] = [spec_of(s) for s in SPEC.findall(buf)]
            key = None
        else:
            buf += line + "\n"
    return out


def consts(*paths):
    names = {}
    for p in paths:
        for m in CONST.finditer(read(p)):
            names[m.group(1)] = m.group(2)
    return names


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/go/pkg/mod")
    k = os.path.join(root, "k8s.io")
    kube = os.path.join(k, f"kubernetes@v{K8S}", "pkg/features/kube_features.go")
    pkgs = {
        "": kube,
        "genericfeatures": os.path.join(k, f"apiserver@v{MOD}", "pkg/features/kube_features.go"),
        "apiextensionsfeatures": os.path.join(k, f"apiextensions-apiserver@v{MOD}", "pkg/features/kube_features.go"),
        "kcmfeatures": os.path.join(k, f"controller-manager@v{MOD}", "pkg/features/kube_features.go"),
        "zpagesfeatures": os.path.join(k, f"component-base@v{MOD}", "zpages/features/kube_features.go"),
    }
    names = {pfx: consts(path) for pfx, path in pkgs.items()}
    gates = {}

    def add(name, specs):
        s = effective(specs)
        if s is not None:
            gates[name] = s

    for key, specs in map_entries(read(kube), "defaultVersionedKubernetesFeatureGates = map").items():
        pfx, _, ident = key.rpartition(".")
        add(names[pfx][ident], specs)
    others = [
        (os.path.join(k, f"client-go@v{MOD}", "features/known_features.go"), "defaultVersionedKubernetesFeatureGates = map"),
        (os.path.join(k, f"component-base@v{MOD}", "logs/api/v1/kube_features.go"), "return map"),
        (os.path.join(k, f"component-base@v{MOD}", "metrics/features/kube_features.go"), "return map"),
        (pkgs["zpagesfeatures"], "return map"),
    ]
    for path, start in others:
        local = consts(path)
        for key, specs in map_entries(read(path), start).items():
            add(local[key], specs)
    gates["AllAlpha"] = ((0, 0), False, "Alpha", False, None)
    gates["AllBeta"] = ((0, 0), False, "Beta", False, None)

    print("/* featuregate_table.c - the feature gates kube-controller-manager v%s knows." % K8S)
    print(" *")
    print(" * Owns: nothing but data. Generated by tools/gen_feature_gates.py from the")
    print(" * upstream sources (k8s.io/kubernetes v%s and its v%s staging modules):" % (K8S, MOD))
    print(" * name, default, stage and lock at emulated version %d.%d. Do not edit;" % EMULATED)
    print(" * regenerate for a new upstream release. Sorted by name (featuregate.c")
    print(" * searches it with bsearch). */")
    print('#include "featuregate.h"')
    print()
    print("const fg_gate_t fg_gates[FG_GATE_COUNT] = {")
    for name in sorted(gates):
        _, dflt, stage, lock, _ = gates[name]
        print('    { "%s", %s, %s, %s },' % (name, "true" if dflt else "false", STAGES[stage],
                                            "true" if lock else "false"))
    print("};")
    print("FG_GATE_COUNT in lib/featuregate.h must be %d" % len(gates), file=sys.stderr)


if __name__ == "__main__":
    main()
