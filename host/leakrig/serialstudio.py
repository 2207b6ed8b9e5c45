"""A Serial Studio project file for the board's telemetry (docs/serial_studio.md).
Serial Studio cuts frames between "$" and "*" and hands the text between them
(LR1,<seq>,<kind>,key=value,...) to the project's JavaScript parse(frame),
which here returns the sample fields in a fixed order; each dataset reads
one position (1-based "index")."""
import json

# key: (title, units, group, graph)
KNOWN_KEYS = {
    "t": ("Board time", "s", "Link", False),
    "q": ("Quality bits", "", "Link", False),
    "p": ("Loop pressure", "Pa", "Loop", True),
    "pc": ("Compensated pressure", "Pa", "Loop", True),
    "T": ("Loop temperature", "°C", "Loop", True),
    "r": ("Leak rate", "Pa/s", "Detector", True),
    "ur": ("Leak rate uncertainty (1σ)", "Pa/s", "Detector", False),
    "st": ("Detector state", "", "Detector", False),
    "pa": ("Ambient pressure", "Pa", "Other sensors", True),
    "Ta": ("Ambient temperature", "°C", "Other sensors", True),
    "p2": ("Loop pressure (aux)", "Pa", "Other sensors", True),
    "T2": ("Loop temperature (aux)", "°C", "Other sensors", True),
    "Tr": ("Radiator temperature", "°C", "Other sensors", True),
}
DEFAULT_KEYS = ("t", "p", "T", "q", "r", "ur", "st")
GROUP_ORDER = ("Loop", "Detector", "Other sensors", "Link")

_PARSER = """/*
 * leakrig LR1 telemetry (docs/protocol.md). Serial Studio passes the text
 * between '$' and '*': LR1,<seq>,<kind>,key=value,...  Only sample frames
 * (kind S) carry values; the others give an empty list and are skipped.
 */
var KEYS = %s;

function parse(frame) {
    var parts = frame.split(",");
    if (parts.length < 4 || parts[0] !== "LR1" || parts[2] !== "S")
        return [];
    var values = {};
    for (var i = 3; i < parts.length; i++) {
        var eq = parts[i].indexOf("=");
        if (eq > 0)
            values[parts[i].substring(0, eq)] = parts[i].substring(eq + 1);
    }
    var out = [];
    for (var j = 0; j < KEYS.length; j++)
        out.push(KEYS[j] in values ? values[KEYS[j]] : "");
    return out;
}
"""


def _dataset(index, key):
    title, units, _, graph = KNOWN_KEYS.get(key, (key, "", "Other sensors", True))
    return {"title": title, "units": units, "index": index, "graph": graph, "widget": "",
            "min": 0, "max": 0, "alarm": 0, "led": False, "ledHigh": 1, "log": False,
            "fft": False, "fftSamples": 256, "fftSamplingRate": 10, "overviewDisplay": graph,
            "xAxis": 0, "value": "--.--"}


def project(keys=None, title="leakrig rig"):
    """The project as a dict; keys: the sample fields to show, in order."""
    keys = list(keys or DEFAULT_KEYS)
    groups = {}
    for i, key in enumerate(keys, start=1):
        group = KNOWN_KEYS.get(key, (None, None, "Other sensors", None))[2]
        groups.setdefault(group, []).append(_dataset(i, key))
    return {
        "title": title,
        "decoder": 0,            # plain text
        "frameDetection": 1,     # start and end delimiters
        "frameStart": "$",
        "frameEnd": "*",         # the CRC and CRLF after it fall between frames
        "hexadecimalDelimiters": False,
        "frameParser": _PARSER % json.dumps(keys),
        "groups": [{"title": g, "widget": "", "datasets": groups[g]}
                   for g in GROUP_ORDER if g in groups],
        "actions": [
            {"title": "Start sampling", "txData": "start", "eol": "\n", "binary": False, "icon": ""},
            {"title": "Stop sampling", "txData": "stop", "eol": "\n", "binary": False, "icon": ""},
            {"title": "Status", "txData": "status", "eol": "\n", "binary": False, "icon": ""},
        ],
        "mapTilerApiKey": "",
        "thunderforestApiKey": "",
    }


def keys_in_log(db, run_id=None):
    """The sample fields a log's samples carried, known ones first."""
    where, params = ("WHERE run_id = ?", (run_id,)) if run_id is not None else ("", ())
    cols = db.execute("SELECT count(pressure_pa), count(temperature_c), count(rate_pa_s), "
                      "count(rate_sigma_pa_s), count(state), count(*) FROM samples %s" % where,
                      params).fetchone()
    if not cols or cols[-1] == 0:
        return list(DEFAULT_KEYS)
    keys = ["t"] + [k for k, n in zip(("p", "T", "r", "ur", "st"), cols[:5]) if n] + ["q"]
    extra = set()
    for (text,) in db.execute("SELECT DISTINCT extra FROM samples %s %s extra IS NOT NULL LIMIT 1000"
                              % (where, "AND" if where else "WHERE"), params):
        extra.update(json.loads(text))
    known = [k for k in KNOWN_KEYS if k in extra]
    return keys + known + sorted(extra - set(known))
