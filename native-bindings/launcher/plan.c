// plan.c: the launch plan, read from JSON (jansson) into struct plan; every field checked.
#include "launcher.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// NOTE: the parsed document lives until exec; strings in struct plan point into it.
static json_t *document;

static const char *opt_string (json_t *obj, const char *key, bool *bad) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL || json_is_null(v)) return NULL;
  if (!json_is_string(v)) {
    *bad = true;
    return NULL;
  }
  return json_string_value(v);
}

static char **string_array (json_t *arr, bool *bad) {
  if (!json_is_array(arr)) {
    *bad = true;
    return NULL;
  }
  size_t n = json_array_size(arr);
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(arr, i);
    if (!json_is_string(s)) {
      *bad = true;
      return NULL;
    }
    out[i] = (char *) json_string_value(s);
  }
  return out;
}

#define BAD(key) do { snprintf(error, error_size, "plan: \"%s\" is missing or has the wrong type", key); return -1; } while (0)

int plan_parse (const char *json, struct plan *plan, char *error, size_t error_size) {
  json_error_t jerr;
  document = json_loads(json, 0, &jerr);
  if (document == NULL || !json_is_object(document)) {
    snprintf(error, error_size, "plan: not a JSON object (%s)", jerr.text);
    return -1;
  }
  memset(plan, 0, sizeof *plan);
  bool bad = false;
  plan->argv = string_array(json_object_get(document, "argv"), &bad);
  if (bad || plan->argv[0] == NULL) BAD("argv");
  plan->env = string_array(json_object_get(document, "env"), &bad);
  if (bad) BAD("env");
  plan->cwd = opt_string(document, "cwd", &bad);
  if (bad || plan->cwd == NULL || plan->cwd[0] != '/') BAD("cwd");
  plan->root = opt_string(document, "root", &bad);
  if (bad || plan->root == NULL || plan->root[0] != '/') BAD("root");
  plan->pidns = opt_string(document, "pidns", &bad);
  if (bad) BAD("pidns");
  plan->utsns = opt_string(document, "utsns", &bad);
  if (bad) BAD("utsns");
  plan->hostname = opt_string(document, "hostname", &bad);
  if (bad) BAD("hostname");
  plan->netns = opt_string(document, "netns", &bad);
  if (bad) BAD("netns");
  plan->ipcns = opt_string(document, "ipcns", &bad);
  if (bad) BAD("ipcns");
  plan->new_net = json_is_true(json_object_get(document, "new_net"));
  plan->new_ipc = json_is_true(json_object_get(document, "new_ipc"));
  plan->cgroups = string_array(json_object_get(document, "cgroups"), &bad);
  if (bad) BAD("cgroups");
  for (char **c = plan->cgroups; *c; c++) if ((*c)[0] != '/') BAD("cgroups");
  plan->nonce = opt_string(document, "nonce", &bad);
  if (bad) BAD("nonce");
  json_t *mounts = json_object_get(document, "mounts");
  if (!json_is_array(mounts)) BAD("mounts");
  plan->nmounts = json_array_size(mounts);
  plan->mounts = calloc(plan->nmounts + 1, sizeof *plan->mounts);
  for (size_t i = 0; i < plan->nmounts; i++) {
    json_t *m = json_array_get(mounts, i);
    const char *fs = opt_string(m, "fs", &bad), *target = opt_string(m, "target", &bad);
    if (bad || fs == NULL || target == NULL || target[0] != '/') BAD("mounts");
    if (strcmp(fs, "proc") == 0) plan->mounts[i].fs = FS_PROC;
    else if (strcmp(fs, "sysfs") == 0) plan->mounts[i].fs = FS_SYSFS;
    else if (strcmp(fs, "devpts") == 0) plan->mounts[i].fs = FS_DEVPTS;
    else BAD("mounts[].fs");
    plan->mounts[i].target = target;
    plan->mounts[i].read_only = json_is_true(json_object_get(m, "read_only"));
    plan->mounts[i].unmasked = json_is_true(json_object_get(m, "unmasked"));
  }
  plan->dev = json_is_true(json_object_get(document, "dev"));
  plan->jail = json_is_true(json_object_get(document, "jail"));
  plan->tty = json_is_true(json_object_get(document, "tty"));
  plan->rows = (unsigned short) json_integer_value(json_object_get(document, "rows"));
  plan->cols = (unsigned short) json_integer_value(json_object_get(document, "cols"));
  json_t *user = json_object_get(document, "user");
  if (!json_is_object(user)) BAD("user");
  json_t *uid = json_object_get(user, "uid"), *gid = json_object_get(user, "gid"), *groups = json_object_get(user, "groups");
  if (!json_is_integer(uid) || !json_is_integer(gid) || !json_is_array(groups)) BAD("user");
  plan->uid = (uid_t) json_integer_value(uid);
  plan->gid = (gid_t) json_integer_value(gid);
  plan->ngroups = json_array_size(groups);
  plan->groups = calloc(plan->ngroups + 1, sizeof *plan->groups);
  for (size_t i = 0; i < plan->ngroups; i++) {
    json_t *g = json_array_get(groups, i);
    if (!json_is_integer(g)) BAD("user.groups");
    plan->groups[i] = (gid_t) json_integer_value(g);
  }
  json_t *userns = json_object_get(document, "userns");
  if (userns != NULL && !json_is_null(userns)) {
    json_t *u = json_object_get(userns, "uid"), *g = json_object_get(userns, "gid"), *n = json_object_get(userns, "size");
    if (!json_is_integer(u) || !json_is_integer(g) || !json_is_integer(n)) BAD("userns");
    // NOTE: a host range starting at 0 would map container root to host root: that is no user namespace.
    if (json_integer_value(u) < 1 || json_integer_value(g) < 1 || json_integer_value(n) < 1 ||
        json_integer_value(u) + json_integer_value(n) > 0xffffffffLL || json_integer_value(g) + json_integer_value(n) > 0xffffffffLL) BAD("userns");
    plan->userns.uid = (uid_t) json_integer_value(u);
    plan->userns.gid = (gid_t) json_integer_value(g);
    plan->userns.size = (unsigned) json_integer_value(n);
  }
  plan->userns_path = opt_string(document, "userns_path", &bad);
  if (bad || (plan->userns_path && plan->userns.size == 0)) BAD("userns_path");
  if (plan->userns.size && (plan->uid >= plan->userns.size || plan->gid >= plan->userns.size)) {
    snprintf(error, error_size, "plan: user %u:%u is outside the user namespace's 0-%u", (unsigned) plan->uid, (unsigned) plan->gid, plan->userns.size - 1);
    return -1;
  }
  for (size_t i = 0; plan->userns.size && i < plan->ngroups; i++) {
    if (plan->groups[i] >= plan->userns.size) BAD("user.groups");
  }
  if ((plan->netns && plan->new_net) || (plan->ipcns && plan->new_ipc)) {
    snprintf(error, error_size, "plan: a namespace is either joined (\"netns\", \"ipcns\") or new (\"new_net\", \"new_ipc\"), not both");
    return -1;
  }
  if (plan->utsns && plan->hostname) {
    snprintf(error, error_size, "plan: \"hostname\" can only be set in a new UTS namespace, not with \"utsns\"");
    return -1;
  }
  return 0;
}
