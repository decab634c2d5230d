//! Generates the prost messages and tonic client/server for proto/helloworld.proto.
//!
//! Under Bazel the same code comes from `rust_prost_library(name = "rust_proto")` and the custom
//! prost toolchain in build/prost_toolchain, and src/lib.rs is compiled with `--cfg bazel`.

use std::env;
use std::path::{Path, PathBuf};

fn find_on_path(program: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(bazel)");
    println!("cargo:rerun-if-changed=proto/helloworld.proto");
    println!("cargo:rerun-if-env-changed=PROTOC");
    // prost-build runs $PROTOC, else `protoc` from PATH: check first, to fail with a useful message.
    match env::var_os("PROTOC") {
        Some(protoc) if !Path::new(&protoc).is_file() => {
            panic!("PROTOC={:?} does not exist: point it at a protoc binary or unset it", protoc)
        }
        Some(_) => {}
        None if find_on_path("protoc").is_none() => panic!(
            "protoc not found on PATH: install it (Debian: apt-get install protobuf-compiler) \
             or set PROTOC to a protoc binary"
        ),
        None => {}
    }
    if let Err(error) = tonic_build::compile_protos("proto/helloworld.proto") {
        panic!("generating code from proto/helloworld.proto failed: {}", error);
    }
}
