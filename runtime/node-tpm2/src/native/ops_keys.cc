// Primary keys from fixed templates, sealed data objects, salted sessions, Quote, FlushContext.
#include <tss2/tss2_mu.h>

#include <cstring>

#include "ops.h"
#include "session.h"
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


static void add_public(const TPM2B_PUBLIC* pub, Out& out) {
  uint8_t buf[sizeof(TPM2B_PUBLIC)];
  size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof buf, &off) == TSS2_RC_SUCCESS) out.buf("public", buf, off);
}

// Part 3 §24.1: the key stays loaded; the caller flushes its handle.
TSS2_RC op_create_primary(ESYS_CONTEXT* c, PrimaryKind kind, Out& out) {
  TPM2B_PUBLIC in = kind == PrimaryKind::Storage ? storage_template() : attestation_template();
  ESYS_TR hierarchy = kind == PrimaryKind::Storage ? ESYS_TR_RH_OWNER : ESYS_TR_RH_ENDORSEMENT;
  TPM2B_SENSITIVE_CREATE sens{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION none{};
  ESYS_TR handle = N;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* cd = nullptr;
  TPM2B_DIGEST* ch = nullptr;
  TPMT_TK_CREATION* tk = nullptr;
  TRY(Esys_CreatePrimary(c, hierarchy, PW, N, N, &sens, &in, &outside, &none, &handle, &pub, &cd, &ch, &tk),
      "Esys_CreatePrimary");
  add_public(pub, out);
  out.num("handle", handle);
  Esys_Free(pub);
  Esys_Free(cd);
  Esys_Free(ch);
  Esys_Free(tk);
  return TSS2_RC_SUCCESS;
}

// Part 3 §28.4
TSS2_RC op_flush(ESYS_CONTEXT* c, uint32_t handle, Out& out) {
  TRY(Esys_FlushContext(c, handle), "Esys_FlushContext");
  return TSS2_RC_SUCCESS;
}

/** A session salted with `tpmKey` (ECDH on P-256), AES-128-CFB parameter encryption. Part 3 §11.1 */
TSS2_RC start_salted(ESYS_CONTEXT* c, ESYS_TR tpmKey, TPM2_SE type, TPMA_SESSION attrs, Flusher& f, Out& out) {
  TPMT_SYM_DEF sym = aes128_cfb();
  TRY(Esys_StartAuthSession(c, tpmKey, N, N, N, N, nullptr, type, &sym, TPM2_ALG_SHA256, &f.h),
      "Esys_StartAuthSession");
  TRY(Esys_TRSess_SetAttributes(c, f.h, attrs | TPMA_SESSION_CONTINUESESSION, 0xff), "Esys_TRSess_SetAttributes");
  return TSS2_RC_SUCCESS;
}

// Part 3 §12.1: the secret goes in through a salted HMAC session with command encryption.
TSS2_RC op_create_sealed(ESYS_CONTEXT* c, uint32_t parent, const Bytes& data, const Bytes& policy, Out& out) {
  Flusher session{c};
  TSS2_RC rc = start_salted(c, parent, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT, session, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPM2B_SENSITIVE_CREATE sens{};
  sens.sensitive.data.size = static_cast<UINT16>(data.size());
  std::memcpy(sens.sensitive.data.buffer, data.data(), data.size());
  TPM2B_PUBLIC in = sealed_template(policy.data(), policy.size());
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION none{};
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* cd = nullptr;
  TPM2B_DIGEST* ch = nullptr;
  TPMT_TK_CREATION* tk = nullptr;
  rc = Esys_Create(c, parent, session.h, N, N, &sens, &in, &outside, &none, &priv, &pub, &cd, &ch, &tk);
  std::memset(&sens, 0, sizeof sens);
  if (rc != TSS2_RC_SUCCESS) return mu_error(rc, "Esys_Create", out);
  uint8_t buf[sizeof(TPM2B_PRIVATE)];
  size_t off = 0;
  rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, buf, sizeof buf, &off);
  if (rc == TSS2_RC_SUCCESS) out.buf("private", buf, off);
  add_public(pub, out);
  Esys_Free(priv);
  Esys_Free(pub);
  Esys_Free(cd);
  Esys_Free(ch);
  Esys_Free(tk);
  return rc == TSS2_RC_SUCCESS ? rc : mu_error(rc, "Tss2_MU_TPM2B_PRIVATE_Marshal", out);
}

// Part 3 §12.2: the blobs are untrusted bytes from disk; unmarshal checks every size.
TSS2_RC op_load(ESYS_CONTEXT* c, uint32_t parent, const Bytes& priv, const Bytes& pub, Out& out) {
  TPM2B_PRIVATE inPriv{};
  TPM2B_PUBLIC inPub{};
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv.data(), priv.size(), &off, &inPriv);
  if (rc != TSS2_RC_SUCCESS || off != priv.size()) return mu_error(rc ? rc : TSS2_MU_RC_BAD_SIZE, "unmarshal private", out);
  off = 0;
  rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub.data(), pub.size(), &off, &inPub);
  if (rc != TSS2_RC_SUCCESS || off != pub.size()) return mu_error(rc ? rc : TSS2_MU_RC_BAD_SIZE, "unmarshal public", out);
  ESYS_TR handle = N;
  TRY(Esys_Load(c, parent, PW, N, N, &inPriv, &inPub, &handle), "Esys_Load");
  out.num("handle", handle);
  return TSS2_RC_SUCCESS;
}

