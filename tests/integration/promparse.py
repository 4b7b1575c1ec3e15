#!/usr/bin/env python3
"""A strict parser of the Prometheus text exposition format, version 0.0.4
(python3 stdlib only), for t_metrics.sh.

  promparse.py FILE       parse FILE; print one line per sample,
                          NAME{LABELS} VALUE with the labels sorted by name
                          (or NAME VALUE without labels); exit 1 with
                          "promparse: line N: why" on the first error
  promparse.py --self-test
                          check that the parser accepts valid documents and
                          rejects each kind of invalid one; exit 1 if not

What it enforces, beyond the grammar of lines (metric and label names,
label values with only the escapes \\\\ \\" \\n, values as Go's ParseFloat
reads them, optional integer timestamps, a final newline):
  - HELP and TYPE at most once per metric family, TYPE before its samples;
    HELP text escapes only \\\\ and \\n;
  - the samples of a family are contiguous, and no series appears twice;
  - counter: one sample name, the family's, ending in _total, value >= 0;
  - gauge, untyped: the family's name only;
  - histogram: only NAME_bucket (with an le label), NAME_sum and
    NAME_count; per label set, le values strictly increasing, ending with
    +Inf, cumulative counts non-decreasing, the +Inf bucket equal to
    _count, and a _sum;
  - summary: NAME (with quantile), NAME_sum, NAME_count.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:Inf|NaN|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Error(Exception):
    pass


def parse_float(text):
    if not FLOAT.fullmatch(text):
        raise Error("bad value %r" % text)
    return float(text.replace("Inf", "inf"))


def unescape(s, allowed):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise Error("bad escape in %r" % s)
            out.append({"\\": "\\", '"': '"', "n": "\n"}[s[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_labels(s, pos):
    """s[pos] == '{'; returns (labels dict, position after '}')."""
    labels = {}
    pos += 1
    while True:
        if s.startswith("}", pos):
            return labels, pos + 1
        m = LABEL.match(s, pos)
        if not m:
            raise Error("bad label name at column %d" % (pos + 1))
        name = m.group()
        pos = m.end()
        if not s.startswith('="', pos):
            raise Error("label %s: expected =\"" % name)
        pos += 2
        start = pos
        while pos < len(s) and s[pos] != '"':
            pos += 2 if s[pos] == "\\" else 1
        if pos >= len(s):
            raise Error("label %s: unterminated value" % name)
        if name in labels:
            raise Error("label %s twice" % name)
        if name.startswith("__"):
            raise Error("reserved label name %s" % name)
        labels[name] = unescape(s[start:pos], '\\"n')
        pos += 1
        if s.startswith(",", pos):
            pos += 1
        elif not s.startswith("}", pos):
            raise Error("expected , or } after label %s" % name)


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return name


def parse(text):
    """Returns a list of (name, labels, value); raises Error."""
    if text and not text.endswith("\n"):
        raise Error("line %d: no final newline" % (text.count("\n") + 1))
    types, helps, samples, seen_series = {}, {}, [], set()
    done, current = set(), None  # families whose samples are over, and the one going on
    hist = {}  # (family, labels without le) -> state
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            if line == "" or line.strip() == "":
                continue
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[0] == "#" and parts[1] in ("HELP", "TYPE"):
                    name = parts[2]
                    if not NAME.fullmatch(name):
                        raise Error("bad metric name %r" % name)
                    rest = parts[3] if len(parts) > 3 else ""
                    if parts[1] == "HELP":
                        if name in helps:
                            raise Error("second HELP for %s" % name)
                        helps[name] = unescape(rest, "\\n")
                    else:
                        if name in types:
                            raise Error("second TYPE for %s" % name)
                        if rest not in TYPES:
                            raise Error("bad type %r" % rest)
                        if name in done or name == current:
                            raise Error("TYPE for %s after its samples" % name)
                        types[name] = rest
                continue
            m = NAME.match(line)
            if not m:
                raise Error("bad metric name")
            name, pos = m.group(), m.end()
            labels = {}
            if line.startswith("{", pos):
                labels, pos = parse_labels(line, pos)
            fields = line[pos:].split(" ")
            if len(fields) not in (2, 3) or fields[0] != "":
                raise Error("expected ' VALUE [TIMESTAMP]'")
            value = parse_float(fields[1])
            if len(fields) == 3 and not re.fullmatch(r"-?[0-9]+", fields[2]):
                raise Error("bad timestamp %r" % fields[2])
            fam = family_of(name, types)
            if fam != current:
                if fam in done:
                    raise Error("samples of %s are not together" % fam)
                if current is not None:
                    done.add(current)
                current = fam
            key = (name, tuple(sorted(labels.items())))
            if key in seen_series:
                raise Error("series %s%s twice" % (name, labels))
            seen_series.add(key)
            typ = types.get(fam, "untyped")
            if typ == "counter":
                if name != fam or not fam.endswith("_total"):
                    raise Error("counter sample %s: the name must be the family's, in _total" % name)
                if not value >= 0:
                    raise Error("counter %s is negative or NaN" % name)
            elif typ in ("gauge", "untyped"):
                if name != fam:
                    raise Error("sample %s of %s %s" % (name, typ, fam))
            elif typ == "summary":
                if name == fam and "quantile" not in labels:
                    raise Error("summary sample without quantile")
            else:  # histogram
                rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                h = hist.setdefault((fam, rest), {"le": [], "sum": None, "count": None})
                if name == fam + "_bucket":
                    if "le" not in labels:
                        raise Error("bucket without le")
                    le = parse_float(labels["le"])
                    if h["le"] and not le > h["le"][-1][0]:
                        raise Error("le %s not above the previous bucket's" % labels["le"])
                    if h["le"] and value < h["le"][-1][1]:
                        raise Error("bucket le=%s below the previous one: not cumulative" % labels["le"])
                    h["le"].append((le, value))
                elif name == fam + "_sum":
                    h["sum"] = value
                elif name == fam + "_count":
                    h["count"] = value
                else:
                    raise Error("sample %s in histogram %s" % (name, fam))
            samples.append((name, labels, value))
        except Error as e:
            raise Error("line %d: %s" % (n, e)) from None
    for (fam, rest), h in hist.items():
        where = "histogram %s%s" % (fam, dict(rest))
        if not h["le"] or not math.isinf(h["le"][-1][0]):
            raise Error("%s: no +Inf bucket" % where)
        if h["count"] is None or h["sum"] is None:
            raise Error("%s: no _count or no _sum" % where)
        if h["le"][-1][1] != h["count"]:
            raise Error("%s: +Inf bucket %g != _count %g" % (where, h["le"][-1][1], h["count"]))
    return samples


def render(name, labels, value):
    lab = ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels))
    v = ("%d" % value) if value == int(value) and abs(value) < 2**63 else repr(value)
    return "%s%s %s" % (name, "{%s}" % lab if lab else "", v)


GOOD = [
    "",
    "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n",
    'x{a="b\\"c\\\\d\\n",e="f"} 1.5e3 1700000000000\n# comment\nx{a="z"} -Inf\n',
    "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n",
    "# TYPE g gauge\ng NaN\n",
]
BAD = [
    "a 1",  # no final newline
    "a{b=\"c} 1\n",  # unterminated label value
    "a{b=\"\\x\"} 1\n",  # bad escape
    "1a 1\n",  # bad name
    "a one\n",  # bad value
    "a 1\na 2\n",  # a series twice
    "a 1\nb 1\na{x=\"y\"} 1\n",  # family not together
    "a 1\n# TYPE a gauge\n",  # TYPE after samples
    "# TYPE a gauge\n# TYPE a gauge\na 1\n",  # TYPE twice
    "# TYPE a counter\na 1\n",  # counter not in _total
    "# TYPE a_total counter\na_total -1\n",  # negative counter
    "# TYPE a_total bogus\n",  # bad type
    "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
    "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",  # no +Inf
    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",  # count mismatch
    "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n",  # le order
    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",  # no _sum
    "a{b=\"c\",b=\"d\"} 1\n",  # label twice
    "a 1 1.5\n",  # bad timestamp
]


def self_test():
    bad = 0
    for doc in GOOD:
        try:
            parse(doc)
        except Error as e:
            print("self-test: rejected a valid document %r: %s" % (doc, e))
            bad += 1
    for doc in BAD:
        try:
            parse(doc)
            print("self-test: accepted an invalid document %r" % doc)
            bad += 1
        except Error:
            pass
    print("self-test: %d valid and %d invalid documents, %d wrong" % (len(GOOD), len(BAD), bad))
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        samples = parse(text)
    except Error as e:
        print("promparse: %s" % e)
        return 1
    for s in samples:
        print(render(*s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
