// oci-seccomp.h: checking a runtime-spec seccomp object at create, before anything is built.
#pragma once

#include "spec.h"

/** Validates linux.seccomp (actions, architectures, operators, flags) without compiling it. */
int oci_seccomp_check (const json_t *seccomp, const char *file, struct oci_error *e);
