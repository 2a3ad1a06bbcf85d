/*
 * Dice-coefficient kernels for CLK linkage: all-pairs candidate search above a threshold,
 * scores of given pairs, and Hamming-LSH band keys.
 *
 * A CLK is `words` 64-bit words. Dice(a, b) = 2 |a & b| / (|a| + |b|). The test
 * "Dice >= t" is evaluated as `2.0 * c >= t * (double)(|a| + |b|)` in every code path,
 * so the AVX-512 and portable paths select exactly the same pairs and report the same
 * float32 scores (2.0 * c / s, rounded once).
 *
 * Code paths, chosen at run time (or forced by the caller):
 *   "avx512"   AVX-512F/DQ + VPOPCNTDQ: the smaller set is stored word-major in blocks of
 *              8 records, so one zmm register holds word w of 8 records; each row of the
 *              other set is broadcast against it (8 comparisons per instruction group).
 *   "popcnt"   scalar loop compiled for the POPCNT instruction.
 *   "portable" scalar loop with __builtin_popcountll for any x86-64 or other CPU.
 *
 * The GIL is released while computing; work is split over POSIX threads in (row tile,
 * column chunk) tasks taken from an atomic counter. Only pairs at or above the threshold are
 * returned, so memory stays proportional to the number of candidates.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86 1
#include <immintrin.h>
#else
#define HAVE_X86 0
#endif

enum kernel { K_PORTABLE = 0, K_POPCNT = 1, K_AVX512 = 2 };

static const char *kernel_names[] = {"portable", "popcnt", "avx512"};

#define ROW_TILE 256      /* rows of the streamed set per task (32 KiB of 1024-bit CLKs) */
#define BLOCK_CHUNK 1024  /* 8-record blocks of the blocked set per task */

/* ------------------------------------------------------------------------------------ */
/* CPU features                                                                          */

static int cpu_has_avx512(void) {
#if HAVE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vpopcntdq");
#else
    return 0;
#endif
}

static int cpu_has_popcnt(void) {
#if HAVE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("popcnt");
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------------------------ */
/* Popcount of a row, per code path                                                      */

static inline uint32_t row_popcount_portable(const uint64_t *row, int words) {
    uint32_t total = 0;
    for (int w = 0; w < words; w++) total += (uint32_t)__builtin_popcountll(row[w]);
    return total;
}

static inline __attribute__((always_inline)) uint32_t and_popcount_portable(const uint64_t *a, const uint64_t *b, int words) {
    uint32_t total = 0;
    for (int w = 0; w < words; w++) total += (uint32_t)__builtin_popcountll(a[w] & b[w]);
    return total;
}

#if HAVE_X86
__attribute__((target("popcnt"))) static inline __attribute__((always_inline)) uint32_t
and_popcount_popcnt(const uint64_t *a, const uint64_t *b, int words) {
    uint32_t total = 0;
    for (int w = 0; w < words; w++) total += (uint32_t)__builtin_popcountll(a[w] & b[w]);
    return total;
}
#endif

static void popcounts(const uint64_t *rows, size_t n, int words, uint32_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = row_popcount_portable(rows + i * (size_t)words, words);
}

/* ------------------------------------------------------------------------------------ */
/* Growable hit buffers (one per thread)                                                 */

typedef struct {
    int32_t *ia, *ib;
    float *score;
    size_t len, cap;
    int failed;
} hits_t;

static int hits_push(hits_t *h, int32_t i, int32_t j, float s) {
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 4096;
        int32_t *ia = realloc(h->ia, cap * sizeof(int32_t));
        if (ia) h->ia = ia;
        int32_t *ib = ia ? realloc(h->ib, cap * sizeof(int32_t)) : NULL;
        if (ib) h->ib = ib;
        float *sc = ib ? realloc(h->score, cap * sizeof(float)) : NULL;
        if (!sc) {
            h->failed = 1;
            return 0;
        }
        h->score = sc;
        h->cap = cap;
    }
    h->ia[h->len] = i;
    h->ib[h->len] = j;
    h->score[h->len] = s;
    h->len++;
    return 1;
}

static void hits_free(hits_t *h) {
    free(h->ia);
    free(h->ib);
    free(h->score);
}

/* ------------------------------------------------------------------------------------ */
/* All-pairs search                                                                      */

