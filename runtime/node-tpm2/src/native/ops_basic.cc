// GetRandom, PCR read/extend/reset, NV counter and extend indices, TPM properties.
#include <tss2/tss2_mu.h>

#include <cstring>

#include "ops.h"
#include "templates.h"

#define TRY(call, name)               \
  do {                                \
    TSS2_RC rc_ = (call);             \
    if (rc_ != TSS2_RC_SUCCESS) {     \
      out.op = name;                  \
      return rc_;                     \
    }                                 \
  } while (0)

static const ESYS_TR N = ESYS_TR_NONE;
static const ESYS_TR PW = ESYS_TR_PASSWORD;

TSS2_RC mu_error(TSS2_RC rc, const char* what, Out& out) {
  out.op = what;
  return rc;
}

// TPM 2.0 Part 3 §16.1
TSS2_RC op_get_random(ESYS_CONTEXT* c, uint16_t n, Out& out) {
  Bytes acc;
  while (acc.size() < n) {
    TPM2B_DIGEST* r = nullptr;
    TRY(Esys_GetRandom(c, N, N, N, static_cast<UINT16>(n - acc.size()), &r), "Esys_GetRandom");
    acc.insert(acc.end(), r->buffer, r->buffer + r->size);
    Esys_Free(r);
  }
  out.buf("bytes", acc.data(), acc.size());
  return TSS2_RC_SUCCESS;
}

// Part 3 §22.4
TSS2_RC op_pcr_read(ESYS_CONTEXT* c, uint32_t pcr, Out& out) {
  TPML_PCR_SELECTION sel = one_pcr(pcr);
  UINT32 counter = 0;
  TPML_PCR_SELECTION* outSel = nullptr;
  TPML_DIGEST* values = nullptr;
  TRY(Esys_PCR_Read(c, N, N, N, &sel, &counter, &outSel, &values), "Esys_PCR_Read");
  bool ok = values->count == 1;
  if (ok) out.buf("digest", values->digests[0].buffer, values->digests[0].size);
  out.num("updateCounter", counter);
  Esys_Free(outSel);
  Esys_Free(values);
  if (!ok) return mu_error(TSS2_ESYS_RC_MALFORMED_RESPONSE, "Esys_PCR_Read: PCR not selected", out);
  return TSS2_RC_SUCCESS;
}

// Part 3 §22.2
TSS2_RC op_pcr_extend(ESYS_CONTEXT* c, uint32_t pcr, const Bytes& digest, Out& out) {
  TPML_DIGEST_VALUES d{};
  d.count = 1;
  d.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::memcpy(d.digests[0].digest.sha256, digest.data(), TPM2_SHA256_DIGEST_SIZE);
  TRY(Esys_PCR_Extend(c, ESYS_TR_PCR0 + pcr, PW, N, N, &d), "Esys_PCR_Extend");
  return TSS2_RC_SUCCESS;
}

// Part 3 §22.8
TSS2_RC op_pcr_reset(ESYS_CONTEXT* c, uint32_t pcr, Out& out) {
  TRY(Esys_PCR_Reset(c, ESYS_TR_PCR0 + pcr, PW, N, N), "Esys_PCR_Reset");
  return TSS2_RC_SUCCESS;
}

