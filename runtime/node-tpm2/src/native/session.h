// Shared by the ops that load objects or start sessions: a scope guard that flushes a transient
// handle, and the salted session every secret-carrying command runs in.
#pragma once
#include <tss2/tss2_esys.h>

#include "ops.h"

/** Flushes a transient handle when it leaves scope, whatever the path. */
struct Flusher {
  ESYS_CONTEXT* c;
  ESYS_TR h = ESYS_TR_NONE;
  ~Flusher() {
    if (h != ESYS_TR_NONE) Esys_FlushContext(c, h);
  }
};

/** A session salted with `tpmKey` (ECDH on P-256), AES-128-CFB parameter encryption. Part 3 §11.1 */
TSS2_RC start_salted(ESYS_CONTEXT* c, ESYS_TR tpmKey, TPM2_SE type, TPMA_SESSION attrs, Flusher& f, Out& out);
