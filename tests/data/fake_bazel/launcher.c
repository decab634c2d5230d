/* The stand-in Bazel as one self-contained ELF executable, the shape of a Bazel release binary,
 * for --rr-bazel-binary. payload.h (written by tests/bazel_helpers.py) holds the stand-in script
 * (tests/data/fake_bazel/bazel) and the recorded BEP stream; the launcher writes the recording to
 * /tmp and runs the script with /bin/sh, passing every argument on. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "payload.h"

int main(int argc, char **argv) {
    char recording[64];
    snprintf(recording, sizeof recording, "/tmp/fake-bazel-recording-%d.jsonl", (int)getpid());
    FILE *out = fopen(recording, "wb");
    size_t size = sizeof RECORDING - 1;
    if (out == NULL || fwrite(RECORDING, 1, size, out) != size || fclose(out) != 0) {
        perror(recording);
        return 127;
    }
    setenv("FAKE_BAZEL_RECORDING", recording, 1);
    char *args[argc + 4];
    args[0] = "sh";
    args[1] = "-c";
    args[2] = (char *)SCRIPT;
    args[3] = "bazel";
    for (int i = 1; i < argc; i++) args[i + 3] = argv[i];
    args[argc + 3] = NULL;
    execv("/bin/sh", args);
    perror("execv /bin/sh");
    return 127;
}
