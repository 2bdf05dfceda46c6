# Helpers of the miniature stage (functions of config only; rules in
# miniature.smk).

MINIATURE = "results/miniature"


def miniature_config():
    """The resolved `miniature:` section ({} when the config has none)."""
    return config.get("miniature") or {}


def miniature_runs():
    """Run folder names of the two miniature runs: constp and constq."""
    psi = float(miniature_config()["anode_potential_V"]) + 0.0
    return {"constp": f"constp_{psi}V_r0", "constq": "constq_none_r0"}


def miniature_md_settings():
    """md: keys of the miniature runs: the md: section's dynamics, no walls,
    no relaxation (the cell is built at its lattice sites), frames every 20 steps."""
    settings = md_settings()
    settings.update(
        n_steps=miniature_config()["n_steps"],
        counter_potential_V=miniature_config()["counter_potential_V"],
        walls="none",
        relax_steps=0,
        traj_every=20,
        checkpoint_every=500,
        log_every=500,
        on_guard="record",
    )
    settings.pop("equilibrate_ps", None)
    return settings


def miniature_targets():
    """The miniature's report, when the config asks for one."""
    if not miniature_config():
        return []
    return [f"{MINIATURE}/miniature.json", f"{MINIATURE}/miniature.md"]
