// A signed PCR policy (runtime/spec/boot.md §4.1): the vendor's PCR-signing key loaded as an
// external public key, TPM2_VerifySignature over the approved policy, then TPM2_PolicyPCR and
// TPM2_PolicyAuthorize in a salted policy session, then TPM2_Unseal.
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

/** Unmarshals a TPM2B_PUBLIC that must fill `b` exactly (untrusted bytes). */
static TSS2_RC unmarshal_public(const Bytes& b, TPM2B_PUBLIC& pub, Out& out) {
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(b.data(), b.size(), &off, &pub);
  if (rc != TSS2_RC_SUCCESS || off != b.size()) return mu_error(rc ? rc : TSS2_MU_RC_BAD_SIZE, "unmarshal signer public", out);
  return TSS2_RC_SUCCESS;
}

/**
 * Part 3 §12.3 LoadExternal of a public key alone, in the owner hierarchy: a key in the null
 * hierarchy would give TPM2_VerifySignature a null ticket, which TPM2_PolicyAuthorize refuses.
 */
static TSS2_RC load_external(ESYS_CONTEXT* c, const Bytes& b, Flusher& key, Out& out) {
  TPM2B_PUBLIC pub{};
  TSS2_RC rc = unmarshal_public(b, pub, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TRY(Esys_LoadExternal(c, N, N, N, nullptr, &pub, ESYS_TR_RH_OWNER, &key.h), "Esys_LoadExternal");
  return TSS2_RC_SUCCESS;
}

// The TPM's own view of an external key: its name (nameAlg || H(TPMT_PUBLIC), Part 1 §16).
TSS2_RC op_load_external(ESYS_CONTEXT* c, const Bytes& pub, Out& out) {
  Flusher key{c};
  TSS2_RC rc = load_external(c, pub, key, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPM2B_NAME* name = nullptr;
  TRY(Esys_TR_GetName(c, key.h, &name), "Esys_TR_GetName");
  out.buf("name", name->name, name->size);
  Esys_Free(name);
  return TSS2_RC_SUCCESS;
}

/**
 * Part 3 §20.1 VerifySignature: the TPM checks the vendor's signature over aHash and returns a
 * ticket that binds aHash to the key's name. The key is flushed before the session starts.
 */
static TSS2_RC verify(ESYS_CONTEXT* c, const Authorization& a, TPM2B_NAME& name, TPMT_TK_VERIFIED** ticket, Out& out) {
  TPMT_SIGNATURE sig{};
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(a.signature.data(), a.signature.size(), &off, &sig);
  if (rc != TSS2_RC_SUCCESS || off != a.signature.size())
    return mu_error(rc ? rc : TSS2_MU_RC_BAD_SIZE, "unmarshal signature", out);
  Flusher key{c};
  rc = load_external(c, a.signerPublic, key, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPM2B_NAME* n = nullptr;
  TRY(Esys_TR_GetName(c, key.h, &n), "Esys_TR_GetName");
  name = *n;
  Esys_Free(n);
  TPM2B_DIGEST digest{};
  digest.size = static_cast<UINT16>(a.aHash.size());
  std::memcpy(digest.buffer, a.aHash.data(), a.aHash.size());
  TRY(Esys_VerifySignature(c, key.h, N, N, N, &digest, &sig, ticket), "Esys_VerifySignature");
  return TSS2_RC_SUCCESS;
}

// Part 3 §23.7 PolicyPCR then §23.16 PolicyAuthorize: the session's digest must equal the
// approved policy (the PCRs hold the values it was computed from), and the ticket must say the
// vendor's key signed it; the session's digest then becomes the one the object was sealed to.
TSS2_RC op_unseal_authorized(ESYS_CONTEXT* c, uint32_t saltKey, uint32_t object, const Authorization& a, Out& out) {
  TPM2B_NAME name{};
  TPMT_TK_VERIFIED* ticket = nullptr;
  TSS2_RC rc = verify(c, a, name, &ticket, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPMT_TK_VERIFIED tk = *ticket;
  Esys_Free(ticket);
  Flusher session{c};
  rc = start_salted(c, saltKey, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, session, out);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPM2B_DIGEST current{};  // empty: the TPM uses the PCRs' current values
  TPML_PCR_SELECTION sel = pcr_mask(a.pcrMask);
  TRY(Esys_PolicyPCR(c, session.h, N, N, N, &current, &sel), "Esys_PolicyPCR");
  TPM2B_DIGEST approved{};
  approved.size = static_cast<UINT16>(a.approved.size());
  std::memcpy(approved.buffer, a.approved.data(), a.approved.size());
  TPM2B_NONCE ref{};
  ref.size = static_cast<UINT16>(a.policyRef.size());
  std::memcpy(ref.buffer, a.policyRef.data(), a.policyRef.size());
  TRY(Esys_PolicyAuthorize(c, session.h, N, N, N, &approved, &ref, &name, &tk), "Esys_PolicyAuthorize");
  TPM2B_SENSITIVE_DATA* data = nullptr;
  TRY(Esys_Unseal(c, object, session.h, N, N, &data), "Esys_Unseal");
  out.buf("data", data->buffer, data->size);
  std::memset(data->buffer, 0, data->size);
  Esys_Free(data);
  return TSS2_RC_SUCCESS;
}
