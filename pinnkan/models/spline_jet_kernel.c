/*
 * Fused CPU kernels for pinnkan.models.local_splines.spline_jet: the spline branch of a KAN
 * layer applied to a jet, on equally spaced knots, in one pass over the points.
 *
 * For a point n and input channel c with value x = x[n, c] inside the knots t_0 .. t_{M-1}:
 *
 *   j = clamp(floor((x - t_0) / (t_1 - t_0)), 0, M - 2),  h = t_{j+1} - t_j,  u = (x - t_j) / h,
 *   B_r[s] = h^-r sum_p table[r][p][s] u^p            (r-th derivative of the basis in slot s),
 *   v[a][s] = [a == 0] B_0[s] + sum_{t : term_a[t] = a} B_{term_r[t]}[s] factors[t, n, c],
 *   y[a, n, o] = sum_c sum_s v[a][s] coef[c, j - k + s, o],    k = S - 1,
 *
 * where coefficient rows outside 0 .. NB - 1 read as zero and points outside the knots add
 * nothing. v is Faa di Bruno's formula for the jet components a of the bases (component 0 is
 * the value); factors[t] are its products of the input jet's derivatives. The backward gives,
 * with gv[a][s] = sum_o grad[a, n, o] coef[c, row, o]:
 *
 *   grad_coef[c, row, o] += sum_a v[a][s] grad[a, n, o]
 *   grad_factors[t, n, c] = sum_s gv[term_a[t]][s] B_{term_r[t]}[s]
 *   grad_x[n, c]          = sum_s gv[0][s] B_1[s] + sum_t factors[t, n, c] sum_s gv[term_a[t]][s] B_{term_r[t]+1}[s]
 *
 * Every array is contiguous in the shape named; table is (KR + 2, S, S), zero past order k.
 * The caller compiles this file once per scalar type and per (A, S, O, R): SCALAR, KA, KS, KO
 * and KR (the highest derivative order of the jet) are compile-time constants.
 *
 * Channels are taken VW at a time (one vector register): locating the interval, the bases,
 * the composition and the gradients for the inputs run on vectors, one lane per channel;
 * only the coefficient rows are read lane by lane.
 *
 * Points are split into contiguous ranges, one per thread; thread t adds its coefficient
 * gradient into its own buffer acc[t], which the caller sums, so results do not depend on
 * timing.
 */
#include <stdint.h>
#include <stdlib.h>

#if !defined(SCALAR) || !defined(KA) || !defined(KS) || !defined(KO) || !defined(KR)
#error "compile with -DSCALAR=float|double -DKA=<components> -DKS=<slots> -DKO=<outputs> -DKR=<order>"
#endif

typedef SCALAR T;
#define MAX_THREADS 64
#define MAX_TERMS 256

typedef struct {
    const T *x, *factors, *knots, *coef, *table, *grad;
    const int32_t *term_a, *term_r;
    T *out, *grad_x, *grad_factors, *acc;
    const T *first, *step, *last; /* per channel: t_0, t_1 - t_0, t_{M-1}, padded to whole vectors */
    int64_t n, c, m, nb, begin, end;
    int terms, need_inputs;
} Task;

#include "spline_rows.h"

typedef int32_t ivec __attribute__((vector_size(VW * 4), aligned(4)));

static inline vec load(const T *p, int lanes) {
    if (lanes == VW) return *(const vec *)p;
    vec v = {0};
    for (int l = 0; l < lanes; ++l) v[l] = p[l];
    return v;
}

static inline void store(T *p, vec v, int lanes) {
    if (lanes == VW) {
        *(vec *)p = v;
        return;
    }
    for (int l = 0; l < lanes; ++l) p[l] = v[l];
}

/* One block of VW channels from c0 at point n: each lane's interval j (-1 outside the knots),
 * the bases B[r][s] for r < orders (zero outside, NaN at a NaN value) and the composition
 * v[a][s]. Returns how many lanes have bases. */
