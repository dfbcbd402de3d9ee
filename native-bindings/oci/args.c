// args.c: a verb's options in either spelling (`--opt value`, `--opt=value`, `-o value`), runc's way.
#include <stdlib.h>
#include <string.h>
#include "oci.h"

bool wants_help (int argc, char **argv) {
  for (int i = 0; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) return true;
  return false;
}

static const struct opt *find (const struct opt *opts, const char *arg, const char **inline_value) {
  *inline_value = NULL;
  if (arg[1] != '-') {
    for (const struct opt *o = opts; o->long_name; o++)
      if (o->short_name && arg[1] == o->short_name && arg[2] == '\0') return o;
    return NULL;
  }
  const char *name = arg + 2, *eq = strchr (name, '=');
  size_t n = eq ? (size_t) (eq - name) : strlen (name);
  for (const struct opt *o = opts; o->long_name; o++)
    if (strlen (o->long_name) == n && strncmp (o->long_name, name, n) == 0) {
      if (eq) *inline_value = eq + 1;
      return o;
    }
  return NULL;
}

int parse_opts (int argc, char **argv, const struct opt *opts, char ***pos, int *npos) {
  *pos = calloc ((size_t) argc + 1, sizeof **pos);
  *npos = 0;
  bool only_positionals = false;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (only_positionals || arg[0] != '-' || arg[1] == '\0') {
      (*pos)[(*npos)++] = argv[i];
      continue;
    }
    if (strcmp (arg, "--") == 0) {
      only_positionals = true;
      continue;
    }
    const char *value;
    const struct opt *o = find (opts, arg, &value);
    if (!o) return fail ("unknown option %s", arg), -1;
    if (o->has_value) {
      if (!value) {
        if (i + 1 >= argc) return fail ("%s needs a value", arg), -1;
        value = argv[++i];
      }
      *o->value = value;
    } else {
      if (value && strcmp (value, "true") != 0 && strcmp (value, "false") != 0) return fail ("%s takes no value", arg), -1;
      *o->flag = !value || strcmp (value, "true") == 0;
    }
  }
  return 0;
}
