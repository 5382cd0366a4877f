#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>

// OpenSSL spells these as function-like macros (or as macros over SSL_OP_BIT), which Swift cannot
// import. Each shim is a one-line forward to the macro of the same name, so the Swift side reads
// like the OpenSSL documentation.

static inline int COpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int COpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long COpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline int COpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int COpenSSL_BIO_pending(BIO *bio) {
    return (int)BIO_pending(bio);
}

static inline long COpenSSL_BIO_get_mem_ptr(BIO *bio, BUF_MEM **pp) {
    return BIO_get_mem_ptr(bio, pp);
}

static inline int COpenSSL_BIO_reset(BIO *bio) {
    return (int)BIO_reset(bio);
}

/// What an empty memory BIO answers to a read: -1 means "retry later" (more bytes may come),
/// 0 means end of file (the socket reported EOF).
static inline long COpenSSL_BIO_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}

static inline uint64_t COpenSSL_SSL_OP_NO_RENEGOTIATION(void) {
    return SSL_OP_NO_RENEGOTIATION;
}

static inline uint64_t COpenSSL_SSL_OP_NO_COMPRESSION(void) {
    return SSL_OP_NO_COMPRESSION;
}

#endif
