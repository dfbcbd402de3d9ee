// peer-credentials: who is at the other end of a Unix socket (SO_PEERCRED), which Node does not expose.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <sys/socket.h>

// peerCredentials(fd) -> [pid, uid, gid] | -errno
static napi_value peer_credentials (napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, out, v;
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, arg, &fd) != napi_ok) fd = -1;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    napi_create_int32(env, -errno, &out);
    return out;
  }
  napi_create_array_with_length(env, 3, &out);
  int32_t fields[3] = { cred.pid, (int32_t) cred.uid, (int32_t) cred.gid };
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_int32(env, fields[i], &v);
    napi_set_element(env, out, i, v);
  }
  return out;
}

static napi_value init (napi_env env, napi_value exports) {
  napi_property_descriptor prop = { "peerCredentials", NULL, peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL };
  napi_define_properties(env, exports, 1, &prop);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