typedef struct {
    /* streamed set: rows of `words` words */
    const uint64_t *a;
    const uint32_t *pa;
    size_t n;
    /* blocked set: original rows (scalar paths) and word-major 8-record blocks (avx512) */
    const uint64_t *b;
    const uint64_t *bt;
    const uint32_t *pb;  /* padded to a multiple of 8 with zeros */
    size_t m, mblocks;
    int words;
    double t;
    int kernel;
    int swap;            /* report (b index, a index) instead of (a index, b index) */
    size_t max_pairs;
    /* shared state */
    size_t tasks, row_tiles, col_chunks;
    size_t next_task;    /* atomic */
    size_t total_hits;   /* atomic */
    int overflow;        /* atomic flag: more than max_pairs hits */
} search_t;

static inline int emit(search_t *s, hits_t *h, size_t i, size_t j, uint32_t c, uint32_t sum) {
    float score = (float)(2.0 * (double)c / (double)sum);
    size_t total = __atomic_add_fetch(&s->total_hits, 1, __ATOMIC_RELAXED);
    if (total > s->max_pairs) {
        __atomic_store_n(&s->overflow, 1, __ATOMIC_RELAXED);
        return 0;
    }
    if (s->swap) return hits_push(h, (int32_t)j, (int32_t)i, score);
    return hits_push(h, (int32_t)i, (int32_t)j, score);
}

#define SCALAR_SEARCH(NAME, ANDPOP, ATTR)                                                   \
    ATTR static int NAME(search_t *s, hits_t *h, size_t r0, size_t r1, size_t c0,          \
                         size_t c1) {                                                       \
        const int W = s->words;                                                             \
        const double t = s->t;                                                              \
        for (size_t i = r0; i < r1; i++) {                                                  \
            const uint32_t pa = s->pa[i];                                                   \
            if (pa == 0) continue;                                                          \
            const uint64_t *ai = s->a + i * (size_t)W;                                      \
            for (size_t j = c0; j < c1; j++) {                                              \
                /* constant width for 1024-bit CLKs lets the compiler unroll the words */   \
                const uint32_t c = W == 16 ? ANDPOP(ai, s->b + j * 16, 16)                  \
                                           : ANDPOP(ai, s->b + j * (size_t)W, W);           \
                const uint32_t sum = pa + s->pb[j];                                         \
                if (2.0 * (double)c >= t * (double)sum) {                                   \
                    if (!emit(s, h, i, j, c, sum)) return 0;                                \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        return 1;                                                                           \
    }

SCALAR_SEARCH(search_portable, and_popcount_portable, )
#if HAVE_X86
SCALAR_SEARCH(search_popcnt, and_popcount_popcnt, __attribute__((target("popcnt"))))
#endif

#if HAVE_X86
#define AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512vpopcntdq")))

/* Report the lanes of an 8-record block that passed the threshold test (rare). */
AVX512_TARGET static int emit_lanes(search_t *s, hits_t *h, size_t i, size_t k, __m512i acc,
                                    __mmask8 mask, uint32_t pa) {
    uint64_t counts[8];
    _mm512_storeu_si512((void *)counts, acc);
    while (mask) {
        const int lane = __builtin_ctz(mask);
        mask &= (__mmask8)(mask - 1);
        const size_t j = k * 8 + (size_t)lane;
        if (j >= s->m) continue;
        if (!emit(s, h, i, j, (uint32_t)counts[lane], pa + s->pb[j])) return 0;
    }
    return 1;
}

/* One task, any CLK length: rows r0..r1 of the streamed set against blocks k0..k1. */
AVX512_TARGET static int search_avx512_any(search_t *s, hits_t *h, size_t r0, size_t r1,
                                           size_t k0, size_t k1) {
    const int W = s->words;
    const __m512d tv = _mm512_set1_pd(s->t);
    for (size_t k = k0; k < k1; k++) {
        const uint64_t *bk = s->bt + k * (size_t)W * 8;
        const __m512i pbv = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(s->pb + k * 8)));
        for (size_t i = r0; i < r1; i++) {
            const uint32_t pa = s->pa[i];
            if (pa == 0) continue;
            const uint64_t *ai = s->a + i * (size_t)W;
            __m512i acc = _mm512_setzero_si512();
#pragma GCC unroll 16
            for (int w = 0; w < W; w++) {
                const __m512i x = _mm512_and_epi64(_mm512_set1_epi64((long long)ai[w]),
                                                   _mm512_load_si512((const void *)(bk + w * 8)));
                acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
            }
            const __m512i sumv = _mm512_add_epi64(pbv, _mm512_set1_epi64((long long)pa));
            const __m512d lhs = _mm512_mul_pd(_mm512_set1_pd(2.0), _mm512_cvtepi64_pd(acc));
            const __m512d rhs = _mm512_mul_pd(tv, _mm512_cvtepi64_pd(sumv));
            __mmask8 mask = _mm512_cmp_pd_mask(lhs, rhs, _CMP_GE_OQ);
            if (mask && !emit_lanes(s, h, i, k, acc, mask, pa)) return 0;
        }
    }
    return 1;
}

/* 1024-bit CLKs: the 8-record block is held in 16 registers while the rows stream past. */
AVX512_TARGET static int search_avx512_w16(search_t *s, hits_t *h, size_t r0, size_t r1,
                                           size_t k0, size_t k1) {
    const __m512d tv = _mm512_set1_pd(s->t);
    const __m512d two = _mm512_set1_pd(2.0);
    for (size_t k = k0; k < k1; k++) {
        const uint64_t *bk = s->bt + k * 16 * 8;
        __m512i bw[16];
#pragma GCC unroll 16
        for (int w = 0; w < 16; w++) bw[w] = _mm512_load_si512((const void *)(bk + w * 8));
        const __m512i pbv = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(s->pb + k * 8)));
        for (size_t i = r0; i < r1; i++) {
            const uint32_t pa = s->pa[i];
            if (pa == 0) continue;
            const uint64_t *ai = s->a + i * 16;
            __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
#pragma GCC unroll 16
            for (int w = 0; w < 16; w += 2) {
                acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_and_epi64(
                                                  _mm512_set1_epi64((long long)ai[w]), bw[w])));
                acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_and_epi64(
                                                  _mm512_set1_epi64((long long)ai[w + 1]), bw[w + 1])));
            }
            const __m512i acc = _mm512_add_epi64(acc0, acc1);
            const __m512i sumv = _mm512_add_epi64(pbv, _mm512_set1_epi64((long long)pa));
            const __m512d lhs = _mm512_mul_pd(two, _mm512_cvtepi64_pd(acc));
            const __m512d rhs = _mm512_mul_pd(tv, _mm512_cvtepi64_pd(sumv));
            __mmask8 mask = _mm512_cmp_pd_mask(lhs, rhs, _CMP_GE_OQ);
            if (mask && !emit_lanes(s, h, i, k, acc, mask, pa)) return 0;
        }
    }
    return 1;
}
#endif

