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
