// getsockopt(SO_PEERCRED) for a connected unix socket: the peer's pid, uid and gid as the
// kernel recorded them at connect() time (socket(7), unix(7) "SO_PEERCRED"). Node has no API
// for it; this is the whole addon.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/types.h>

namespace {

Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "peerCred(fd): fd must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred;
  socklen_t len = sizeof(cred);
  std::memset(&cred, 0, sizeof(cred));
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    int err = errno;
    Napi::Error e = Napi::Error::New(env, std::string("getsockopt(SO_PEERCRED): ") + std::strerror(err));
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCred", Napi::Function::New(env, PeerCred, "peerCred"));
  return exports;
}

}  // namespace

NODE_API_MODULE(peercred, Init)
