// cmd_state.c: `state`: the runtime-spec state JSON, computed without the supervisor; `list`.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci.h"

int cmd_state (int argc, char **argv) {
  if (wants_help (argc, argv)) return printf ("usage: fusejail [global options] state ID\nPrints the container's state (runtime-spec JSON).\n"), 0;
  struct oci_state st;
  if (load_container (argc, argv, "state", &st) < 0) return 1;
  json_t *o = state_json (&st, state_status (&st));
  char *text = json_dumps (o, JSON_INDENT (2));
  printf ("%s\n", text);
  free (text);
  json_decref (o);
  state_free (&st);
  return 0;
}

int cmd_list (int argc, char **argv) {
  bool json = false, quiet = false;
  const char *format = NULL;
  const struct opt opts[] = { { "format", 'f', true, &format, NULL }, { "quiet", 'q', false, NULL, &quiet }, { 0 } };
  if (wants_help (argc, argv)) return printf ("usage: fusejail [global options] list [--format table|json] [--quiet]\n"), 0;
  char **pos;
  int npos;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (format && strcmp (format, "json") != 0 && strcmp (format, "table") != 0) return fail ("--format must be table or json, not %s", format);
  json = format && strcmp (format, "json") == 0;
  json_t *all = json_array ();
  DIR *d = opendir (g.root);
  struct dirent *ent;
  while (d && (ent = readdir (d))) {
    struct oci_state st;
    if (ent->d_name[0] == '.' || state_load (ent->d_name, &st) < 0) continue;
    json_array_append_new (all, state_json (&st, state_status (&st)));
    state_free (&st);
  }
  if (d) closedir (d);
  if (json) {
    char *text = json_dumps (all, JSON_COMPACT);
    printf ("%s\n", text);
    free (text);
  } else {
    if (!quiet) printf ("%-20s %-8s %-10s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
    size_t i;
    json_t *s;
    json_array_foreach (all, i, s) {
      if (quiet) printf ("%s\n", json_string_value (json_object_get (s, "id")));
      else
        printf ("%-20s %-8lld %-10s %-30s %s\n", json_string_value (json_object_get (s, "id")), json_integer_value (json_object_get (s, "pid")),
                json_string_value (json_object_get (s, "status")), json_string_value (json_object_get (s, "bundle")),
                json_string_value (json_object_get (s, "created")));
    }
  }
  json_decref (all);
  return 0;
}
