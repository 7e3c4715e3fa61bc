"""The layers hold: import-linter's contracts (pyproject.toml) pass, and they
would catch an area importing another. `python3 dev.py test` runs lint-imports
before the suite too, so CI fails on such an import before any test runs."""

import os
from pathlib import Path
import shutil
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_layer_contract_holds():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_campaigns_importing_contacts_breaks_the_build(tmp_path):
    for package in ("apps", "ccadmin", "ccsim"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    service = tmp_path / "apps" / "campaigns" / "services" / "campaigns.py"
    source = service.read_text()
    service.write_text(source + "\nfrom apps.contacts.selectors import lists  # noqa\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert "Areas never import one another BROKEN" in result.stdout
    assert "apps.campaigns.services.campaigns -> apps.contacts.selectors.lists" in result.stdout
