#include "templates.h"

#include <cstring>

static const TPMA_OBJECT kKeyBase = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                    TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED;

TPM2B_PUBLIC storage_template() {
  TPM2B_PUBLIC t{};
  t.publicArea.type = TPM2_ALG_ECC;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = kKeyBase | TPMA_OBJECT_DECRYPT;
  TPMS_ECC_PARMS& e = t.publicArea.parameters.eccDetail;
  e.symmetric.algorithm = TPM2_ALG_AES;
  e.symmetric.keyBits.aes = 128;
  e.symmetric.mode.aes = TPM2_ALG_CFB;
  e.scheme.scheme = TPM2_ALG_NULL;
  e.curveID = TPM2_ECC_NIST_P256;
  e.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

TPM2B_PUBLIC attestation_template() {
  TPM2B_PUBLIC t{};
  t.publicArea.type = TPM2_ALG_ECC;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = kKeyBase | TPMA_OBJECT_SIGN_ENCRYPT;
  TPMS_ECC_PARMS& e = t.publicArea.parameters.eccDetail;
  e.symmetric.algorithm = TPM2_ALG_NULL;
  e.scheme.scheme = TPM2_ALG_ECDSA;
  e.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  e.curveID = TPM2_ECC_NIST_P256;
  e.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

TPM2B_PUBLIC sealed_template(const uint8_t* policy, size_t policyLen) {
  TPM2B_PUBLIC t{};
  t.publicArea.type = TPM2_ALG_KEYEDHASH;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  // No USERWITHAUTH: the policy is the only way in. NODA: a failed policy is no auth failure.
  t.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA;
  t.publicArea.authPolicy.size = static_cast<UINT16>(policyLen);
  std::memcpy(t.publicArea.authPolicy.buffer, policy, policyLen);
  t.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  return t;
}

TPML_PCR_SELECTION one_pcr(uint32_t pcr) {
  TPML_PCR_SELECTION s{};
  s.count = 1;
  s.pcrSelections[0].hash = TPM2_ALG_SHA256;
  s.pcrSelections[0].sizeofSelect = 3;
  s.pcrSelections[0].pcrSelect[pcr / 8] = static_cast<BYTE>(1u << (pcr % 8));
  return s;
}

TPML_PCR_SELECTION pcr_mask(uint32_t mask) {
  TPML_PCR_SELECTION s{};
  s.count = 1;
  s.pcrSelections[0].hash = TPM2_ALG_SHA256;
  s.pcrSelections[0].sizeofSelect = 3;
  for (uint32_t i = 0; i < 3; i++) s.pcrSelections[0].pcrSelect[i] = static_cast<BYTE>((mask >> (8 * i)) & 0xff);
  return s;
}

TPMT_SYM_DEF aes128_cfb() {
  TPMT_SYM_DEF s{};
  s.algorithm = TPM2_ALG_AES;
  s.keyBits.aes = 128;
  s.mode.aes = TPM2_ALG_CFB;
  return s;
}
