"""Firmware unit tests run on the MicroPython unix port, not on CPython: each
test_*.py here is run once on the VM by run.py, and each of its test_*
functions becomes a pytest item with the VM's verdict."""
import ast
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_pycollect_makemodule(module_path, parent):
    if Path(module_path).parent == HERE and Path(module_path).name.startswith("test_"):
        return VMModule.from_parent(parent, path=Path(module_path))
    return None


class VMModule(pytest.File):
    _results = None

    def collect(self):
        tree = ast.parse(self.path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                yield VMItem.from_parent(self, name=node.name)

    def results(self):
        if self._results is None:
            from leakrig.sim.testing import VMHarness

            script = "import sys\nsys.path.append(%r)\nimport run\nrun.main(%r)\n" % (
                str(HERE), self.path.stem)
            with VMHarness() as h:
                rc, out = h.run(script, timeout=300)
            self._results = _parse(out)
            self._results["__output__"] = out
        return self._results


def _parse(out):
    results = {}
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("PASS "):
            results[line[5:]] = None
        elif line.startswith("FAIL ") :
            name = line[5:]
            tb = []
            i += 1
            while i < len(lines) and lines[i] != "FAIL-END":
                tb.append(lines[i])
                i += 1
            results[name] = "\n".join(tb)
        i += 1
    return results


class VMFailure(Exception):
    pass


class VMItem(pytest.Item):
    def runtest(self):
        results = self.parent.results()
        if self.name not in results:
            raise VMFailure("test did not run on the VM; output:\n" + results["__output__"][-3000:])
        if results[self.name] is not None:
            raise VMFailure(results[self.name])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, VMFailure):
            return "on the MicroPython VM:\n" + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "vm: %s" % self.name