static int run_task(search_t *s, hits_t *h, size_t task) {
    const size_t tile = task / s->col_chunks, chunk = task % s->col_chunks;
    const size_t r0 = tile * ROW_TILE;
    const size_t r1 = r0 + ROW_TILE < s->n ? r0 + ROW_TILE : s->n;
    const size_t k0 = chunk * BLOCK_CHUNK;
    const size_t k1 = k0 + BLOCK_CHUNK < s->mblocks ? k0 + BLOCK_CHUNK : s->mblocks;
#if HAVE_X86
    if (s->kernel == K_AVX512) {
        return s->words == 16 ? search_avx512_w16(s, h, r0, r1, k0, k1)
                              : search_avx512_any(s, h, r0, r1, k0, k1);
    }
    const size_t c0 = k0 * 8, c1 = k1 * 8 < s->m ? k1 * 8 : s->m;
    if (s->kernel == K_POPCNT) return search_popcnt(s, h, r0, r1, c0, c1);
    return search_portable(s, h, r0, r1, c0, c1);
#else
    const size_t c0 = k0 * 8, c1 = k1 * 8 < s->m ? k1 * 8 : s->m;
    return search_portable(s, h, r0, r1, c0, c1);
#endif
}

typedef struct {
    search_t *s;
    hits_t hits;
} worker_t;

