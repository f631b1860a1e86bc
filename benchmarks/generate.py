"""Generate a large, deterministic catalog in the DSL or the YAML form, for benchmarks.

    python benchmarks/generate.py OUT_DIR [--form dro|yaml] [--steps N] [--scenarios N]
                                          [--files N] [--seed N]

Both forms are written from one model built from the seed, so for the same arguments
`--form dro` and `--form yaml` hold the same declarations in the same file layout
(`part_NN/fNNNN.dro` beside `part_NN/fNNNN.dro.yaml`) and compile to the same templates.

The catalog: groups of 5 steps (10,000 steps = 2,000 groups) of every step type, with
callout bodies and headers holding Jinja templates, retries, durations, `after` within
the group and to earlier groups (acyclic by construction), `when` expressions; one
scenario per group or so; ~20 lanes; 10 endpoints; a few dozen jeopardy and fallout
rules; a few hundred decompositions chained in three levels (bundle -> module ->
product, modules also into later modules), hence acyclic. File 0 also holds the
shared declarations (lanes, endpoints, rules), as a real catalog's common file would.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forms import Block, Dur, Env, Expr, Ident, Into, Ref, to_dro, to_yaml

DEFAULT_SEED = 20261201
GROUP_SIZE = 5
FORMS = ("dro", "yaml")
SUFFIX = {"dro": ".dro", "yaml": ".dro.yaml"}
FILES_PER_DIR = 50
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "catalog.schema.json"


# ---- vocabulary -------------------------------------------------------------------

LANES = [
    ("inventory", "Inventory"), ("shipping", "Shipping"), ("billing", "Billing"),
    ("field", "Field service"), ("provisioning", "Network provisioning"),
    ("credit", "Credit & risk"), ("logistics", "Logistics"), ("tax", "Tax"),
    ("payments", "Payments"), ("crm", "Customer records"), ("erp", "ERP"),
    ("support", "Customer support"), ("legal", "Legal"), ("procurement", "Procurement"),
    ("activation", "Service activation"), ("returns", "Returns"),
    ("notifications", "Notifications"), ("warehouse", "Warehouse (Köln)"),
    ("installation", "Installation"), ("quality", "Quality assurance"),
]

ENDPOINTS = [
    "wms", "crm_api", "billing_api", "provisioning_api", "logistics_api",
    "tax_api", "payments_api", "notify_api", "fieldops_api", "erp_api",
]

FLOWS = [
    "acme_flows:start_billing", "acme_flows:stop_billing", "acme_flows.credit:score",
    "acme_flows.inventory:allocate", "acme_flows.tax:compute", "acme_flows.crm:sync_account",
    "acme_flows.assets:create_asset", "acme_flows.notify:send_confirmation",
]

QUEUES = [
    "credit_team", "installers", "warehouse_team", "billing_ops", "support_tier2",
    "legal_review", "procurement_desk", "activation_desk",
]

EVENTS = [
    "work_order.completed", "shipment.delivered", "port.ready", "payment.settled",
    "customer.confirmed", "device.online",
]

VERBS = {
    "callout": ["reserve", "ship", "invoice", "provision", "register", "notify", "charge",
                "allocate", "book_slot", "sync"],
    "auto": ["score", "compute_tax", "create_asset", "enrich", "start_billing", "archive"],
    "manual": ["approve", "install", "inspect", "review", "verify_docs", "call_customer"],
    "milestone": ["delivered", "activated", "ready", "closed"],
    "pause": ["wait_work_order", "wait_delivery", "wait_port", "cool_off"],
}

SLA = [  # (duration, jeopardy threshold < duration)
    ("30m", "10m"), ("1h", "15m"), ("1h30m", "20m"), ("2h", "30m"), ("4h", "1h"),
    ("8h", "2h"), ("1d", "4h"), ("2d", "8h"),
]

STEP_WHEN = [
    "item.attributes.express == true",
    "bundle.attributes.onsite_setup == true",
    "item.quantity > 1",
    'order.attributes.country in ["DE", "FR", "IT", "ES"]',
    'order.attributes.country not in ["US", "CA"]',
    "exists(item.attributes.serial)",
    'not (item.attributes.tier == "basic")',
    'item.attributes["color-code"] != null',
    'item.attributes.tier == "gold" or item.quantity >= 10',
    'bundle.attributes.segment == "enterprise" and order.attributes.priority <= 2',
]


FALLOUT_RETRY: dict[str, dict[str, Any]] = {
    "staggered": {"policy": Ident("staggered"), "intervals": [Dur("10s"), Dur("1m"), Dur("5m")]},
    "monotonous": {"policy": Ident("monotonous"), "retries": 3, "interval": Dur("30s")},
    "exponential": {"policy": Ident("exponential"), "retries": 5, "initial": Dur("1s"),
                    "factor": 2, "max": Dur("1m")},
}


def _retry(rng: random.Random) -> dict[str, Any]:
    policy = rng.choice(["immediate", "monotonous", "staggered", "exponential"])
    if policy == "immediate":
        return {"policy": Ident(policy), "retries": rng.randint(1, 3)}
    if policy == "monotonous":
        return {"policy": Ident(policy), "retries": rng.randint(2, 5),
                "interval": Dur(rng.choice(["10s", "30s", "1m", "5m"]))}
    if policy == "staggered":
        return {"policy": Ident(policy),
                "intervals": [Dur(d) for d in rng.choice(
                    [["10s", "1m", "5m"], ["30s", "2m"], ["1m", "10m", "1h"]])]}
    return {"policy": Ident(policy), "retries": rng.randint(3, 6), "initial": Dur("1s"),
            "factor": rng.choice([2, 1.5, 3]), "max": Dur(rng.choice(["1m", "5m"]))}


# ---- the model --------------------------------------------------------------------

def _product(n: int) -> str:
    return f"P-{n:05d}"


def _step(rng: random.Random, g: int, k: int, step_type: str, after: list[Ref],
          callouts_before: list[tuple[str, str]]) -> Block:
    verb = rng.choice(VERBS[step_type])
    step_id = f"g{g:05d}_s{k}_{verb}"
    title = f"{verb.replace('_', ' ').capitalize()} ({g}.{k})"
    a: dict[str, Any] = {"type": Ident(step_type),
                         "lane": Ident(rng.choice(LANES)[0]),
                         "scope": Ident(rng.choice(["plan", "bundle", "line_item", "line_item"]))}
    if rng.random() < 0.1:
        a["description"] = f"Generated step {k} of group {g}; see the runbook."
    if after:
        a["after"] = after
    if rng.random() < 0.2:
        a["when"] = Expr(rng.choice(STEP_WHEN))
    if step_type in ("callout", "auto") and rng.random() < 0.3:
        a["run_as"] = rng.choice(["integration@acme", "svc-{{ order.account }}@acme"])
    if step_type != "milestone" and rng.random() < 0.6:
        duration, jeopardy = rng.choice(SLA)
        a["duration"] = Dur(duration)
        a["jeopardy"] = Dur(jeopardy)

    if step_type == "callout":
        endpoint = rng.choice(ENDPOINTS)
        a["endpoint"] = Ident(endpoint)
        a["method"] = Ident(rng.choice(["POST", "POST", "PUT", "PATCH", "GET"]))
        a["path"] = rng.choice([f"/{verb}s", f"/orders/{{{{ order.id }}}}/{verb}",
                                f"/items/{{{{ item.id }}}}/{verb}"])
        a["headers"] = {"X-Order": "{{ order.id }}",
                        "X-Trace": "{{ plan.id }}/{{ step.id }}/{{ step.attempt }}"}
        body: dict[str, Any] = {
            "sku": "{{ item.product }}",
            "quantity": "{{ item.quantity }}",
            "order": {"id": "{{ order.id }}", "account": "{{ order.account }}"},
            "color": "{{ item.attributes.color | default('none') }}",
            "mode": "{% if item.quantity > 1 %}bulk{% else %}single{% endif %}",
            "priority": rng.randint(1, 5),
            "tags": ["dro", verb],
        }
        if callouts_before and rng.random() < 0.5:
            dep, key = rng.choice(callouts_before)
            body["ref"] = f"{{{{ outputs.{dep}.{key} }}}}"
        a["body"] = body
        a["expect"] = rng.choice([[200], [200, 201], [200, 201, 202], [204]])
        a["capture"] = {f"{verb}_id": "id", "status": "status"}
        if rng.random() < 0.3:
            a["timeout"] = Dur(rng.choice(["5s", "10s", "30s"]))
        if rng.random() < 0.7:
            a["retry"] = _retry(rng)
        if rng.random() < 0.1:
            a["queue"] = Ident(rng.choice(QUEUES))
    elif step_type == "auto":
        if rng.random() < 0.75:
            a["flow"] = rng.choice(FLOWS)
            a["inputs"] = {"account": "{{ order.account }}", "product": "{{ item.product }}",
                           "limits": {"max": rng.randint(100, 9999), "strict": True}}
        else:
            a["command"] = ["python", "-m", f"acme_tools.{verb}", "--order", "{{ order.id }}",
                            "--item", "{{ item.id }}"]
        if rng.random() < 0.4:
            a["retry"] = _retry(rng)
        if rng.random() < 0.2:
            a["timeout"] = Dur(rng.choice(["30s", "2m"]))
    elif step_type == "manual":
        a["queue"] = Ident(rng.choice(QUEUES))
        a["instructions"] = rng.choice([
            "Run a credit check for account {{ order.account }}",
            "Install {{ item.quantity }} x {{ item.product }} for order {{ order.id }}",
            "Check the documents of bundle {{ bundle.id }}; call the customer if unclear.",
        ])
    elif step_type == "pause":
        choice = rng.random()
        if choice < 0.6:
            a["resume_on"] = rng.choice(EVENTS)
        if choice >= 0.4:
            a["resume_after"] = Dur(rng.choice(["15m", "2h", "1d"]))
    return Block("step", step_id, title, a)


def _types(rng: random.Random, size: int) -> list[str]:
    types = rng.choices(["callout", "auto", "manual", "pause", "milestone"],
                        weights=[35, 25, 15, 15, 10], k=size)
    if size > 1 and rng.random() < 0.6:
        types[-1] = "milestone"
    return types


def _groups(rng: random.Random, steps: int) -> list[Block]:
    groups: list[Block] = []
    all_steps: list[str] = []      # every step id so far, for cross-group `after`
    n_groups = max(1, -(-steps // GROUP_SIZE))
    for g in range(n_groups):
        size = min(GROUP_SIZE, steps - g * GROUP_SIZE) if steps else 0
        group = Block("group", f"grp{g:05d}", f"Fulfil {_product(g)}")
        if rng.random() < 0.2:
            group.attrs["description"] = "Generated by benchmarks/generate.py."
        in_group: list[str] = []
        callouts_before: list[tuple[str, str]] = []
        first_in_group = len(all_steps)
        for k, step_type in enumerate(_types(rng, size), start=1):
            after: list[Ref] = []
            if in_group:
                for dep in sorted(set(rng.sample(in_group, min(len(in_group),
                                                               rng.choice([1, 1, 1, 2]))))):
                    after.append(Ref(dep, rng.choice([None] * 6 + ["plan", "bundle",
                                                                   "line_item"])))
            if first_in_group and rng.random() < 0.15:
                lo = max(0, first_in_group - 50 * GROUP_SIZE)
                after.append(Ref(all_steps[rng.randrange(lo, first_in_group)],
                                 rng.choice([None, "plan"])))
            deps = {r.step for r in after}
            step = _step(rng, g, k, step_type, after,
                         [c for c in callouts_before if c[0] in deps])
            group.children.append(step)
            in_group.append(step.id)
            if step_type == "callout":
                callouts_before.append((step.id, next(iter(step.attrs["capture"]))))
        all_steps.extend(in_group)
        groups.append(group)
    return groups


def _scenarios(rng: random.Random, groups: list[Block], n: int) -> list[Block]:
    """Scenario j adds every group g with g % n == j, so each group is added once."""
    out = []
    for j in range(n):
        add = [Ident(g.id) for g in groups[j::n]]
        if not add:
            add = [Ident(groups[j % len(groups)].id)]
        if rng.random() < 0.05 and j > 0:   # sometimes also a single step of another group
            other = groups[rng.randrange(0, len(groups))]
            if other.children:
                add.append(Ident(rng.choice(other.children).id))
        when = rng.choice([
            f'item.product == "{_product(j)}"',
            f'item.product == "{_product(j)}" and order.attributes.country != "US"',
            f'item.product in ["{_product(j)}", "{_product(j)}-LEGACY"]',
            f'item.product == "{_product(j)}" and item.quantity >= 1',
        ])
        attrs: dict[str, Any] = {"when": Expr(when), "add": add}
        if rng.random() < 0.1:
            attrs["actions"] = [Ident("add"), Ident("change")]
        out.append(Block("scenario", f"sc{j:05d}", f"Scenario for {_product(j)}", attrs))
    return out


def _decompositions(rng: random.Random, n_products: int) -> list[Block]:
    """Bundles into modules into products (modules also into later modules): acyclic."""
    n = max(3, min(400, n_products // 6))
    n_bundles, n_modules = n // 3, n - n // 3
    blocks = []
    for b in range(n_bundles):
        intos = []
        for m in sorted(rng.sample(range(n_modules), min(n_modules, rng.randint(2, 3)))):
            intos.append(Into(f"MOD-{m:04d}",
                              Expr("item.attributes.onsite_setup == true")
                              if rng.random() < 0.2 else None))
        blocks.append(Block("decompose", f"BNDL-{b:04d}", f"Bundle {b}", {"into": intos}))
    for m in range(n_modules):
        intos = []
        for p in sorted(rng.sample(range(n_products), min(n_products, rng.randint(2, 4)))):
            into = Into(_product(p))
            r = rng.random()
            if r < 0.3:
                into = Into(_product(p), Expr(rng.choice(STEP_WHEN[:6]).replace(
                    "bundle.", "item.")), quantity=Expr("item.quantity"))
            elif r < 0.6:
                into = Into(_product(p), quantity=rng.randint(1, 4), attributes={
                    "tier": Expr("item.attributes.tier"), "region": Expr('"EU"'),
                    "priority": 2, "express": True})
            intos.append(into)
        if m + 1 < n_modules and rng.random() < 0.3:
            intos.append(Into(f"MOD-{rng.randrange(m + 1, n_modules):04d}"))
        title = f"Module {m}" if rng.random() < 0.5 else None
        blocks.append(Block("decompose", f"MOD-{m:04d}", title, {"into": intos}))
    return blocks


def _shared() -> list[Block]:
    blocks = [Block("lane", lane, title) for lane, title in LANES]
    for i, name in enumerate(ENDPOINTS):
        env = name.upper()
        a: dict[str, Any] = {"url": Env(f"{env}_URL", f"http://127.0.0.1:{8081 + i}"),
                             "timeout": Dur("10s")}
        if i % 3 == 0:
            a["headers"] = {"X-Client": "dro"}
        auth = [{"bearer": Env(f"{env}_TOKEN")},
                {"basic": {"username": "svc-dro", "password": Env(f"{env}_PASSWORD")}},
                {"header": {"name": "X-Api-Key", "value": Env(f"{env}_KEY")}}][i % 3]
        a["auth"] = auth
        blocks.append(Block("endpoint", name, name.replace("_", " ").title(), a))
    for t, (d, j) in zip(VERBS, [("4h", "30m"), ("1h", "15m"), ("1d", "4h"),
                                 ("2h", "30m"), ("8h", "2h")], strict=True):
        blocks.append(Block("jeopardy_rule", f"jr_{t}", None,
                            {"match": {"type": Ident(t)}, "duration": Dur(d),
                             "jeopardy": Dur(j)}))
    for e in ENDPOINTS:
        blocks.append(Block("jeopardy_rule", f"jr_{e}", f"SLA of {e}",
                            {"match": {"type": Ident("callout"), "endpoint": Ident(e)},
                             "duration": Dur("2h"), "jeopardy": Dur("20m")}))
    for i, flow in enumerate(FLOWS):
        blocks.append(Block("jeopardy_rule", f"jr_flow_{i}", None,
                            {"match": {"type": Ident("auto"), "flow": flow},
                             "duration": Dur("30m"), "jeopardy": Dur("5m")}))
    blocks.append(Block("fallout_rule", "fr_callouts", "Any callout",
                        {"match": {"type": Ident("callout")}, "queue": Ident("fallout")}))
    for e in ENDPOINTS:
        for err, policy in [("http_503", "staggered"), ("timeout", "monotonous"),
                            ("connection", "exponential")]:
            a = {"match": {"type": Ident("callout"), "endpoint": Ident(e), "error": err},
                 **FALLOUT_RETRY[policy],
                 "queue": Ident(f"{e}_fallout")}
            blocks.append(Block("fallout_rule", f"fr_{e}_{err}", None, a))
    for i, flow in enumerate(FLOWS):
        blocks.append(Block("fallout_rule", f"fr_flow_{i}", None,
                            {"match": {"type": Ident("auto"), "flow": flow,
                                       "error": "ConnectionError"},
                             "policy": Ident("immediate"), "retries": 2}))
    return blocks


def _split(seq: Sequence[Block], n: int) -> list[list[Block]]:
    """`seq` cut into n contiguous, nearly equal chunks."""
    q, r = divmod(len(seq), n)
    out, start = [], 0
    for i in range(n):
        end = start + q + (1 if i < r else 0)
        out.append(list(seq[start:end]))
        start = end
    return out


def build(steps: int = 10_000, scenarios: int = 2_000, files: int = 500,
          seed: int = DEFAULT_SEED) -> list[tuple[str, list[Block]]]:
    """The catalog as (relative file name without suffix, blocks), deterministic."""
    if steps < 1 or scenarios < 1 or files < 1:
        raise ValueError("steps, scenarios and files must be at least 1")
    rng = random.Random(seed)
    groups = _groups(rng, steps)
    scen = _scenarios(rng, groups, scenarios)
    decomp = _decompositions(rng, max(len(groups), scenarios))
    per_file = zip(_split(decomp, files), _split(groups, files), _split(scen, files),
                   strict=True)
    out = []
    for i, (d, g, s) in enumerate(per_file):
        blocks = (_shared() if i == 0 else []) + d + g + s
        out.append((f"part_{i // FILES_PER_DIR:02d}/f{i:04d}", blocks))
    return out


# ---- entry points -----------------------------------------------------------------

def generate(out_dir: str | os.PathLike[str], steps: int = 10_000, scenarios: int = 2_000,
             files: int = 500, form: str = "dro", seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the catalog in `form` ("dro" or "yaml") to a fresh `out_dir`; its files."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    written = []
    for name, blocks in build(steps, scenarios, files, seed):
        path = out / (name + SUFFIX[form])
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (f"generated by benchmarks/generate.py (seed {seed}, {steps} steps, "
                  f"{scenarios} scenarios, {files} files): do not edit")
        if form == "dro":
            text = to_dro(blocks, header)
        else:
            text = to_yaml(blocks, header, Path(os.path.relpath(SCHEMA, path.parent)).as_posix())
        path.write_text(text, encoding="utf-8")
        written.append(path)
    _write_flows(out)
    return written


def _write_flows(out: Path) -> None:
    """The flow modules the steps name, so that `dro validate` finds them (DRO318) as in a real catalog."""
    functions: dict[str, list[str]] = {}
    for flow in FLOWS:
        module, _, function = flow.partition(":")
        functions.setdefault(module, []).append(function)
    for module, names in functions.items():
        parts = module.split(".")  # acme_flows is a package, its submodules files in it
        path = out.joinpath(*parts).with_suffix(".py") if len(parts) > 1 else out / module / "__init__.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text("".join(f"def {name}(ctx):\n    return None\n\n\n" for name in names).rstrip() + "\n",
                        encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir", help="directory to (re)create")
    p.add_argument("--form", choices=FORMS, default="dro")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--scenarios", type=int, default=2_000)
    p.add_argument("--files", type=int, default=500)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    try:
        files = generate(args.out_dir, args.steps, args.scenarios, args.files, args.form,
                         args.seed)
    except ValueError as e:
        p.error(str(e))
    size = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} {args.form} files ({size / 1e6:.1f} MB) to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
