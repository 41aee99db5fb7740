// Fixed key templates: the same template under the same hierarchy seed gives the same key,
// so the storage key and the attestation key are re-created after a restart, never stored.
#pragma once
#include <tss2/tss2_esys.h>

/** ECC P-256 storage key (TCG EK/SRK style, TPM 2.0 Part 1 §27.2), NODA, restricted decrypt. */
TPM2B_PUBLIC storage_template();
/** ECC P-256 restricted signing key, ECDSA-SHA256, NODA: the attestation key for Quote. */
TPM2B_PUBLIC attestation_template();
/** A keyed-hash sealed data object usable only through `policy` (no userWithAuth), NODA. */
TPM2B_PUBLIC sealed_template(const uint8_t* policy, size_t policyLen);
/** PCR selection of one SHA-256 PCR. */
TPML_PCR_SELECTION one_pcr(uint32_t pcr);
/** PCR selection of the SHA-256 PCRs whose bits are set in `mask` (bit n = PCR n, 0..23). */
TPML_PCR_SELECTION pcr_mask(uint32_t mask);
/** AES-128-CFB parameter encryption for salted sessions. */
TPMT_SYM_DEF aes128_cfb();