static void *search_worker(void *arg) {
    worker_t *wk = (worker_t *)arg;
    search_t *s = wk->s;
    for (;;) {
        if (__atomic_load_n(&s->overflow, __ATOMIC_RELAXED) || wk->hits.failed) break;
        const size_t task = __atomic_fetch_add(&s->next_task, 1, __ATOMIC_RELAXED);
        if (task >= s->tasks) break;
        if (!run_task(s, &wk->hits, task)) break;
    }
    return NULL;
}

/* Run `fn` on `threads` workers (the calling thread is one of them). Returns 0 on success. */
static int run_threads(void *(*fn)(void *), void *args, size_t arg_size, int threads) {
    pthread_t ids[64];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&ids[started], NULL, fn, (char *)args + (size_t)t * arg_size) != 0) break;
        started++;
    }
    fn(args);
    for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Python argument helpers                                                               */

static int choose_kernel(const char *name, int *out) {
    if (name == NULL || strcmp(name, "auto") == 0) {
        *out = cpu_has_avx512() ? K_AVX512 : (cpu_has_popcnt() ? K_POPCNT : K_PORTABLE);
        return 1;
    }
    for (int k = 0; k < 3; k++) {
        if (strcmp(name, kernel_names[k]) == 0) {
            if ((k == K_AVX512 && !cpu_has_avx512()) || (k == K_POPCNT && !cpu_has_popcnt())) {
                PyErr_Format(PyExc_RuntimeError, "this CPU cannot run the %s Dice kernel", name);
                return 0;
            }
            *out = k;
            return 1;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown Dice kernel %s (use auto, avx512, popcnt or portable)",
                 name);
    return 0;
}

static int get_rows(PyObject *obj, Py_buffer *view, int words, size_t *rows, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) != 0) return 0;
    const size_t row_bytes = (size_t)words * 8;
    if (words <= 0 || view->len % row_bytes != 0) {
        PyErr_Format(PyExc_ValueError, "%s: buffer of %zd bytes is not a whole number of %d-word rows",
                     what, view->len, words);
        PyBuffer_Release(view);
        return 0;
    }
    if (((uintptr_t)view->buf) % 8 != 0) {
        PyErr_Format(PyExc_ValueError, "%s: buffer is not 8-byte aligned", what);
        PyBuffer_Release(view);
        return 0;
    }
    *rows = (size_t)view->len / row_bytes;
    if (*rows > (size_t)INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s: more than 2^31 rows", what);
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

static int clamp_threads(int threads) {
    if (threads < 1) return 1;
    if (threads > 64) return 64;
    return threads;
}

/* ------------------------------------------------------------------------------------ */
/* threshold_pairs(a, b, words, threshold, threads, kernel, max_pairs)                    */

PyDoc_STRVAR(threshold_pairs_doc,
             "threshold_pairs(a, b, words, threshold, threads=1, kernel='auto', max_pairs=2**62)\n"
             "--\n\n"
             "All pairs (i, j) with Dice(a[i], b[j]) >= threshold, as three bytes objects:\n"
             "int32 row indices into a, int32 row indices into b, float32 scores (unordered).\n"
             "a and b are C-contiguous buffers of rows of `words` uint64 words. Raises\n"
             "OverflowError when more than max_pairs pairs qualify.");

static PyObject *threshold_pairs(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"a", "b", "words", "threshold", "threads", "kernel", "max_pairs", NULL};
    PyObject *a_obj, *b_obj;
    int words, threads = 1;
    double t;
    const char *kernel_name = "auto";
    unsigned long long max_pairs = 1ULL << 62;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOid|isK", keywords, &a_obj, &b_obj, &words,
                                     &t, &threads, &kernel_name, &max_pairs))
        return NULL;
    if (!(t > 0.0 && t <= 1.0)) {
        PyErr_SetString(PyExc_ValueError, "threshold must be in (0, 1]");
        return NULL;
    }
    int kernel;
    if (!choose_kernel(kernel_name, &kernel)) return NULL;
    Py_buffer av, bv;
    size_t n, m;
    if (!get_rows(a_obj, &av, words, &n, "a")) return NULL;
    if (!get_rows(b_obj, &bv, words, &m, "b")) {
        PyBuffer_Release(&av);
        return NULL;
    }
    threads = clamp_threads(threads);

    /* The smaller set is blocked (copied word-major), the larger one streamed. */
    const int swap = m > n;
    const uint64_t *stream = swap ? bv.buf : av.buf, *blocked = swap ? av.buf : bv.buf;
    const size_t ns = swap ? m : n, nb = swap ? n : m;
    const size_t mblocks = (nb + 7) / 8;

    uint32_t *pa = malloc((ns ? ns : 1) * sizeof(uint32_t));
    uint32_t *pb = calloc(mblocks * 8 + 8, sizeof(uint32_t));
    uint64_t *bt = NULL;
    if (kernel == K_AVX512 && mblocks) {
        bt = aligned_alloc(64, mblocks * (size_t)words * 8 * sizeof(uint64_t));
    }
    worker_t *workers = calloc((size_t)threads, sizeof(worker_t));
    if (!pa || !pb || !workers || (kernel == K_AVX512 && mblocks && !bt)) {
        free(pa); free(pb); free(bt); free(workers);
        PyBuffer_Release(&av);
        PyBuffer_Release(&bv);
        return PyErr_NoMemory();
    }

    search_t s = {0};
    s.a = stream; s.pa = pa; s.n = ns;
    s.b = blocked; s.bt = bt; s.pb = pb; s.m = nb; s.mblocks = mblocks;
    s.words = words; s.t = t; s.kernel = kernel; s.swap = swap;
    s.max_pairs = (size_t)max_pairs;
    s.row_tiles = (ns + ROW_TILE - 1) / ROW_TILE;
    s.col_chunks = (mblocks + BLOCK_CHUNK - 1) / BLOCK_CHUNK;
    s.tasks = s.row_tiles * s.col_chunks;

    Py_BEGIN_ALLOW_THREADS
    popcounts(stream, ns, words, pa);
    popcounts(blocked, nb, words, pb);
    if (bt) {
        memset(bt, 0, mblocks * (size_t)words * 8 * sizeof(uint64_t));
        for (size_t j = 0; j < nb; j++) {
            const size_t k = j / 8, lane = j % 8;
            for (int w = 0; w < words; w++) bt[(k * (size_t)words + (size_t)w) * 8 + lane] =
                blocked[j * (size_t)words + (size_t)w];
        }
    }
    for (int i = 0; i < threads; i++) workers[i].s = &s;
    run_threads(search_worker, workers, sizeof(worker_t), threads);
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&av);
    PyBuffer_Release(&bv);
    free(pa); free(pb); free(bt);

    PyObject *result = NULL;
    int failed = 0;
    size_t total = 0;
    for (int i = 0; i < threads; i++) {
        failed |= workers[i].hits.failed;
        total += workers[i].hits.len;
    }
    if (s.overflow) {
        PyErr_Format(PyExc_OverflowError, "more than %llu pairs reach the threshold", max_pairs);
    } else if (failed) {
        PyErr_NoMemory();
    } else {
        PyObject *ia = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total * sizeof(int32_t)));
        PyObject *ib = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total * sizeof(int32_t)));
        PyObject *sc = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total * sizeof(float)));
        if (ia && ib && sc) {
            char *pia = PyBytes_AS_STRING(ia), *pib = PyBytes_AS_STRING(ib), *psc = PyBytes_AS_STRING(sc);
            for (int i = 0; i < threads; i++) {
                const size_t len = workers[i].hits.len;
                if (len) {
                    memcpy(pia, workers[i].hits.ia, len * sizeof(int32_t));
                    memcpy(pib, workers[i].hits.ib, len * sizeof(int32_t));
                    memcpy(psc, workers[i].hits.score, len * sizeof(float));
                }
                pia += len * sizeof(int32_t);
                pib += len * sizeof(int32_t);
                psc += len * sizeof(float);
            }
            result = PyTuple_Pack(3, ia, ib, sc);
        }
        Py_XDECREF(ia);
        Py_XDECREF(ib);
        Py_XDECREF(sc);
    }
    for (int i = 0; i < threads; i++) hits_free(&workers[i].hits);
    free(workers);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* pair_scores(a, b, words, ia, ib, threads, kernel)                                      */

