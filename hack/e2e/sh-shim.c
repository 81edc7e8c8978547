/* /bin/sh for the locally built e2e busybox images.
 *
 * Upstream's busybox 1.37 ash passes environment variables whose names are not shell identifiers
 * (e.g. "data-1" from envFrom) on to its children; Debian's busybox 1.35 ash drops them. The
 * specs also match ash's exact error texts. So: run busybox ash, unless such a variable is
 * present, in which case run bash (which passes them through). argv is handed on unchanged. */
#include <ctype.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int is_identifier(const char *kv) {
  const char *eq = strchr(kv, '=');
  if (eq == NULL) return 1;
  if (eq == kv || !(isalpha((unsigned char)kv[0]) || kv[0] == '_')) return 0;
  for (const char *p = kv + 1; p < eq; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_')) return 0;
  return 1;
}

int main(int argc, char **argv) {
  (void)argc;
  for (char **e = environ; *e != NULL; e++) {
    if (!is_identifier(*e)) {
      execv("/bin/bash", argv);
      break;
    }
  }
  const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
  base = base ? base + 1 : argv[0];
  if (base == NULL || strcmp(base, "sh") != 0) argv[0] = "sh";
  execv("/bin/busybox", argv);
  return 127;
}
