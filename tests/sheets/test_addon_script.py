"""The Apps Script add-on parses as JavaScript (so a syntax error cannot land) and asks for few scopes."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import esprima
import pytest

ADDON = Path(__file__).resolve().parents[2] / "sheets" / "addon"


def scripts():
    yield "Code.gs", (ADDON / "Code.gs").read_text(encoding="utf-8")
    yield "Strings.gs", (ADDON / "Strings.gs").read_text(encoding="utf-8")
    html = (ADDON / "Sidebar.html").read_text(encoding="utf-8")
    for i, block in enumerate(re.findall(r"<script>(.*?)</script>", html, flags=re.S)):
        yield f"Sidebar.html#{i}", block


@pytest.mark.parametrize("name, source", list(scripts()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_parses_with_a_javascript_parser(name, source):
    tree = esprima.parseScript(source)
    assert tree.body, name


def test_menu_functions_exist():
    tree = esprima.parseScript((ADDON / "Code.gs").read_text(encoding="utf-8"))
    functions = {node.id.name for node in tree.body if node.type == "FunctionDeclaration"}
    assert {"onOpen", "menuRefresh", "showSidebar", "menuPostDigest", "showDataIssues", "getKpis", "onSheetChange", "installEditTrigger"} <= functions


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_accepts_the_script(tmp_path):
    for name, source in scripts():
        target = tmp_path / (name.replace(".", "_").replace("#", "_") + ".js")
        target.write_text(source, encoding="utf-8")
        done = subprocess.run(["node", "--check", str(target)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_scopes_are_the_least_needed():
    manifest = json.loads((ADDON / "appsscript.json").read_text())
    scopes = set(manifest["oauthScopes"])
    assert "https://www.googleapis.com/auth/spreadsheets.currentonly" in scopes
    assert "https://www.googleapis.com/auth/spreadsheets" not in scopes
    assert not any("drive" in s for s in scopes)
