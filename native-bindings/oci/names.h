// names.h: the names config.json and the OCI command line use for capabilities, rlimits and signals.
#pragma once

/** "CAP_CHOWN" → 0 ...; -1 when the name is not a Linux capability. */
int oci_capability_number (const char *name);

/** The name of capability `number` ("CAP_CHOWN"), or NULL past the last one this runtime knows. */
const char *oci_capability_name (int number);

/** "RLIMIT_NOFILE" → RLIMIT_NOFILE; -1 when unknown. */
int oci_rlimit_number (const char *name);

/** RLIMIT_NOFILE → "RLIMIT_NOFILE"; NULL when unknown. */
const char *oci_rlimit_name (int resource);

/** "TERM", "SIGTERM", "15", "RTMIN+2", "SIGRTMAX-1" → the signal's number; -1 when unknown. */
int oci_signal_number (const char *name);
