/* sha256 through OpenSSL's EVP interface (SHA-NI / AVX2 code paths where the CPU has them). */
#include "bbcopy.h"

#include <openssl/evp.h>
#include <string.h>

struct hasher {
  EVP_MD_CTX *ctx;
  const EVP_MD *md;
};

hasher_t *hasher_new(void) {
  hasher_t *h = xmalloc(sizeof *h);
  h->ctx = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  h->md = EVP_MD_fetch(NULL, "SHA256", NULL); /* fetched once, not on every file */
#else
  h->md = EVP_sha256();
#endif
  if (!h->ctx || !h->md) die("OpenSSL has no sha256");
  return h;
}

void hasher_start(hasher_t *h) {
  if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) die("sha256 init failed");
}

void hasher_update(hasher_t *h, const void *p, size_t n) {
  if (n && EVP_DigestUpdate(h->ctx, p, n) != 1) die("sha256 update failed");
}

/* Holes read as zeros: they are hashed without being read. */
void hasher_zeros(hasher_t *h, uint64_t n) {
  static const unsigned char zero[1 << 16];
  while (n > 0) {
    size_t k = n < sizeof zero ? (size_t)n : sizeof zero;
    hasher_update(h, zero, k);
    n -= k;
  }
}

void hasher_hex(hasher_t *h, char out[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != 32) die("sha256 final failed");
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[64] = 0;
}
