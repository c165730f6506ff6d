/*
 * Rows of outputs shared by the spline kernels (combine_kernel.c, spline_jet_kernel.c).
 *
 * A point's KO outputs for each of its KA jet components (or their gradients) stay in
 * registers: NV whole vectors of VW numbers, then the KO - R0 numbers past them. The
 * including file defines T (the scalar type), KA and KO first.
 */
#ifndef PINNKAN_SPLINE_ROWS_H
#define PINNKAN_SPLINE_ROWS_H

#include <stdint.h>

/* GCC/Clang vectors of one machine register (AVX: 32 bytes; SSE, NEON: 16), loaded unaligned. */
#if defined(__AVX__)
#define VECTOR_BYTES 32
#else
#define VECTOR_BYTES 16
#endif
typedef T vec __attribute__((vector_size(VECTOR_BYTES), aligned(sizeof(T))));
#define VW ((int)(VECTOR_BYTES / sizeof(T)))
#define NV (KO / VW)          /* whole vectors per row of outputs */
#define R0 (NV * VW)          /* first output past them */
#define SIZE(n) ((n) > 0 ? (n) : 1)

typedef struct {
    vec v[KA][SIZE(NV)];
    T rest[KA][SIZE(KO - R0)];
} Rows;

static inline T hsum(vec x) {
    T sum = 0;
    for (int i = 0; i < VW; ++i) sum += x[i];
    return sum;
}

static inline void rows_zero(Rows *y) {
    for (int a = 0; a < KA; ++a) {
        for (int i = 0; i < NV; ++i) y->v[a][i] = (vec){0};
        for (int o = R0; o < KO; ++o) y->rest[a][o - R0] = 0;
    }
}

/* Component a's row is at src + a * stride. */
static inline void rows_load(Rows *y, const T *src, int64_t stride) {
    for (int a = 0; a < KA; ++a) {
        const T *row = src + a * stride;
        for (int i = 0; i < NV; ++i) y->v[a][i] = *(const vec *)(row + i * VW);
        for (int o = R0; o < KO; ++o) y->rest[a][o - R0] = row[o];
    }
}

static inline void rows_store(const Rows *y, T *dst, int64_t stride) {
    for (int a = 0; a < KA; ++a) {
        T *row = dst + a * stride;
        for (int i = 0; i < NV; ++i) *(vec *)(row + i * VW) = y->v[a][i];
        for (int o = R0; o < KO; ++o) row[o] = y->rest[a][o - R0];
    }
}

/* y[a] += value[a] * coefficient row cp, for every component a. */
static inline void rows_add(Rows *y, const T value[KA], const T *restrict cp) {
    for (int a = 0; a < KA; ++a) {
        for (int i = 0; i < NV; ++i) y->v[a][i] += value[a] * *(const vec *)(cp + i * VW);
        for (int o = R0; o < KO; ++o) y->rest[a][o - R0] += value[a] * cp[o];
    }
}

/* sum_o g[a][o] cp[o]. */
static inline T rows_dot(const Rows *g, int a, const T *restrict cp) {
    vec dot = {0};
    for (int i = 0; i < NV; ++i) dot += g->v[a][i] * *(const vec *)(cp + i * VW);
    T sum = hsum(dot);
    for (int o = R0; o < KO; ++o) sum += g->rest[a][o - R0] * cp[o];
    return sum;
}

/* target[o] += sum_a value[a] g[a][o]: a coefficient row's gradient. */
static inline void rows_outer(T *restrict target, const T value[KA], const Rows *g) {
    for (int i = 0; i < NV; ++i) {
        vec sum = {0};
        for (int a = 0; a < KA; ++a) sum += value[a] * g->v[a][i];
        *(vec *)(target + i * VW) += sum;
    }
    for (int o = R0; o < KO; ++o) {
        T sum = 0;
        for (int a = 0; a < KA; ++a) sum += value[a] * g->rest[a][o - R0];
        target[o] += sum;
    }
}

#endif