static inline int block(const Task *w, int64_t n, int64_t c0, int lanes, int orders, int64_t j[VW], vec B[][KS],
                        vec v[KA][KS]) {
    const vec x = load(w->x + n * w->c + c0, lanes);
    const vec first = *(const vec *)(w->first + c0), last = *(const vec *)(w->last + c0);
    const ivec cell = __builtin_convertvector((x - first) / *(const vec *)(w->step + c0), ivec);
    vec left = {0}, width = {0}, at = {0}, inside = {0}; /* every lane is set below */
    int count = 0;
    for (int l = 0; l < VW; ++l) {
        const int in = l < lanes && x[l] >= first[l] && x[l] <= last[l];
        /* floor is truncation inside the knots, where the quotient is >= 0 */
        const int64_t i = !in ? 0 : (cell[l] < 0 ? 0 : (cell[l] > w->m - 2 ? w->m - 2 : cell[l]));
        const T *kn = w->knots + (c0 + (l < lanes ? l : 0)) * w->m;
        left[l] = kn[i];
        width[l] = kn[i + 1] - kn[i];
        at[l] = in ? x[l] : kn[i]; /* u = 0 outside: no overflow from far points */
        /* the bases are 1 x powers inside, 0 x powers outside, and NaN at a NaN point */
        const int missing = l < lanes && x[l] != x[l];
        inside[l] = in ? 1 : (missing ? x[l] : 0);
        j[l] = in || missing ? i : -1;
        count += in || missing;
    }
    if (!count) return 0;
    const vec u = (at - left) / width, inv = 1 / width;
    vec powers[KS];
    powers[0] = inside;
    for (int p = 1; p < KS; ++p) powers[p] = powers[p - 1] * u;
    vec scale = inside - inside + 1;
    for (int r = 0; r < orders; ++r) {
        const T *rows = w->table + r * KS * KS;
        for (int s = 0; s < KS; ++s) {
            vec sum = rows[s] * powers[0];
            for (int p = 1; p < KS; ++p) sum += rows[p * KS + s] * powers[p];
            B[r][s] = sum * scale;
        }
        scale *= inv;
    }
    for (int s = 0; s < KS; ++s) v[0][s] = B[0][s];
    for (int a = 1; a < KA; ++a)
        for (int s = 0; s < KS; ++s) v[a][s] = (vec){0};
    for (int t = 0; t < w->terms; ++t) {
        const vec f = load(w->factors + (t * w->n + n) * w->c + c0, lanes);
        const vec *b = B[w->term_r[t]];
        vec *target = v[w->term_a[t]];
        for (int s = 0; s < KS; ++s) target[s] += b[s] * f;
    }
    return count;
}

/* Runs the statement body for each lane l with a knot interval and each slot s with a
 * coefficient row, with row, cp (that row's coefficients) and value[a] = v[a][s][l] in scope;
 * the block's j, v, lanes and c0 and the range's coef and NB must be in scope. */
#define FOR_EACH_ROW(body)                                                    \
    for (int l = 0; l < lanes; ++l) {                                         \
        if (j[l] < 0) continue;                                               \
        for (int s = 0; s < KS; ++s) {                                        \
            const int64_t row = j[l] - (KS - 1) + s;                          \
            if (row < 0 || row >= NB) continue;                               \
            const T *restrict cp = coef + ((c0 + l) * NB + row) * KO;         \
            T value[KA];                                                      \
            for (int a = 0; a < KA; ++a) value[a] = v[a][s][l];               \
            body;                                                             \
        }                                                                     \
    }

static void forward_range(const Task *w) {
    const T *restrict coef = w->coef;
    const int64_t N = w->n, C = w->c, NB = w->nb;
    for (int64_t n = w->begin; n < w->end; ++n) {
        Rows y;
        rows_zero(&y);
        for (int64_t c0 = 0; c0 < C; c0 += VW) {
            const int lanes = C - c0 < VW ? (int)(C - c0) : VW;
            int64_t j[VW];
            vec B[KR + 1][KS], v[KA][KS];
            if (!block(w, n, c0, lanes, KR + 1, j, B, v)) continue;
            FOR_EACH_ROW(rows_add(&y, value, cp))
        }
        rows_store(&y, w->out + n * KO, N * KO);
    }
}

/* grad_x and grad_factors of one block from gv (zero for rows without a coefficient). */
static inline void input_gradients(const Task *w, int64_t n, int64_t c0, int lanes, vec B[][KS], vec gv[KA][KS]) {
    vec gx = {0};
    for (int s = 0; s < KS; ++s) gx += gv[0][s] * B[1][s];
    for (int t = 0; t < w->terms; ++t) {
        const int64_t at = (t * w->n + n) * w->c + c0;
        const vec *g = gv[w->term_a[t]], *b = B[w->term_r[t]], *slope = B[w->term_r[t] + 1];
        vec along = {0}, across = {0};
        for (int s = 0; s < KS; ++s) {
            along += g[s] * b[s];
            across += g[s] * slope[s];
        }
        store(w->grad_factors + at, along, lanes);
        gx += load(w->factors + at, lanes) * across;
    }
    store(w->grad_x + n * w->c + c0, gx, lanes);
}

