"""Firmware unit tests run on the MicroPython unix port, not on CPython: each
test_*.py here is run by run.py once on each VM there is, the 64-bit
double-precision one and the 32-bit single-precision one a board's
MicroPython is like (when installed), and each of its test_* functions
becomes a pytest item per VM (`test_x[unix64]`, `test_x[mcu32]`) with that
VM's verdict."""
import ast
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_pycollect_makemodule(module_path, parent):
    if Path(module_path).parent == HERE and Path(module_path).name.startswith("test_"):
        return VMModule.from_parent(parent, path=Path(module_path))
    return None


def _vms():
    """(tag, binary) of each VM the firmware tests run on."""
    from leakrig.sim import vmenv

    vms = [("unix64", None)]
    mcu32 = vmenv.mcu32_binary()
    if mcu32:
        vms.append(("mcu32", mcu32))
    return vms


class VMModule(pytest.File):
    def collect(self):
        self._results = {}
        tree = ast.parse(self.path.read_text())
        for tag, binary in _vms():
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    item = VMItem.from_parent(self, name="%s[%s]" % (node.name, tag))
                    item.test_name, item.vm_tag, item.vm_binary = node.name, tag, binary
                    yield item

    def results(self, tag, binary):
        if tag not in self._results:
            from leakrig.sim.testing import VMHarness

            script = "import sys\nsys.path.append(%r)\nimport run\nrun.main(%r)\n" % (
                str(HERE), self.path.stem)
            with VMHarness() as h:
                rc, out = h.run(script, timeout=300, binary=binary)
            results = _parse(out)
            results["__output__"] = out
            self._results[tag] = results
        return self._results[tag]


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
        results = self.parent.results(self.vm_tag, self.vm_binary)
        if self.test_name not in results:
            raise VMFailure("test did not run on the VM; output:\n" + results["__output__"][-3000:])
        if results[self.test_name] is not None:
            raise VMFailure(results[self.test_name])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, VMFailure):
            return "on the MicroPython VM (%s):\n%s" % (self.vm_tag, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "vm: %s" % self.name
