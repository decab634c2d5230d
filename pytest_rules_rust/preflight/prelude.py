# ruff: noqa: E501
"""Host builtins written in Starlark: every call records itself through ``_rec`` (see evaluate.py).

starlark-pyo3 converts values through JSON, so Python callables cannot return functions or
structs; these definitions are evaluated into each module before the file itself.
"""

from __future__ import annotations

ATTR_TYPES = [
    *("bool", "int", "int_list", "label", "label_keyed_string_dict", "label_list", "output"),
    *("output_list", "string", "string_dict", "string_keyed_label_dict", "string_list", "string_list_dict"),
]
"""The ``attr.*`` functions of Bazel's .bzl dialect."""

_PLATFORM_COMMON_PROVIDERS = [
    *("ToolchainInfo", "TemplateVariableInfo", "ConstraintValueInfo", "ConstraintSettingInfo", "PlatformInfo")
]
_TOP_LEVEL_PROVIDERS = [
    "DefaultInfo",
    "OutputGroupInfo",
    "RunEnvironmentInfo",
    "InstrumentedFilesInfo",
    "CcInfo",
]


def providers(info: str, toolchain_type: str) -> str:
    """Starlark for ``provider()`` and Bazel's built-in providers, each bound to ``info`` (a
    function that returns a struct of its keyword arguments); ``config_common.toolchain_type``
    is bound to ``toolchain_type``. Shared by the evaluator's prelude and the API extractor's."""
    platform = ", ".join(f"{n} = {info}" for n in _PLATFORM_COMMON_PROVIDERS)
    return (
        """
def provider(doc = "", fields = None, init = None):
    def p(*args, **kw):
        return struct(**kw)
    if init != None:
        return (p, p)
    return p
"""
        + f"config_common = struct(toolchain_type = {toolchain_type}, FeatureFlagInfo = {info})\n"
        + f"platform_common = struct({platform})\n"
        + "".join(f"{n} = {info}\n" for n in _TOP_LEVEL_PROVIDERS)
    )


COMMON = """
def _recj(kind, payload, stack):
    # One JSON string crosses into Python: each value that crosses is converted on its own.
    return _rec(json.encode([kind, payload, stack]))

_SIMPLE = ["string", "int", "bool", "NoneType", "float"]

def _flat(x):
    t = type(x)
    if t == "list" or t == "tuple":
        return [y if type(y) in _SIMPLE else str(y) for y in x]
    if t == "dict":
        return {str(k): (y if type(y) in _SIMPLE else str(y)) for k, y in x.items()}
    return str(x)

def _clean(v):
    t = type(v)
    if t in _SIMPLE:
        return v
    if t == "list" or t == "tuple":
        return [x if type(x) in _SIMPLE else _flat(x) for x in v]
    if t == "dict" or t == "struct":
        if t == "struct":
            return str(v)
        return {str(k): (x if type(x) in _SIMPLE else _flat(x)) for k, x in v.items()}
    return str(v)

def _kw(kw):
    return {k: _clean(v) for k, v in kw.items()}

def select(d, no_match_error = ""):
    _recj("select", {"keys": [str(k) for k in d.keys()]}, call_stack())
    vals = d.values()
    if vals and all([type(v) == "list" for v in vals]):
        out = []
        for v in vals:
            out += v
        return out
    return vals[0] if vals else None

def Label(s):
    return str(s)

def print(*args, sep = " "):
    pass  # what evaluated files print would mix into preflight's own output (and its --json)
"""

