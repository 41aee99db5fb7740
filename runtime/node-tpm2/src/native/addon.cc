// The N-API surface: class Context, one ESYS context per instance. Every method returns a
// Promise and runs its TPM work on a libuv worker thread (AsyncWorker). The JS wrapper
// (src/tpm.ts) validates arguments and serialises calls; the mutex here is a second guard,
// because ESYS is not reentrant.
#include <napi.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <functional>
#include <mutex>

#include "ops.h"

namespace {

struct Esys {
  std::mutex lock;
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
};

// Our own "not open" code, in the TSS feature layer range, so JS can tell it apart.
const TSS2_RC kNotOpen = TSS2_FEATURE_RC_LAYER | TSS2_BASE_RC_BAD_SEQUENCE;

using Fn = std::function<TSS2_RC(Esys&, Out&)>;

class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, Esys& e, Fn fn)
      : Napi::AsyncWorker(env), esys_(e), fn_(std::move(fn)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::lock_guard<std::mutex> g(esys_.lock);
    rc_ = fn_(esys_, out_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ != TSS2_RC_SUCCESS) {
      const char* decoded = Tss2_RC_Decode(rc_);
      Napi::Error err = Napi::Error::New(env, out_.op + ": " + (decoded ? decoded : "unknown"));
      err.Set("rc", Napi::Number::New(env, rc_));
      err.Set("op", Napi::String::New(env, out_.op));
      err.Set("decoded", Napi::String::New(env, decoded ? decoded : ""));
      deferred_.Reject(err.Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    for (auto& [k, v] : out_.bufs) o.Set(k, Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size()));
    for (auto& [k, v] : out_.nums) o.Set(k, Napi::Number::New(env, v));
    for (auto& [k, v] : out_.bufs) std::fill(v.begin(), v.end(), 0);  // unsealed data included
    deferred_.Resolve(o);
  }

 private:
  Esys& esys_;
  Fn fn_;
  Out out_;
  TSS2_RC rc_ = TSS2_RC_SUCCESS;
  Napi::Promise::Deferred deferred_;
};

Bytes bytes(const Napi::Value& v) {
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return Bytes(b.Data(), b.Data() + b.Length());
}
uint32_t u32(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }

