/*
 * Fused CPU kernels for pinnkan.models.local_splines.combine_bases.
 *
 *   y[a, n, o] = sum_c sum_s values[a, n, s, c] * coef[c, j[n, c] - k + s, o],   k = S - 1,
 *
 * where rows outside 0 .. NB - 1 read as zero; and its backward, in one pass over the points:
 *
 *   grad_values[a, n, s, c] = sum_o grad[a, n, o] * coef[c, row, o]
 *   grad_coef[c, row, o]   += sum_a values[a, n, s, c] * grad[a, n, o]
 *
 * Every array is contiguous in the shape named. The caller compiles this file once per
 * scalar type and per (A, S, O): SCALAR, KA, KS and KO are compile-time constants, so that
 * a point's A x O outputs stay in registers and the loops over them vectorise.
 *
 * Points are split into contiguous ranges, one per thread. Thread t adds its coefficient
 * gradient into its own buffer acc[t], which the caller sums, so that results do not
 * depend on timing.
 */
#include <stdint.h>

#if !defined(SCALAR) || !defined(KA) || !defined(KS) || !defined(KO)
#error "compile with -DSCALAR=float|double -DKA=<sets> -DKS=<slots> -DKO=<outputs>"
#endif

typedef SCALAR T;
#define MAX_THREADS 64

typedef struct {
    const T *values, *grad, *coef;
    const int64_t *interval;
    T *out, *grad_values, *acc;
    int64_t n, c, nb, begin, end;
    int need_values;
} Task;

#include "spline_rows.h"

static void *forward_range(void *arg) {
    const Task *w = (const Task *)arg;
    const T *restrict values = w->values, *restrict coef = w->coef;
    const int64_t N = w->n, C = w->c, NB = w->nb;
    for (int64_t n = w->begin; n < w->end; ++n) {
        Rows y;
        rows_zero(&y);
        for (int64_t c = 0; c < C; ++c) {
            const int64_t first = w->interval[n * C + c] - (KS - 1);
            for (int s = 0; s < KS; ++s) {
                const int64_t row = first + s;
                if (row < 0 || row >= NB) continue;
                T v[KA];
                for (int a = 0; a < KA; ++a) v[a] = values[((a * N + n) * KS + s) * C + c];
                rows_add(&y, v, coef + (c * NB + row) * KO);
            }
        }
        rows_store(&y, w->out + n * KO, N * KO);
    }
    return 0;
}

static void *backward_range(void *arg) {
    const Task *w = (const Task *)arg;
    const T *restrict values = w->values, *restrict coef = w->coef;
    T *restrict grad_values = w->grad_values, *restrict acc = w->acc;
    const int64_t N = w->n, C = w->c, NB = w->nb;
    for (int64_t n = w->begin; n < w->end; ++n) {
        Rows g;
        rows_load(&g, w->grad + n * KO, N * KO);
        for (int64_t c = 0; c < C; ++c) {
            const int64_t first = w->interval[n * C + c] - (KS - 1);
            for (int s = 0; s < KS; ++s) {
                const int64_t row = first + s;
                if (row < 0 || row >= NB) {
                    if (w->need_values)
                        for (int a = 0; a < KA; ++a) grad_values[((a * N + n) * KS + s) * C + c] = 0;
                    continue;
                }
                const T *restrict cp = coef + (c * NB + row) * KO;
                T v[KA];
                for (int a = 0; a < KA; ++a) v[a] = values[((a * N + n) * KS + s) * C + c];
                if (w->need_values)
                    for (int a = 0; a < KA; ++a) grad_values[((a * N + n) * KS + s) * C + c] = rows_dot(&g, a, cp);
                rows_outer(acc + (c * NB + row) * KO, v, &g);
            }
        }
    }
    return 0;
}

/* Runs body over tasks[0 .. threads-1] on PyTorch's OpenMP threads (the same runtime, found
 * by its soname), or one after another when compiled without OpenMP. */
static int run(void *(*body)(void *), Task *tasks, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) body(&tasks[t]);
    return 0;
}

static int split(Task *tasks, const Task *base, int threads) {
    if (threads < 1 || threads > MAX_THREADS) return 1;
    for (int t = 0; t < threads; ++t) {
        tasks[t] = *base;
        tasks[t].begin = base->n * t / threads;
        tasks[t].end = base->n * (t + 1) / threads;
    }
    return 0;
}

int combine_forward(const T *values, const int64_t *interval, const T *coef, T *out, int64_t n, int64_t c,
                    int64_t nb, int threads) {
    Task base = {values, 0, coef, interval, out, 0, 0, n, c, nb, 0, n, 0}, tasks[MAX_THREADS];
    return split(tasks, &base, threads) || run(forward_range, tasks, threads);
}

/* acc: `threads` zeroed buffers of C * NB * KO numbers each. */
int combine_backward(const T *grad, const T *values, const int64_t *interval, const T *coef, T *grad_values,
                     T *acc, int64_t n, int64_t c, int64_t nb, int need_values, int threads) {
    Task base = {values, grad, coef, interval, 0, grad_values, 0, n, c, nb, 0, n, need_values}, tasks[MAX_THREADS];
    if (split(tasks, &base, threads)) return 1;
    for (int t = 0; t < threads; ++t) tasks[t].acc = acc + (int64_t)t * c * nb * KO;
    return run(backward_range, tasks, threads);
}