// Part 3 §12.7 with §23.7 PolicyPCR: a salted policy session that also encrypts the response,
// so the secret never crosses the bus in clear. The TPM compares the PCR with the sealed policy.
TSS2_RC op_unseal(ESYS_CONTEXT* c, uint32_t saltKey, uint32_t object, uint32_t pcr, Out& out) {
  Flusher session{c};
  TSS2_RC rc = start_salted(c, saltKey, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, session, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPM2B_DIGEST current{};  // empty: the TPM uses the PCR's current value
  TPML_PCR_SELECTION sel = one_pcr(pcr);
  TRY(Esys_PolicyPCR(c, session.h, N, N, N, &current, &sel), "Esys_PolicyPCR");
  TPM2B_SENSITIVE_DATA* data = nullptr;
  TRY(Esys_Unseal(c, object, session.h, N, N, &data), "Esys_Unseal");
  out.buf("data", data->buffer, data->size);
  std::memset(data->buffer, 0, data->size);
  Esys_Free(data);
  return TSS2_RC_SUCCESS;
}

// Part 3 §18.4: quote SHA-256 PCRs (a bitmask of PCRs 0-23) with the caller's nonce as qualifyingData.
TSS2_RC op_quote(ESYS_CONTEXT* c, uint32_t ak, uint32_t pcrMask, const Bytes& nonce, Out& out) {
  TPM2B_DATA q{};
  q.size = static_cast<UINT16>(nonce.size());
  std::memcpy(q.buffer, nonce.data(), nonce.size());
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the key's own scheme: ECDSA-SHA256
  TPML_PCR_SELECTION sel = pcr_mask(pcrMask);
  TPM2B_ATTEST* quoted = nullptr;
  TPMT_SIGNATURE* sig = nullptr;
  TRY(Esys_Quote(c, ak, PW, N, N, &q, &scheme, &sel, &quoted, &sig), "Esys_Quote");
  out.buf("attest", quoted->attestationData, quoted->size);
  uint8_t buf[sizeof(TPMT_SIGNATURE)];
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof buf, &off);
  if (rc == TSS2_RC_SUCCESS) out.buf("signature", buf, off);
  Esys_Free(quoted);
  Esys_Free(sig);
  return rc == TSS2_RC_SUCCESS ? rc : mu_error(rc, "Tss2_MU_TPMT_SIGNATURE_Marshal", out);
}
