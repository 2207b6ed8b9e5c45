"""Where a virtual board's VM and the link server's thread that answers it
run. In lockstep the two take turns, one waiting on the socket while the
other works; on one CPU each hand-over is a context switch there, while
across two CPUs it wakes the other CPU, which on this kind of machine
costs several times the system time (docs/virtual-board.md, "Where a
sample's time goes"). So by default both go on one CPU, a different one
for each board of a process, and the rest (the pty pump, the host tool
reading the frames) stays free to run on the others.

The choice: "auto" (the default), "none" (the kernel places them), or a
CPU number; the LEAKRIG_SIM_CPU environment variable gives it when the
caller does not."""
import itertools
import os

from ..errors import UserError

ENV = "LEAKRIG_SIM_CPU"
_boards = itertools.count()


def _allowed():
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on this system
        return []


def choose(setting=None):
    """The CPU for a new virtual board, or None to leave it to the kernel."""
    if setting is None:
        setting = os.environ.get(ENV, "auto")
    text = str(setting).strip().lower()
    allowed = _allowed()
    if text in ("", "auto"):
        if len(allowed) < 2:
            return None  # one CPU: nothing to choose
        # Spread the boards of this process, and those of several processes
        # started one after another, over the CPUs this process may use.
        return allowed[(os.getpid() + next(_boards)) % len(allowed)]
    if text in ("none", "off"):
        return None
    try:
        cpu = int(text)
    except ValueError:
        raise UserError("%s / --cpu: expected auto, none or a CPU number, got %r" % (ENV, setting))
    if allowed and cpu not in allowed:
        raise UserError("CPU %d is not one this process may use (%s)"
                        % (cpu, ", ".join(map(str, allowed))))
    return cpu


def pin(cpu):
    """Run the calling thread (or, before exec, the process) on `cpu` only;
    None leaves it as it is. A refusal leaves it as it is too: placement
    changes the pace, never the results."""
    if cpu is None:
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass
