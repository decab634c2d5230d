# ruff: noqa: E501
"""The Starlark prelude the extractor evaluates each .bzl file under.

Bazel's .bzl builtins that define API (``rule``, ``attr.*``, ``macro``, ``repository_rule``,
``tag_class``, ``module_extension``) record what they are given through the host hook ``_def``
and return a struct carrying the record's id; the rest (providers, ``Label``, ``native``,
``config``…) are inert stand-ins, just enough for rules' own .bzl files to evaluate.
``_rr_kind(value)`` tells the extractor what an exported name is bound to.
"""

from __future__ import annotations

from ..prelude import ATTR_TYPES, providers

PRELUDE = (
    """
def _rr_attr(t):
    def f(*args, **kw):
        m = kw.get("mandatory", False)
        return struct(_rr_attr = t, _rr_mandatory = m if type(m) == "bool" else False)
    return f

attr = struct(**{t: _rr_attr(t) for t in ATTR_TYPES})

def _rr_attrs(d):
    if type(d) != "dict":
        return {}
    out = {}
    for k, v in d.items():
        if type(v) == "struct" and hasattr(v, "_rr_attr"):
            out[str(k)] = [v._rr_attr, v._rr_mandatory]
        else:
            out[str(k)] = ["unknown", False]
    return out

def _rr_outs(o):
    if type(o) != "dict":
        return []
    return [v for v in o.values() if type(v) == "string"]

def rule(implementation = None, attrs = None, outputs = None, executable = False, test = False, **kw):
    return struct(_rr_def = _def("rule", {"attrs": _rr_attrs(attrs), "outputs": _rr_outs(outputs),
        "executable": executable == True, "test": test == True}, call_stack()))

def repository_rule(implementation = None, attrs = None, **kw):
    return struct(_rr_def = _def("repository_rule", {"attrs": _rr_attrs(attrs)}, call_stack()))

def macro(implementation = None, attrs = None, inherit_attrs = None, **kw):
    return struct(_rr_def = _def("symbolic_macro", {"attrs": _rr_attrs(attrs), "open": inherit_attrs != None},
        call_stack()))

def tag_class(attrs = None, **kw):
    return struct(_rr_tag = _def("tag_class", {"attrs": _rr_attrs(attrs)}, call_stack()))

def module_extension(implementation = None, tag_classes = None, **kw):
    tags = {}
    for k, v in (tag_classes or {}).items():
        tags[str(k)] = v._rr_tag if type(v) == "struct" and hasattr(v, "_rr_tag") else -1
    impl = str(implementation).rpartition(".")[2] if implementation != None else ""
    return struct(_rr_def = _def("extension", {"tags": tags, "impl": impl}, call_stack()))

def _rr_kindof(k):
    return struct(_rr_kind = k)

def aspect(implementation = None, **kw):
    return _rr_kindof("aspect")

def transition(implementation = None, inputs = [], outputs = []):
    return _rr_kindof("value")

def analysis_test_transition(settings = {}):
    return _rr_kindof("value")

def exec_group(**kw):
    return _rr_kindof("value")

def subrule(**kw):
    return _rr_kindof("value")

def select(d, no_match_error = ""):
    vals = d.values()
    return vals[0] if vals else None

def depset(direct = None, order = "default", transitive = None):
    return list(direct or [])

def visibility(v):
    pass

def _rr_label_struct(s):
    s = str(s)
    repo, _, rest = s.rpartition("//")
    pkg, _, name = rest.partition(":")
    return struct(name = name or pkg.rpartition("/")[2], package = pkg, workspace_name = repo.lstrip("@"),
        repo_name = repo.lstrip("@"), workspace_root = "", relative = _rr_label_struct, same_package_label = _rr_label_struct)

def Label(s):
    return _rr_label_struct(s)

def _rr_any(*args, **kw):
    return args[0] if args else None

def _rr_native(*args, **kw):
    return None

native = struct(**{k: _rr_native for k in ["alias", "cc_library", "config_setting", "exports_files", "filegroup",
    "genrule", "glob", "package_name", "repository_name", "existing_rule", "existing_rules", "sh_binary",
    "sh_test", "test_suite", "toolchain", "platform", "constraint_value", "bazel_version", "module_name"]})

def _rr_prov(*args, **kw):
    return struct(**kw)

config = struct(**{k: _rr_any for k in ["bool", "exec", "int", "none", "string", "string_list", "target"]})
"""
    + providers("_rr_prov", toolchain_type="_rr_any")
    + """

def _rr_kind(v):
    t = type(v)
    if t == "struct":
        if hasattr(v, "_rr_def"):
            return v._rr_def
        if hasattr(v, "_rr_kind"):
            return v._rr_kind
        return "value"
    if t == "function":
        return "function"
    return "value"
"""
).replace("ATTR_TYPES", repr(ATTR_TYPES))
