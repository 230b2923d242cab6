/* The ABI is header-only; the layout asserts live in podgate_abi.h so that
 * both compilers check them (clang -target bpf for bpf/, the host compiler
 * here). SwiftPM needs one source file in a C target: this is it. */
#include "podgate_abi.h"
