//! Facts about the global allocator, read from jemalloc itself through mallctl.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

/// jemalloc's version string, e.g. `5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c`.
pub fn jemalloc_version() -> Option<String> {
    let mut version: *const c_char = ptr::null();
    let mut size = std::mem::size_of::<*const c_char>();
    // SAFETY: "version" is a read-only `const char *` mallctl; oldp/oldlenp describe a pointer slot.
    let rc = unsafe {
        jemalloc_sys::mallctl(
            b"version\0".as_ptr() as *const c_char,
            &mut version as *mut _ as *mut c_void,
            &mut size,
            ptr::null_mut(),
            0,
        )
    };
    if rc != 0 || version.is_null() {
        return None;
    }
    // SAFETY: jemalloc returns a pointer to a static NUL-terminated string.
    Some(unsafe { CStr::from_ptr(version) }.to_string_lossy().into_owned())
}

/// Whether jemalloc manages the allocation at `pointer` (mallctl "arenas.lookup").
pub fn owned_by_jemalloc(pointer: *const u8) -> bool {
    let mut arena: u32 = 0;
    let mut size = std::mem::size_of::<u32>();
    let mut query = pointer as *mut c_void;
    // SAFETY: arenas.lookup reads a `void *` (newp) and writes an `unsigned` arena index (oldp); for
    // memory jemalloc does not manage it returns an error instead of an index.
    let rc = unsafe {
        jemalloc_sys::mallctl(
            b"arenas.lookup\0".as_ptr() as *const c_char,
            &mut arena as *mut u32 as *mut c_void,
            &mut size,
            &mut query as *mut *mut c_void as *mut c_void,
            std::mem::size_of::<*mut c_void>(),
        )
    };
    rc == 0
}

/// One line for `--allocator` and the `X-Allocator` header: which allocator serves Rust's heap,
/// checked at run time by asking jemalloc whether it owns a fresh allocation.
pub fn describe() -> String {
    let probe = std::hint::black_box(Box::new(0u64));
    let global = owned_by_jemalloc(&*probe as *const u64 as *const u8);
    match (global, jemalloc_version()) {
        (true, Some(version)) => format!("jemalloc {version}"),
        (true, None) => "jemalloc (version unavailable)".into(),
        (false, _) => "system (jemalloc linked, but not the global allocator)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};

    #[test]
    fn the_global_allocator_is_jemalloc() {
        let version = jemalloc_version().expect("mallctl(\"version\") answers");
        assert!(version.starts_with("5."), "{}", version);
        // Memory from Rust's global allocator belongs to jemalloc ...
        let boxed = std::hint::black_box(Box::new([7u8; 4096]));
        assert!(owned_by_jemalloc(boxed.as_ptr()), "a Box was not allocated by jemalloc");
        let small = std::hint::black_box(vec![1u8; 24]);
        assert!(owned_by_jemalloc(small.as_ptr()));
        // ... and memory from the libc's malloc does not (the lookup can tell them apart).
        let layout = Layout::from_size_align(4096, 16).unwrap();
        // SAFETY: non-zero layout; freed below with the same allocator and layout.
        let foreign = unsafe { System.alloc(layout) };
        assert!(!foreign.is_null());
        assert!(!owned_by_jemalloc(foreign), "libc malloc memory reported as jemalloc's");
        unsafe { System.dealloc(foreign, layout) };
    }
}
