"""les.list / les.describe / les.report agree with the CLI."""

from __future__ import annotations

import pytest

import les
from conftest import branin_config, run_cli, write_yaml


def test_list_matches_les_list(les_bin):
    cli = run_cli(les_bin, "list", "strategy").stdout.splitlines()[1:]
    names = [line.split()[0] for line in cli]
    assert list(les.list("strategy")) == names
    kinds = [line[:-1] for line in run_cli(les_bin, "list").stdout.splitlines() if not line.startswith(" ")]
    assert "les" in names and [*les.list()] == kinds
    assert {k: [*v] for k, v in les.list().items()} == {
        k: [line.split()[0] for line in run_cli(les_bin, "list", k).stdout.splitlines()[1:]] for k in kinds
    }
    with pytest.raises(ValueError, match="unknown plugin kind `strategies`; known kinds: strategy, "):
        les.list("strategies")


def test_describe_matches_les_describe(les_bin):
    plugin = les.describe("les")
    assert str(plugin) == run_cli(les_bin, "describe", "les").stdout
    assert plugin.kind == "strategy" and plugin.default_params["sampler"]["name"] == "descent"
    with pytest.raises(ValueError, match="no plugin is named `lse`; known names: "):
        les.describe("lse")


def test_report(tmp_path):
    config = write_yaml(tmp_path / "c.yaml", branin_config(tmp_path, budget=4, strategy={"name": "sobol"}))
    for seed in (1, 2):
        les.run(config, seed=seed, run_dir=tmp_path / "runs" / f"seed{seed}")
    path = les.report(tmp_path / "runs")
    assert path == tmp_path / "runs" / "report" / "report.md"
    assert "sobol" in path.read_text()
    with pytest.raises(ValueError, match="holds no run directory"):
        les.report(tmp_path / "empty-does-not-exist")


def test_kernel_is_picked_at_run_time():
    assert les.kernel_name() in ("avx2-fma", "portable")


def test_check_resolves_a_dict_config(tmp_path):
    resolved = les.check(branin_config(tmp_path, budget=4))
    # The flat LES parameters of the test configs, resolved into the sampler's block.
    assert resolved["strategy"]["params"]["sampler"]["params"]["paths"] == 16
    assert resolved["initial_points"] == 2 and resolved["strategy"]["params"]["surrogate"]["name"] == "gp"
    with pytest.raises(ValueError, match=r"<config dict>:\d+:\d+: budget: string \"many\" is not valid: expected a whole number"):
        les.check({**branin_config(tmp_path, budget=4), "budget": "many"})
