"""An immutable image tag: the first 7 hex digits of the image index digest."""

def _build_sha256_tag_impl(ctx):
    in_file = ctx.file.input
    out_file = ctx.outputs.output

    # The output is declared as an attribute, so building this target builds it.
    ctx.actions.run_shell(
        inputs = [in_file],
        outputs = [out_file],
        arguments = [in_file.path, out_file.path],
        command = "sed -n 's/.*sha256:\\([[:xdigit:]]\\{7\\}\\).*/\\1/p' < \"$1\" > \"$2\" && test -s \"$2\"",
        mnemonic = "ShortDigestTag",
        progress_message = "Tagging %{label} from the digest in " + in_file.short_path,
    )

build_sha256_tag = rule(
    doc = "Extracts a 7 characters long short hash from an image (index) digest file.",
    implementation = _build_sha256_tag_impl,
    attrs = {
        "input": attr.label(
            allow_single_file = True,
            mandatory = True,
            doc = "The digest file of the image index: `image_index.json.sha256`, made by the `image_index.digest` jq target in BUILD.bazel.",
        ),
        "output": attr.output(
            mandatory = True,
            doc = "The generated tag file, one tag per line, for oci_push(remote_tags = ...).",
        ),
    },
)
