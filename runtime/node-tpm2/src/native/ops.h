// TPM operations over ESYS, run on a worker thread. Each returns the first failing TSS2_RC
// and records the failing ESYS call in `out.op`; every transient object and session it
// creates is flushed before it returns, also on failure (swtpm has 3 transient slots).
#pragma once
#include <tss2/tss2_esys.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using Bytes = std::vector<uint8_t>;

struct Out {
  std::string op;
  std::vector<std::pair<std::string, Bytes>> bufs;
  std::vector<std::pair<std::string, double>> nums;
  void buf(const char* k, const uint8_t* p, size_t n) { bufs.emplace_back(k, Bytes(p, p + n)); }
  void num(const char* k, double v) { nums.emplace_back(k, v); }
};

enum class PrimaryKind { Storage, AttestationKey };

TSS2_RC op_get_random(ESYS_CONTEXT* c, uint16_t n, Out& out);
TSS2_RC op_pcr_read(ESYS_CONTEXT* c, uint32_t pcr, Out& out);
TSS2_RC op_pcr_extend(ESYS_CONTEXT* c, uint32_t pcr, const Bytes& digest, Out& out);
TSS2_RC op_pcr_reset(ESYS_CONTEXT* c, uint32_t pcr, Out& out);
TSS2_RC op_create_primary(ESYS_CONTEXT* c, PrimaryKind kind, Out& out);
TSS2_RC op_flush(ESYS_CONTEXT* c, uint32_t handle, Out& out);
TSS2_RC op_create_sealed(ESYS_CONTEXT* c, uint32_t parent, const Bytes& data, const Bytes& policy, Out& out);
TSS2_RC op_load(ESYS_CONTEXT* c, uint32_t parent, const Bytes& priv, const Bytes& pub, Out& out);
TSS2_RC op_unseal(ESYS_CONTEXT* c, uint32_t saltKey, uint32_t object, uint32_t pcr, Out& out);

/** What TPM2_PolicyAuthorize needs (Part 3 §23.16), all from untrusted bytes but `aHash`. */
struct Authorization {
  uint32_t pcrMask;     // the SHA-256 PCRs of the approved PolicyPCR
  Bytes approved;       // the approved policy digest (32 bytes)
  Bytes policyRef;      // 0..32 bytes
  Bytes aHash;          // SHA-256(approved || policyRef): what the signature signs
  Bytes signerPublic;   // marshalled TPM2B_PUBLIC of the vendor's PCR-signing key
  Bytes signature;      // marshalled TPMT_SIGNATURE
};
TSS2_RC op_load_external(ESYS_CONTEXT* c, const Bytes& pub, Out& out);
TSS2_RC op_unseal_authorized(ESYS_CONTEXT* c, uint32_t saltKey, uint32_t object, const Authorization& a, Out& out);
TSS2_RC op_quote(ESYS_CONTEXT* c, uint32_t ak, uint32_t pcrMask, const Bytes& nonce, Out& out);
TSS2_RC op_properties(ESYS_CONTEXT* c, Out& out);

enum class NvKind { Counter, Extend };
TSS2_RC op_nv_define(ESYS_CONTEXT* c, uint32_t index, NvKind kind, bool noDA, Out& out);
TSS2_RC op_nv_undefine(ESYS_CONTEXT* c, uint32_t index, Out& out);
TSS2_RC op_nv_increment(ESYS_CONTEXT* c, uint32_t index, Out& out);
TSS2_RC op_nv_extend(ESYS_CONTEXT* c, uint32_t index, const Bytes& data, Out& out);
TSS2_RC op_nv_read(ESYS_CONTEXT* c, uint32_t index, Out& out);

/** A marshalling failure of untrusted input, reported in the TSS MU layer. */
TSS2_RC mu_error(TSS2_RC rc, const char* what, Out& out);