typedef struct {
    const uint64_t *a, *b;
    size_t n, m;
    int words, kernel;
    const int32_t *ia, *ib;
    float *out;
    size_t begin, end;
    int bad_index;
} pairs_job_t;

/* Score pairs begin..end; returns 0 on an index outside the sets. */
#define PAIR_LOOP(NAME, ANDPOP, ATTR)                                                       \
    ATTR static int NAME(pairs_job_t *job) {                                                \
        const int W = job->words;                                                           \
        for (size_t p = job->begin; p < job->end; p++) {                                    \
            const int32_t i = job->ia[p], j = job->ib[p];                                   \
            if (i < 0 || j < 0 || (size_t)i >= job->n || (size_t)j >= job->m) return 0;     \
            const uint64_t *x = job->a + (size_t)i * W, *y = job->b + (size_t)j * W;        \
            const uint32_t c = ANDPOP(x, y, W);                                             \
            const uint32_t sum = ANDPOP(x, x, W) + ANDPOP(y, y, W);                         \
            job->out[p] = sum ? (float)(2.0 * (double)c / (double)sum) : 0.0f;              \
        }                                                                                   \
        return 1;                                                                           \
    }

PAIR_LOOP(pairs_portable, and_popcount_portable, )
#if HAVE_X86
PAIR_LOOP(pairs_popcnt, and_popcount_popcnt, __attribute__((target("popcnt"))))
#endif

