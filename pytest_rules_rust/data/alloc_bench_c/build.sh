#!/bin/sh
# Build the C twin for one musl target: alloc_bench-{system,jemalloc,mimalloc}, all static.
#
#   build.sh BENCH_C ALLOC_SRC_DIR OUT_DIR TRIPLE
#
# BENCH_C is this directory's alloc_bench.c; ALLOC_SRC_DIR holds Debian's unpacked jemalloc-*/ and
# mimalloc-*/ sources (`apt-get source jemalloc mimalloc`); only OUT_DIR is written to.
set -eu
bench_c=$1
src=$2
out=$3
triple=$4
jobs=${JOBS:-2}

case "$triple" in
x86_64-unknown-linux-musl)
    cc=musl-gcc
    host=x86_64-linux-musl
    extra_configure=""
    ;;
aarch64-unknown-linux-musl)
    cc=aarch64-linux-musl-gcc
    host=aarch64-linux-musl
    # 4 KiB pages, as on qemu-user and most arm64 kernels.
    extra_configure="--with-lg-page=12"
    ;;
*)
    echo "build.sh: no C twin recipe for $triple (musl targets only)" >&2
    exit 2
    ;;
esac

work=$out/work
mkdir -p "$work"
jemalloc_src=$(ls -d "$src"/jemalloc-*/ | head -n 1)
mimalloc_src=$(ls -d "$src"/mimalloc-*/ | head -n 1)

echo "== jemalloc from $jemalloc_src"
rm -rf "$work/jemalloc"
cp -R "$jemalloc_src" "$work/jemalloc"
(
    cd "$work/jemalloc"
    # LDFLAGS=-static: on aarch64, gcc's outline atomics need musl's static __getauxval, or configure
    # finds no atomics. --disable-initial-exec-tls and --disable-libdl: static musl has no dlopen.
    ./configure CC="$cc" LDFLAGS=-static --host="$host" --disable-cxx --disable-shared --enable-static \
        --disable-libdl --disable-initial-exec-tls $extra_configure >configure.log 2>&1 ||
        { tail -n 30 configure.log; exit 1; }
    make -j"$jobs" lib/libjemalloc.a >make.log 2>&1 || { tail -n 30 make.log; exit 1; }
)

echo "== mimalloc from $mimalloc_src"
# -D__USE_ISOC11=1: without it mimalloc does not override aligned_alloc on musl, and musl's own
# allocator is linked in beside it.
"$cc" -O3 -DNDEBUG -DMI_MALLOC_OVERRIDE -D__USE_ISOC11=1 -fvisibility=hidden -ftls-model=initial-exec \
    -fno-builtin-malloc -I"$mimalloc_src/include" -c "$mimalloc_src/src/static.c" -o "$work/mimalloc.o"

for allocator in system jemalloc mimalloc; do
    case $allocator in
    system) libs="" ;;
    jemalloc) libs="$work/jemalloc/lib/libjemalloc.a" ;;
    mimalloc) libs="$work/mimalloc.o" ;;
    esac
    echo "== alloc_bench-$allocator"
    "$cc" -O2 -static -pthread -DALLOCATOR="\"$allocator\"" -DTARGET="\"$triple\"" \
        "$bench_c" $libs -o "$out/alloc_bench-$allocator"
done
rm -rf "$work"
echo "== done"