/** Wraps an op that needs an open context. */
template <typename F>
Fn open_only(F f) {
  return [f](Esys& e, Out& out) mutable -> TSS2_RC {
    if (!e.esys) {
      out.op = "TPM context is closed";
      return kNotOpen;
    }
    return f(e.esys, out);
  };
}

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Context",
                       {
                           InstanceMethod<&Context::Open>("open"),
                           InstanceMethod<&Context::Close>("close"),
                           InstanceMethod<&Context::Call>("call"),
                       });
  }
  explicit Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {}
  ~Context() override { Finalize(e_); }

 private:
  static void Finalize(Esys& e) {
    if (e.esys) Esys_Finalize(&e.esys);
    if (e.tcti) Tss2_TctiLdr_Finalize(&e.tcti);
  }

  Napi::Value Run(const Napi::CallbackInfo& info, Fn fn) {
    auto* job = new Job(info.Env(), e_, std::move(fn));
    Napi::Promise p = job->Promise();
    job->Queue();
    return p;
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    std::string conf = info[0].As<Napi::String>();
    return Run(info, [conf](Esys& e, Out& out) -> TSS2_RC {
      if (e.esys) return TSS2_RC_SUCCESS;
      TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.c_str(), &e.tcti);
      if (rc != TSS2_RC_SUCCESS) {
        out.op = "Tss2_TctiLdr_Initialize";
        return rc;
      }
      rc = Esys_Initialize(&e.esys, e.tcti, nullptr);
      if (rc != TSS2_RC_SUCCESS) {
        out.op = "Esys_Initialize";
        Finalize(e);
      }
      return rc;
    });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    return Run(info, [](Esys& e, Out&) -> TSS2_RC {
      Finalize(e);
      return TSS2_RC_SUCCESS;
    });
  }

  /** call(name, ...args): one named TPM operation. */
  Napi::Value Call(const Napi::CallbackInfo& info) {
    std::string name = info[0].As<Napi::String>();
    Fn fn = Select(name, info);
    if (!fn) {
      Napi::TypeError::New(info.Env(), "unknown TPM operation " + name).ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    return Run(info, std::move(fn));
  }

  static Fn Select(const std::string& n, const Napi::CallbackInfo& a) {
    if (n == "getRandom") return open_only([x = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_get_random(c, x, o); });
    if (n == "pcrRead") return open_only([p = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_pcr_read(c, p, o); });
    if (n == "pcrReset") return open_only([p = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_pcr_reset(c, p, o); });
    if (n == "pcrExtend")
      return open_only([p = u32(a[1]), d = bytes(a[2])](ESYS_CONTEXT* c, Out& o) { return op_pcr_extend(c, p, d, o); });
    if (n == "createPrimary") {
      PrimaryKind k = a[1].As<Napi::String>().Utf8Value() == "ak" ? PrimaryKind::AttestationKey : PrimaryKind::Storage;
      return open_only([k](ESYS_CONTEXT* c, Out& o) { return op_create_primary(c, k, o); });
    }
    if (n == "flush") return open_only([h = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_flush(c, h, o); });
    if (n == "createSealed")
      return open_only([p = u32(a[1]), d = bytes(a[2]), pol = bytes(a[3])](ESYS_CONTEXT* c, Out& o) mutable {
        TSS2_RC rc = op_create_sealed(c, p, d, pol, o);
        std::fill(d.begin(), d.end(), 0);  // the secret's copy on this side
        return rc;
      });
    if (n == "load")
      return open_only([p = u32(a[1]), pr = bytes(a[2]), pu = bytes(a[3])](ESYS_CONTEXT* c, Out& o) {
        return op_load(c, p, pr, pu, o);
      });
    if (n == "unseal")
      return open_only([s = u32(a[1]), h = u32(a[2]), p = u32(a[3])](ESYS_CONTEXT* c, Out& o) {
        return op_unseal(c, s, h, p, o);
      });
    if (n == "quote")
      return open_only([k = u32(a[1]), p = u32(a[2]), d = bytes(a[3])](ESYS_CONTEXT* c, Out& o) {
        return op_quote(c, k, p, d, o);
      });
    if (n == "properties") return open_only([](ESYS_CONTEXT* c, Out& o) { return op_properties(c, o); });
    if (Fn fn = SelectPolicy(n, a)) return fn;
    return SelectNv(n, a);
  }

  /** The signed-policy ops; sizes are checked here too, so no argument overruns a TPM2B. */
  static Fn SelectPolicy(const std::string& n, const Napi::CallbackInfo& a) {
    if (n == "loadExternal")
      return open_only([p = bytes(a[1])](ESYS_CONTEXT* c, Out& o) { return op_load_external(c, p, o); });
    if (n != "unsealAuthorized") return nullptr;
    Authorization z{u32(a[3]), bytes(a[4]), bytes(a[5]), bytes(a[6]), bytes(a[7]), bytes(a[8])};
    if (z.approved.size() != 32 || z.aHash.size() != 32 || z.policyRef.size() > 32 || z.pcrMask == 0 ||
        z.pcrMask > 0xffffff) {
      return [](Esys&, Out& o) -> TSS2_RC {
        o.op = "unsealAuthorized: bad argument sizes";
        return TSS2_ESYS_RC_BAD_VALUE;
      };
    }
    return open_only([s = u32(a[1]), h = u32(a[2]), z](ESYS_CONTEXT* c, Out& o) {
      return op_unseal_authorized(c, s, h, z, o);
    });
  }

  static Fn SelectNv(const std::string& n, const Napi::CallbackInfo& a) {
    if (n == "nvDefine") {
      NvKind k = a[2].As<Napi::String>().Utf8Value() == "counter" ? NvKind::Counter : NvKind::Extend;
      bool noDA = a[3].As<Napi::Boolean>().Value();
      return open_only([i = u32(a[1]), k, noDA](ESYS_CONTEXT* c, Out& o) { return op_nv_define(c, i, k, noDA, o); });
    }
    if (n == "nvUndefine") return open_only([i = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_nv_undefine(c, i, o); });
    if (n == "nvIncrement")
      return open_only([i = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_nv_increment(c, i, o); });
    if (n == "nvExtend")
      return open_only([i = u32(a[1]), d = bytes(a[2])](ESYS_CONTEXT* c, Out& o) { return op_nv_extend(c, i, d, o); });
    if (n == "nvRead") return open_only([i = u32(a[1])](ESYS_CONTEXT* c, Out& o) { return op_nv_read(c, i, o); });
    return nullptr;
  }

  Esys e_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Context", Context::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tpm2, Init)
