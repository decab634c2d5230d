"""Shared helpers for the OCI tests: a real static musl HTTP responder for amd64 and arm64."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rules_rust.platforms import AMD64, ARM64, Platform

# A tiny HTTP/1.0 responder: answers every request with "hello from <uname -m>" and the request
# line; with "--version" it prints a version line and exits (used by command tests: no shell needed).
RESPONDER_C = r"""
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct utsname u;
    uname(&u);
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("responder 1.0 on %s\n", u.machine);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--fail") == 0) {
        fprintf(stderr, "failing on purpose\n");
        return 3;
    }
    int port = argc > 1 ? atoi(argv[1]) : 3232;
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("bind/listen"); return 1; }
    for (;;) {
        int c = accept(s, 0, 0);
        if (c < 0) continue;
        char req[1024] = {0};
        ssize_t n = read(c, req, sizeof req - 1);
        char *eol = n > 0 ? strstr(req, "\r\n") : 0;
        if (eol) *eol = 0;
        char body[1400];
        int len = snprintf(body, sizeof body, "hello from %s\n%s\n", u.machine, n > 0 ? req : "");
        char head[200];
        int hl = snprintf(head, sizeof head,
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len);
        write(c, head, hl);
        write(c, body, len);
        close(c);
    }
}
"""

COMPILERS: dict[Platform, str] = {AMD64: "musl-gcc", ARM64: "aarch64-linux-musl-gcc"}


def build_responders(out: Path) -> dict[Platform, Path]:
    """Compile the responder statically with musl for both platforms (skips when a compiler is missing)."""
    out.mkdir(parents=True, exist_ok=True)
    source = out / "responder.c"
    source.write_text(RESPONDER_C)
    binaries = {}
    for platform, compiler in COMPILERS.items():
        if not shutil.which(compiler):
            pytest.skip(
                f"{compiler} is missing: apt-get install musl-tools musl-dev:arm64 (scripts/provision.sh)"
            )
        binary = out / f"responder-{platform.arch}"
        subprocess.run([compiler, "-static", "-O2", "-s", "-o", str(binary), str(source)], check=True)
        binaries[platform] = binary
    return binaries


@pytest.fixture(scope="session")
def responders(tmp_path_factory: pytest.TempPathFactory) -> dict[Platform, Path]:
    """Static musl responder binaries for linux/amd64 and linux/arm64."""
    return build_responders(tmp_path_factory.mktemp("responder"))