MODULE = """
def module(name = "", version = "", compatibility_level = 0, repo_name = "", bazel_compatibility = []):
    _recj("module", {"name": name, "repo_name": repo_name}, call_stack())

def bazel_dep(name, version = "", max_compatibility_level = -1, repo_name = "", dev_dependency = False):
    _recj("bazel_dep", {"name": name, "version": version, "repo_name": repo_name or "", "dev": dev_dependency}, call_stack())

def _tag(ext, t):
    def f(*args, **kw):
        _recj("tag", {"ext": ext, "tag": t, "attrs": _kw(kw)}, call_stack())
    return f

def _proxy(ext):
    return struct(_rr_ext = ext, **{t: _tag(ext, t) for t in _tags()})

def use_extension(extension_bzl_file, extension_name, dev_dependency = False, isolate = False):
    ext = _recj("use_extension", {"bzl": extension_bzl_file, "name": extension_name, "dev": dev_dependency}, call_stack())
    return _proxy(ext)

def _ext_of(p):
    return getattr(p, "_rr_ext", -1)

def use_repo(extension_proxy, *args, **kwargs):
    _recj("use_repo", {"ext": _ext_of(extension_proxy), "repos": list(args) + list(kwargs.keys())}, call_stack())

def inject_repo(extension_proxy, *args, **kwargs):
    pass

def override_repo(extension_proxy, *args, **kwargs):
    pass

def register_toolchains(*toolchain_labels, dev_dependency = False):
    for l in toolchain_labels:
        _recj("register", {"kind": "toolchain", "label": l}, call_stack())

def register_execution_platforms(*platform_labels, dev_dependency = False):
    for l in platform_labels:
        _recj("register", {"kind": "execution_platform", "label": l}, call_stack())

def local_path_override(module_name, path):
    _recj("override", {"kind": "local_path_override", "module_name": module_name, "attrs": {"path": path}}, call_stack())

def archive_override(module_name, **kw):
    _recj("override", {"kind": "archive_override", "module_name": module_name, "attrs": _kw(kw)}, call_stack())

def git_override(module_name, **kw):
    _recj("override", {"kind": "git_override", "module_name": module_name, "attrs": _kw(kw)}, call_stack())

def single_version_override(module_name, **kw):
    _recj("override", {"kind": "single_version_override", "module_name": module_name, "attrs": _kw(kw)}, call_stack())

def multiple_version_override(module_name, versions, registry = ""):
    _recj("override", {"kind": "multiple_version_override", "module_name": module_name, "attrs": {}}, call_stack())

def use_repo_rule(repo_rule_bzl_file, repo_rule_name):
    def f(name, **kw):
        _recj("repo", {"name": name, "kind": repo_rule_name}, call_stack())
    return f

def include(label):
    _recj("include", {"label": label}, call_stack())

def flag_alias(name, starlark_flag):
    pass

rr_proxy = _proxy
"""

_NATIVE_RULES = [
    "alias",
    "cc_binary",
    "cc_import",
    "cc_library",
    "cc_proto_library",
    "cc_shared_library",
    "cc_test",
    "cc_toolchain",
    "cc_toolchain_suite",
    "config_setting",
    "constraint_setting",
    "constraint_value",
    "environment",
    "filegroup",
    "genquery",
    "genrule",
    "java_binary",
    "java_import",
    "java_library",
    "java_plugin",
    "java_test",
    "java_toolchain",
    "label_flag",
    "label_setting",
    "platform",
    "proto_lang_toolchain",
    "proto_library",
    "py_binary",
    "py_library",
    "py_runtime",
    "py_test",
    "sh_binary",
    "sh_library",
    "sh_test",
    "starlark_doc_extract",
    "test_suite",
    "toolchain",
    "toolchain_type",
    "objc_library",
    "objc_import",
    "package_group",
    "environment_group",
    "java_runtime",
]

