// Process hardening Node has no API for (runtime/src/daemon/harden.ts): the runtime holds its
// unsealed key in memory, so it is not dumpable (no ptrace by its own uid, /proc/PID/mem and
// environ root-only) and writes no core file (RLIMIT_CORE 0), as ssh-agent and gpg-agent do.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>

namespace {

Napi::Value Fail(Napi::Env env, const char* what) {
  Napi::Error::New(env, std::string(what) + ": " + std::strerror(errno)).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Harden(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return Fail(env, "setrlimit(RLIMIT_CORE)");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return Fail(env, "prctl(PR_SET_DUMPABLE)");
  return env.Undefined();
}

Napi::Value Dumpable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("harden", Napi::Function::New(env, Harden, "harden"));
  exports.Set("dumpable", Napi::Function::New(env, Dumpable, "dumpable"));
  return exports;
}

}  // namespace

NODE_API_MODULE(harden, Init)