static void *pairs_worker(void *arg) {
    pairs_job_t *job = (pairs_job_t *)arg;
#if HAVE_X86
    if (job->kernel != K_PORTABLE) {
        job->bad_index = !pairs_popcnt(job);
        return NULL;
    }
#endif
    job->bad_index = !pairs_portable(job);
    return NULL;
}

PyDoc_STRVAR(pair_scores_doc,
             "pair_scores(a, b, words, ia, ib, threads=1, kernel='auto')\n"
             "--\n\n"
             "Dice scores of the pairs (a[ia[p]], b[ib[p]]) as a bytes object of float32;\n"
             "ia and ib are int32 buffers of equal length. Two empty CLKs score 0.");

static PyObject *pair_scores(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"a", "b", "words", "ia", "ib", "threads", "kernel", NULL};
    PyObject *a_obj, *b_obj, *ia_obj, *ib_obj;
    int words, threads = 1;
    const char *kernel_name = "auto";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOiOO|is", keywords, &a_obj, &b_obj, &words,
                                     &ia_obj, &ib_obj, &threads, &kernel_name))
        return NULL;
    int kernel;
    if (!choose_kernel(kernel_name, &kernel)) return NULL;
    Py_buffer av, bv, iav, ibv;
    size_t n, m;
    if (!get_rows(a_obj, &av, words, &n, "a")) return NULL;
    if (!get_rows(b_obj, &bv, words, &m, "b")) {
        PyBuffer_Release(&av);
        return NULL;
    }
    if (PyObject_GetBuffer(ia_obj, &iav, PyBUF_C_CONTIGUOUS) != 0) {
        PyBuffer_Release(&av);
        PyBuffer_Release(&bv);
        return NULL;
    }
    if (PyObject_GetBuffer(ib_obj, &ibv, PyBUF_C_CONTIGUOUS) != 0) {
        PyBuffer_Release(&av);
        PyBuffer_Release(&bv);
        PyBuffer_Release(&iav);
        return NULL;
    }
    PyObject *result = NULL;
    if (iav.len != ibv.len || iav.len % 4 != 0) {
        PyErr_SetString(PyExc_ValueError, "ia and ib must be int32 buffers of equal length");
        goto done;
    }
    const size_t pairs = (size_t)iav.len / 4;
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(pairs * sizeof(float)));
    if (!result) goto done;
    threads = clamp_threads(threads);
    if (pairs < 65536) threads = 1;
    pairs_job_t jobs[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (pairs_job_t){av.buf, bv.buf, n, m, words, kernel, iav.buf, ibv.buf,
                                (float *)PyBytes_AS_STRING(result), pairs * (size_t)t / threads,
                                pairs * (size_t)(t + 1) / threads, 0};
    }
    Py_BEGIN_ALLOW_THREADS
    run_threads(pairs_worker, jobs, sizeof(pairs_job_t), threads);
    Py_END_ALLOW_THREADS
    for (int t = 0; t < threads; t++) {
        if (jobs[t].bad_index) {
            Py_CLEAR(result);
            PyErr_SetString(PyExc_IndexError, "pair index out of range");
            break;
        }
    }