static void backward_range(const Task *w) {
    const T *restrict coef = w->coef;
    T *restrict acc = w->acc;
    const int64_t N = w->n, C = w->c, NB = w->nb;
    for (int64_t n = w->begin; n < w->end; ++n) {
        Rows g;
        rows_load(&g, w->grad + n * KO, N * KO);
        for (int64_t c0 = 0; c0 < C; c0 += VW) {
            const int lanes = C - c0 < VW ? (int)(C - c0) : VW;
            int64_t j[VW];
            vec B[KR + 2][KS], v[KA][KS], gv[KA][KS];
            if (!block(w, n, c0, lanes, KR + 1 + w->need_inputs, j, B, v)) {
                if (w->need_inputs) {
                    store(w->grad_x + n * C + c0, (vec){0}, lanes);
                    for (int t = 0; t < w->terms; ++t) store(w->grad_factors + (t * N + n) * C + c0, (vec){0}, lanes);
                }
                continue;
            }
            for (int a = 0; a < KA; ++a)
                for (int s = 0; s < KS; ++s) gv[a][s] = (vec){0};
            FOR_EACH_ROW({
                if (w->need_inputs)
                    for (int a = 0; a < KA; ++a) gv[a][s][l] = rows_dot(&g, a, cp);
                rows_outer(acc + ((c0 + l) * NB + row) * KO, value, &g);
            })
            if (w->need_inputs) input_gradients(w, n, c0, lanes, B, gv);
        }
    }
}

/* Checks the terms, pads the per-channel knot data to whole vectors and runs body on
 * PyTorch's OpenMP threads (the same runtime, found by its soname), or one range after
 * another when compiled without OpenMP. */
static int split_and_run(Task *base, int threads, int backward) {
    if (threads < 1 || threads > MAX_THREADS || base->terms < 0 || base->terms > MAX_TERMS || base->m < 2) return 1;
    for (int t = 0; t < base->terms; ++t)
        if (base->term_a[t] < 1 || base->term_a[t] >= KA || base->term_r[t] < 1 || base->term_r[t] > KR) return 2;
    const int64_t padded = (base->c + VW - 1) / VW * VW;
    T *channels = malloc(3 * padded * sizeof(T));
    if (!channels) return 3;
    for (int64_t c = 0; c < padded; ++c) {
        const T *kn = base->knots + (c < base->c ? c : 0) * base->m;
        channels[c] = c < base->c ? kn[0] : 1;
        channels[padded + c] = c < base->c ? kn[1] - kn[0] : 1;
        channels[2 * padded + c] = c < base->c ? kn[base->m - 1] : 0;
    }
    base->first = channels;
    base->step = channels + padded;
    base->last = channels + 2 * padded;
    Task tasks[MAX_THREADS];
    for (int t = 0; t < threads; ++t) {
        tasks[t] = *base;
        tasks[t].begin = base->n * t / threads;
        tasks[t].end = base->n * (t + 1) / threads;
        if (backward) tasks[t].acc = base->acc + (int64_t)t * base->c * base->nb * KO;
    }
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
        if (backward)
            backward_range(&tasks[t]);
        else
            forward_range(&tasks[t]);
    }
    free(channels);
    return 0;
}

int spline_jet_forward(const T *x, const T *factors, const int32_t *term_a, const int32_t *term_r, int terms,
                       const T *knots, const T *table, const T *coef, T *out, int64_t n, int64_t c, int64_t m,
                       int64_t nb, int threads) {
    Task base = {x, factors, knots, coef, table, 0, term_a, term_r, out, 0, 0, 0, 0, 0, 0, n, c, m, nb, 0, n, terms, 0};
    return split_and_run(&base, threads, 0);
}

/* acc: `threads` zeroed buffers of C * NB * KO numbers each. grad_x and grad_factors are only
 * written when need_inputs is non-zero. */
int spline_jet_backward(const T *grad, const T *x, const T *factors, const int32_t *term_a, const int32_t *term_r,
                        int terms, const T *knots, const T *table, const T *coef, T *grad_x, T *grad_factors,
                        T *acc, int64_t n, int64_t c, int64_t m, int64_t nb, int need_inputs, int threads) {
    Task base = {x, factors, knots, coef, table, grad, term_a, term_r, 0, grad_x, grad_factors, acc, 0, 0, 0,
                 n, c, m, nb, 0, n, terms, need_inputs != 0};
    return split_and_run(&base, threads, 1);
}
