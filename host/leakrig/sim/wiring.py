"""One function per part: build its emulator from the board's sensor spec,
feed it the rig's physical values, and attach it to the right bus."""


def attach(rig, role, spec):
    part = spec.get("part")
    maker = _PARTS.get(part)
    if maker is None:
        raise ValueError("sensor %s: no emulator for part %r" % (role, part))
    return maker(rig, role, spec)


_PARTS = {}
