# Sensor factories: from a board definition's sensor entry and the bus it
# sits on, build the driver and a reader giving (values..., quality) in SI
# units, with the frame keys those values go out under.


def make(spec, bus):
    part = spec.get("part")
    maker = _MAKERS.get(part)
    if maker is None:
        raise ValueError("unknown sensor part %r" % part)
    return maker(spec, bus)


_MAKERS = {}