done:
    PyBuffer_Release(&av);
    PyBuffer_Release(&bv);
    PyBuffer_Release(&iav);
    PyBuffer_Release(&ibv);
    return result;
}

/* ------------------------------------------------------------------------------------ */
/* lsh_keys(a, words, positions, bands, bits)                                             */

PyDoc_STRVAR(lsh_keys_doc,
             "lsh_keys(a, words, positions, bands, bits)\n"
             "--\n\n"
             "Hamming-LSH band keys: for each band and row, the `bits` (<= 64) CLK bits at the\n"
             "band's positions packed into a uint64. positions is an int32 buffer of\n"
             "bands*bits bit positions (bit p is bit p%64 of word p/64). Returns a bytes object\n"
             "of bands*rows uint64 keys, band-major.");

static PyObject *lsh_keys(PyObject *self, PyObject *args) {
    PyObject *a_obj, *pos_obj;
    int words, bands, bits;
    if (!PyArg_ParseTuple(args, "OiOii", &a_obj, &words, &pos_obj, &bands, &bits)) return NULL;
    if (bands < 1 || bits < 1 || bits > 64) {
        PyErr_SetString(PyExc_ValueError, "need bands >= 1 and 1 <= bits <= 64");
        return NULL;
    }
    Py_buffer av, pv;
    size_t n;
    if (!get_rows(a_obj, &av, words, &n, "a")) return NULL;
    if (PyObject_GetBuffer(pos_obj, &pv, PyBUF_C_CONTIGUOUS) != 0) {
        PyBuffer_Release(&av);
        return NULL;
    }
    PyObject *result = NULL;
    const int32_t *pos = pv.buf;
    if (pv.len != (Py_ssize_t)bands * bits * 4) {
        PyErr_SetString(PyExc_ValueError, "positions must hold bands*bits int32 values");
        goto done;
    }
    for (Py_ssize_t p = 0; p < (Py_ssize_t)bands * bits; p++) {
        if (pos[p] < 0 || pos[p] >= words * 64) {
            PyErr_SetString(PyExc_ValueError, "bit position outside the CLK");
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)((size_t)bands * n * sizeof(uint64_t)));
    if (!result) goto done;
    uint64_t *out = (uint64_t *)PyBytes_AS_STRING(result);
    const uint64_t *a = av.buf;
    Py_BEGIN_ALLOW_THREADS
    for (int band = 0; band < bands; band++) {
        const int32_t *bp = pos + (size_t)band * bits;
        uint64_t *ob = out + (size_t)band * n;
        for (size_t i = 0; i < n; i++) {
            const uint64_t *row = a + i * (size_t)words;
            uint64_t key = 0;
            for (int k = 0; k < bits; k++) key |= ((row[bp[k] >> 6] >> (bp[k] & 63)) & 1ULL) << k;
            ob[i] = key;
        }
    }
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&av);
    PyBuffer_Release(&pv);
    return result;
}

/* ------------------------------------------------------------------------------------ */

static PyObject *available_kernels(PyObject *self, PyObject *unused) {
    PyObject *names = PyList_New(0);
    if (!names) return NULL;
    int ok[3] = {1, cpu_has_popcnt(), cpu_has_avx512()};
    for (int k = 2; k >= 0; k--) {
        if (!ok[k]) continue;
        PyObject *name = PyUnicode_FromString(kernel_names[k]);
        if (!name || PyList_Append(names, name) != 0) {
            Py_XDECREF(name);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(name);
    }
    return names;
}

static PyMethodDef methods[] = {
    {"threshold_pairs", (PyCFunction)(void (*)(void))threshold_pairs, METH_VARARGS | METH_KEYWORDS,
     threshold_pairs_doc},
    {"pair_scores", (PyCFunction)(void (*)(void))pair_scores, METH_VARARGS | METH_KEYWORDS,
     pair_scores_doc},
    {"lsh_keys", lsh_keys, METH_VARARGS, lsh_keys_doc},
    {"available_kernels", available_kernels, METH_NOARGS,
     "Kernels this CPU can run, fastest first (the first is what 'auto' picks)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_dice", "Dice-coefficient kernels for CLK linkage.", -1, methods,
};

PyMODINIT_FUNC PyInit__dice(void) { return PyModule_Create(&module); }
