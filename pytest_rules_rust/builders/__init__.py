"""Builders behind one interface: ``build(request, out_dir) -> BuildResult``.

``get_builder(name)`` resolves ``cargo`` or ``bazel``; an unknown name is an error listing the choices.
"""
