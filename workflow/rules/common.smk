# Shared helpers included by every stage; small functions only, no physics.

QEQ_MODES = ("constq", "constp")


def qeq_modes():
    """QEq control modes: constant charge (constq), constant potential (constp)."""
    return list(QEQ_MODES)


def qeq_mode_regex():
    """Wildcard constraint matching exactly one QEq mode."""
    return "|".join(QEQ_MODES)


def qeq_slab_flag(wildcards):
    """`--slab` when the config asks for slab (2D-periodic) electrostatics."""
    return "--slab" if config["qeq"]["slab"] else ""


def qeq_potential_flags(wildcards):
    """Electrode potentials (V) for `constpot qeq`, constant-potential mode only.

    The constant-charge run passes no potential flags, so editing the
    potentials in the config reruns only the constp job. The `--flag=value`
    form keeps negative values from being read as options.
    """
    if wildcards.mode != "constp":
        return ""
    cfg = config["qeq"]
    return (
        f"--anode-potential={cfg['anode_potential_V']} "
        f"--counter-potential={cfg['counter_potential_V']}"
    )


def systems():
    """Names of the interface systems in config `systems:` (may be none)."""
    return list(config.get("systems") or {})


def system_regex():
    """Wildcard constraint matching exactly one configured system name."""
    return "|".join(systems()) or "^$"


def config_file():
    """The config file the workflow was started with (the build CLI reads it)."""
    return workflow.configfiles[-1] if workflow.configfiles else "config/config.yaml"


def label_systems():
    """Interfaces sampled for reference data (default: every system)."""
    return list(config["label"].get("systems") or systems())


def label_shards():
    """Shard indices 0 .. label.n_shards - 1."""
    return list(range(int(config["label"]["n_shards"])))


def md_runs():
    """The MD sweep of config `md:`: dicts with keys system, mode, potential, replica.

    For each system (md.systems, default every system) and replica
    0 .. md.replicas - 1: one constp run per md.anode_potentials_V (potential
    '-6.0V': the float as Python prints it, then V) and, with md.constq
    (default true), one constq control (potential 'none'). Run folders are
    results/md/{system}/{mode}_{potential}_r{replica}/ (rule md, md.smk).
    """
    cfg = config.get("md")
    if not cfg:
        return []
    runs = []
    for system in cfg.get("systems") or systems():
        for replica in range(int(cfg.get("replicas", 1))):
            for psi in cfg.get("anode_potentials_V", [0.0, -3.0, -6.0]):
                label = f"{float(psi) + 0.0}V"
                runs.append(
                    dict(system=system, mode="constp", potential=label, replica=replica)
                )
            if cfg.get("constq", True):
                runs.append(
                    dict(
                        system=system, mode="constq", potential="none", replica=replica
                    )
                )
    return runs
