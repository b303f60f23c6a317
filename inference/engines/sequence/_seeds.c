/* The inner loops of the spaced-seed channel (seeds.py), compiled with the package.

   group_by_seed: a counting sort of reference positions by seed.
   two_hit_scores: BLAST's two-hit rule over the seed hits of one query, and for every hit that
   fires, the best ungapped BLOSUM62 segment in a window around it, kept per reference.

   Arrays arrive through the buffer protocol; seeds.py passes C-contiguous arrays of the stated
   types and this file checks every size it relies on, so a wrong call raises instead of reading
   out of bounds. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_buffer view;
    int held;
} Buf;

static int get(PyObject *obj, Buf *b, Py_ssize_t itemsize, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        return -1;
    }
    b->held = 1;
    if (b->view.itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected %zd-byte items, got %zd", name, itemsize,
                     b->view.itemsize);
        return -1;
    }
    return 0;
}

static void release(Buf *bufs, int n) {
    for (int i = 0; i < n; i++) {
        if (bufs[i].held) {
            PyBuffer_Release(&bufs[i].view);
        }
    }
}

static Py_ssize_t count(const Buf *b) { return b->view.len / b->view.itemsize; }

/* group_by_seed(keys int64[n], indptr int32[n_keys + 1] zeroed, postings int32[n]) */
static PyObject *group_by_seed(PyObject *self, PyObject *args) {
    PyObject *o[3];
    Buf b[3] = {{0}};
    if (!PyArg_ParseTuple(args, "OOO", &o[0], &o[1], &o[2])) {
        return NULL;
    }
    if (get(o[0], &b[0], 8, 0, "keys") < 0 || get(o[1], &b[1], 4, 1, "indptr") < 0 ||
        get(o[2], &b[2], 4, 1, "postings") < 0) {
        release(b, 3);
        return NULL;
    }
    const int64_t *keys = b[0].view.buf;
    int32_t *indptr = b[1].view.buf;
    int32_t *postings = b[2].view.buf;
    Py_ssize_t n = count(&b[0]), n_keys = count(&b[1]) - 1;
    if (count(&b[2]) < n || n > INT32_MAX) {
        release(b, 3);
        PyErr_SetString(PyExc_ValueError, "postings shorter than keys, or too many positions");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (keys[i] >= n_keys) {
            release(b, 3);
            PyErr_SetString(PyExc_ValueError, "a seed key is outside indptr");
            return NULL;
        }
    }
    int32_t *fill = malloc((size_t)(n_keys > 0 ? n_keys : 1) * sizeof(int32_t));
    if (fill == NULL) {
        release(b, 3);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    memset(indptr, 0, (size_t)(n_keys + 1) * sizeof(int32_t));
    for (Py_ssize_t i = 0; i < n; i++) {
        if (keys[i] >= 0) {
            indptr[keys[i] + 1]++;
        }
    }
    for (Py_ssize_t k = 1; k <= n_keys; k++) {
        indptr[k] += indptr[k - 1];
    }
    memcpy(fill, indptr, (size_t)n_keys * sizeof(int32_t));
    for (Py_ssize_t i = 0; i < n; i++) {
        if (keys[i] >= 0) {
            postings[fill[keys[i]]++] = (int32_t)i;
        }
    }
    Py_END_ALLOW_THREADS
    free(fill);
    release(b, 3);
    Py_RETURN_NONE;
}

/* two_hit_scores(query int8[n], keys int64[shapes, n], spans int64[shapes],
                  indptr int32[shapes, n_keys + 1], postings int32[shapes, m], database int8[m],
                  starts int64[refs], scores int32[22, 22], best int32[refs],
                  max_postings, window, flank, table_bits) */
static PyObject *two_hit_scores(PyObject *self, PyObject *args) {
    PyObject *o[9];
    Buf b[9] = {{0}};
    int max_postings, window, flank, table_bits;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOiiii", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &max_postings, &window, &flank, &table_bits)) {
        return NULL;
    }
    static const char *names[9] = {"query", "keys",   "spans",  "indptr", "postings",
                                   "database", "starts", "scores", "best"};
    static const Py_ssize_t sizes[9] = {1, 8, 8, 4, 4, 1, 8, 4, 4};
    for (int i = 0; i < 9; i++) {
        if (get(o[i], &b[i], sizes[i], i == 8, names[i]) < 0) {
            release(b, 9);
            return NULL;
        }
    }
    const int8_t *query = b[0].view.buf;
    const int64_t *keys = b[1].view.buf;
    const int64_t *spans = b[2].view.buf;
    const int32_t *indptr = b[3].view.buf;
    const int32_t *postings = b[4].view.buf;
    const int8_t *database = b[5].view.buf;
    const int64_t *starts = b[6].view.buf;
    const int32_t *scores = b[7].view.buf;
    int32_t *best = b[8].view.buf;
    Py_ssize_t n = count(&b[0]), shapes = count(&b[2]), m = count(&b[5]);
    Py_ssize_t refs = count(&b[6]);
    Py_ssize_t row = shapes > 0 ? count(&b[3]) / shapes : 0; /* n_keys + 1 */
    Py_ssize_t prow = shapes > 0 ? count(&b[4]) / shapes : 0;
    if (count(&b[1]) != shapes * n || count(&b[7]) != 22 * 22 || count(&b[8]) < refs ||
        prow < m || table_bits < 4 || table_bits > 24 || refs < 1) {
        release(b, 9);
        PyErr_SetString(PyExc_ValueError, "two_hit_scores: inconsistent array sizes");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (query[i] < 0 || query[i] > 21) {
            release(b, 9);
            PyErr_SetString(PyExc_ValueError, "two_hit_scores: residue code outside 0..21");
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < shapes * n; i++) {
        if (keys[i] >= row - 1) {
            release(b, 9);
            PyErr_SetString(PyExc_ValueError, "two_hit_scores: a seed key is outside indptr");
            return NULL;
        }
    }
    size_t size = (size_t)1 << table_bits;
    int64_t *slot_diagonal = malloc(size * sizeof(int64_t));
    int64_t *slot_position = malloc(size * sizeof(int64_t));
    if (slot_diagonal == NULL || slot_position == NULL) {
        free(slot_diagonal);
        free(slot_position);
        release(b, 9);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    for (size_t k = 0; k < size; k++) {
        slot_diagonal[k] = INT64_MIN;
        slot_position[k] = 0;
    }
    for (Py_ssize_t s = 0; s < shapes; s++) {
        const int64_t span = spans[s];
        const int32_t *ptr = indptr + s * row;
        const int32_t *pos = postings + s * prow;
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t key = keys[s * n + i];
            if (key < 0) {
                continue;
            }
            int32_t lo = ptr[key], hi = ptr[key + 1];
            if (hi > prow) {
                hi = (int32_t)prow;
            }
            if (lo < 0 || hi - lo > max_postings) {
                continue;
            }
            for (int32_t h = lo; h < hi; h++) {
                int64_t p = pos[h];
                int64_t diagonal = p - i;
                size_t slot = (size_t)(((uint64_t)diagonal * 0x9E3779B1u) >> 5) & (size - 1);
                int fire = 0;
                if (slot_diagonal[slot] == diagonal) {
                    int64_t gap = i - slot_position[slot];
                    if (gap < 0) {
                        gap = -gap;
                    }
                    fire = gap >= 2 && gap <= window;
                }
                slot_diagonal[slot] = diagonal;
                slot_position[slot] = i;
                if (!fire) {
                    continue;
                }
                int32_t top = 0, run = 0;
                for (int64_t j = -flank; j < span + flank; j++) {
                    if (i + j < 0 || p + j < 0) {
                        continue;
                    }
                    if (i + j >= n || p + j >= m) {
                        break;
                    }
                    run += scores[query[i + j] * 22 + database[p + j]];
                    if (run < 0) {
                        run = 0;
                    } else if (run > top) {
                        top = run;
                    }
                }
                if (top > 0) {
                    /* the reference holding position p: the last start <= p */
                    Py_ssize_t a = 0, z = refs;
                    while (z - a > 1) {
                        Py_ssize_t mid = (a + z) / 2;
                        if (starts[mid] <= p) {
                            a = mid;
                        } else {
                            z = mid;
                        }
                    }
                    if (top > best[a]) {
                        best[a] = top;
                    }
                }
            }
        }
    }
    Py_END_ALLOW_THREADS
    free(slot_diagonal);
    free(slot_position);
    release(b, 9);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"group_by_seed", group_by_seed, METH_VARARGS, "Counting sort of positions by seed."},
    {"two_hit_scores", two_hit_scores, METH_VARARGS, "Best two-hit segment score per reference."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_seeds", NULL, -1, methods};

PyMODINIT_FUNC PyInit__seeds(void) { return PyModule_Create(&module); }