BUILD = (
    """
def _native(kind):
    def f(name, **kw):
        _recj("target", {"kind": kind, "name": name, "attrs": _kw(kw), "origin": "native"}, call_stack())
    return f

def package(**kw):
    _recj("package", {"attrs": _kw(kw)}, call_stack())

def glob(include = [], exclude = [], exclude_directories = 1, allow_empty = None):
    found = _glob(include, exclude)
    _recj("glob", {"include": include, "exclude": exclude, "matches": len(found), "allow_empty": allow_empty}, call_stack())
    return found

def exports_files(srcs, visibility = None, licenses = None):
    for s in srcs:
        _recj("target", {"kind": "exports_files", "name": s, "attrs": {}, "origin": "native"}, call_stack())

def licenses(license_types):
    pass

def package_name():
    return _pkg()

def repository_name():
    return "@"

def module_name():
    return _module_name()

def module_version():
    return ""

def existing_rule(name):
    return _existing(name)

def existing_rules():
    return _existing_all()

def subpackages(include, exclude = [], allow_empty = False):
    return []

def package_relative_label(s):
    return str(s)

def depset(direct = None, order = "default", transitive = None):
    items = list(direct or [])
    return struct(to_list = lambda: items)
"""
    + "".join(f'{n} = _native("{n}")\n' for n in _NATIVE_RULES)
    + "native = struct(glob = glob, package = package, exports_files = exports_files, "
    "package_name = package_name, repository_name = repository_name, existing_rule = existing_rule, "
    "existing_rules = existing_rules, subpackages = subpackages, module_name = module_name, "
    "module_version = module_version, licenses = licenses, package_relative_label = package_relative_label, "
    + ", ".join(f"{n} = {n}" for n in _NATIVE_RULES)
    + ")\n"
)

BZL = (
    """
def _obj(*args, **kw):
    return struct(**{k: v for k, v in kw.items()})

def _attr(kind):
    def f(*args, **kw):
        return struct(_rr_kind = kind)
    return f

attr = struct(**{k: _attr(k) for k in ATTR_TYPES})

_LABEL_KINDS = ["label", "label_list", "label_keyed_string_dict", "string_keyed_label_dict", "output", "output_list"]

def _string_attrs(attrs, build_setting):
    if type(attrs) != "dict":
        return []
    out = [k for k, v in attrs.items() if getattr(v, "_rr_kind", "label") not in _LABEL_KINDS]
    if build_setting != None and getattr(build_setting, "_rr_kind", "") != "label":
        out.append("build_setting_default")
    return out

def rule(implementation = None, attrs = {}, build_setting = None, **kw):
    rid = _recj("rule", {"origin": "rule", "string_attrs": _string_attrs(attrs or {}, build_setting)}, call_stack())
    def r(name, **kw2):
        _recj("target", {"kind": "", "rule": rid, "name": name, "attrs": _kw(kw2), "origin": "rule"}, call_stack())
    return r

def macro(implementation = None, attrs = {}, **kw):
    rid = _recj("rule", {"origin": "macro"}, call_stack())
    def r(name, **kw2):
        _recj("target", {"kind": "", "rule": rid, "name": name, "attrs": _kw(kw2), "origin": "macro"}, call_stack())
    return r

def repository_rule(implementation = None, **kw):
    def r(name = "", **kw2):
        _recj("repo", {"name": name, "kind": "repository_rule"}, call_stack())
    return r

def module_extension(implementation = None, **kw):
    return struct(kind = "module_extension")

def tag_class(**kw):
    return struct(kind = "tag_class")

def aspect(implementation = None, **kw):
    return struct(kind = "aspect")

def transition(implementation = None, inputs = [], outputs = []):
    return struct(kind = "transition")

def analysis_test_transition(settings = {}):
    return struct(kind = "transition")

def exec_group(**kw):
    return struct(kind = "exec_group")

def subrule(**kw):
    return _obj

def visibility(v):
    pass

def configuration_field(fragment, name):
    return "configuration_field(" + fragment + "." + name + ")"

proto = struct(encode_text = lambda x: str(x))

config = struct(**{k: _attr(k) for k in ["bool", "exec", "int", "none", "string", "string_list", "string_set", "target"]})
"""
    + providers("_obj", toolchain_type="_obj")
).replace("ATTR_TYPES", repr(ATTR_TYPES))