// Part 3 §31.3: owner-defined, empty authValue, read/written with the index's own auth.
TSS2_RC op_nv_define(ESYS_CONTEXT* c, uint32_t index, NvKind kind, bool noDA, Out& out) {
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  TPM2_NT nt = kind == NvKind::Counter ? TPM2_NT_COUNTER : TPM2_NT_EXTEND;
  pub.nvPublic.attributes = (static_cast<TPMA_NV>(nt) << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_AUTHREAD |
                            TPMA_NV_AUTHWRITE | TPMA_NV_OWNERREAD | TPMA_NV_OWNERWRITE | (noDA ? TPMA_NV_NO_DA : 0);
  pub.nvPublic.dataSize = kind == NvKind::Counter ? 8 : TPM2_SHA256_DIGEST_SIZE;
  TPM2B_AUTH auth{};
  ESYS_TR tr = N;
  TRY(Esys_NV_DefineSpace(c, ESYS_TR_RH_OWNER, PW, N, N, &auth, &pub, &tr), "Esys_NV_DefineSpace");
  Esys_TR_Close(c, &tr);
  return TSS2_RC_SUCCESS;
}

/** Runs `body` with an ESYS_TR for an existing NV index, then releases the TR (no TPM flush needed). */
template <typename F>
static TSS2_RC with_nv(ESYS_CONTEXT* c, uint32_t index, Out& out, F body) {
  ESYS_TR tr = N;
  TRY(Esys_TR_FromTPMPublic(c, index, N, N, N, &tr), "Esys_TR_FromTPMPublic");
  TSS2_RC rc = body(tr);
  if (tr != N) Esys_TR_Close(c, &tr);
  return rc;
}

TSS2_RC op_nv_undefine(ESYS_CONTEXT* c, uint32_t index, Out& out) {
  return with_nv(c, index, out, [&](ESYS_TR& tr) -> TSS2_RC {
    TRY(Esys_NV_UndefineSpace(c, ESYS_TR_RH_OWNER, tr, PW, N, N), "Esys_NV_UndefineSpace");
    tr = N;  // ESYS released it with the index
    return TSS2_RC_SUCCESS;
  });
}

// Part 3 §31.8
TSS2_RC op_nv_increment(ESYS_CONTEXT* c, uint32_t index, Out& out) {
  return with_nv(c, index, out, [&](ESYS_TR& tr) -> TSS2_RC {
    TRY(Esys_NV_Increment(c, tr, tr, PW, N, N), "Esys_NV_Increment");
    return TSS2_RC_SUCCESS;
  });
}

// Part 3 §31.9
TSS2_RC op_nv_extend(ESYS_CONTEXT* c, uint32_t index, const Bytes& data, Out& out) {
  return with_nv(c, index, out, [&](ESYS_TR& tr) -> TSS2_RC {
    TPM2B_MAX_NV_BUFFER b{};
    b.size = static_cast<UINT16>(data.size());
    std::memcpy(b.buffer, data.data(), data.size());
    TRY(Esys_NV_Extend(c, tr, tr, PW, N, N, &b), "Esys_NV_Extend");
    return TSS2_RC_SUCCESS;
  });
}

// Part 3 §31.13: reads the whole index (8 bytes for a counter, 32 for an extend index).
TSS2_RC op_nv_read(ESYS_CONTEXT* c, uint32_t index, Out& out) {
  return with_nv(c, index, out, [&](ESYS_TR& tr) -> TSS2_RC {
    TPM2B_NV_PUBLIC* pub = nullptr;
    TPM2B_NAME* name = nullptr;
    TRY(Esys_NV_ReadPublic(c, tr, N, N, N, &pub, &name), "Esys_NV_ReadPublic");
    UINT16 size = pub->nvPublic.dataSize;
    Esys_Free(pub);
    Esys_Free(name);
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    TRY(Esys_NV_Read(c, tr, tr, PW, N, N, size, 0, &data), "Esys_NV_Read");
    out.buf("data", data->buffer, data->size);
    Esys_Free(data);
    return TSS2_RC_SUCCESS;
  });
}

static TSS2_RC read_props(ESYS_CONTEXT* c, TPM2_PT first, UINT32 count, TPMS_CAPABILITY_DATA** data, Out& out) {
  TPMI_YES_NO more = 0;
  TRY(Esys_GetCapability(c, N, N, N, TPM2_CAP_TPM_PROPERTIES, first, count, &more, data), "Esys_GetCapability");
  return TSS2_RC_SUCCESS;
}

// Part 3 §30.2: manufacturer, lockout state.
TSS2_RC op_properties(ESYS_CONTEXT* c, Out& out) {
  for (TPM2_PT first : {TPM2_PT_MANUFACTURER, TPM2_PT_PERMANENT}) {
    TPMS_CAPABILITY_DATA* data = nullptr;
    TSS2_RC rc = read_props(c, first, 32, &data, out);
    if (rc != TSS2_RC_SUCCESS) return rc;
    const TPML_TAGGED_TPM_PROPERTY& p = data->data.tpmProperties;
    for (UINT32 i = 0; i < p.count; i++) {
      TPM2_PT k = p.tpmProperty[i].property;
      UINT32 v = p.tpmProperty[i].value;
      if (k == TPM2_PT_MANUFACTURER) out.num("manufacturer", v);
      if (k == TPM2_PT_FIRMWARE_VERSION_1) out.num("firmware1", v);
      if (k == TPM2_PT_PERMANENT) out.num("inLockout", (v & TPMA_PERMANENT_INLOCKOUT) ? 1 : 0);
      if (k == TPM2_PT_LOCKOUT_COUNTER) out.num("lockoutCounter", v);
      if (k == TPM2_PT_MAX_AUTH_FAIL) out.num("maxAuthFail", v);
      if (k == TPM2_PT_LOCKOUT_INTERVAL) out.num("lockoutInterval", v);
    }
    Esys_Free(data);
  }
  return TSS2_RC_SUCCESS;
}
