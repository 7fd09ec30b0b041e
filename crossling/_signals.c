/* Quality signals of many texts in one call: the counting part of crossling.clean.quality_signals_batch.
 *
 * The Python code in crossling/clean.py is the definition; this is the same counting done over the
 * code points of each str (no copies, no per-word objects), and tests/test_clean.py checks that both
 * give the same numbers on arbitrary text. Character classes come from a table built in Python from
 * the very regexes and str methods the Python code uses (one byte of flags per code point), so the
 * two cannot disagree on what a letter or a space is.
 *
 * signals(texts, table, out): texts a list of str, table a bytes-like of 0x110000 flag bytes, out a
 * writable float64 buffer of len(texts) * NCOLS values (one row per text, columns below). The work
 * runs without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Flags of the class table (crossling/clean.py builds it with the same bits). */
#define F_SPACE 1      /* str.isspace(): what str.split() and str.strip() remove */
#define F_NON_LETTER 2 /* clean._NON_LETTER: not counted in letter_frac */
#define F_LETTER 4     /* clean._LETTER: a word with one is an alphabetic word */
#define F_NO_SPACE 8   /* clean._NO_SPACE: scripts written without spaces */
#define F_UNIT 16      /* clean._SPACELESS_UNIT: a unit of a spaceless text */
#define F_DIGIT 32     /* str.isdigit() */
#define F_CONTROL 64   /* clean._CONTROL: removed by normalize_text */

enum {
    C_N_CHARS,
    C_N_UNITS,
    C_SPACELESS,
    C_N_LINES,
    C_DUP_LINE_FRAC,
    C_DUP_LINE_CHAR_FRAC,
    C_TOP2,
    C_TOP3,
    C_TOP4,
    C_ALPHA_UNIT_FRAC,
    C_LETTER_FRAC,
    C_SYMBOL_PER_UNIT,
    C_BULLET_LINE_FRAC,
    C_ELLIPSIS_LINE_FRAC,
    NCOLS
};

#define SAMPLE 2000 /* letter_frac and the spaceless test look at the first 2,000 characters */
#define GRAM_MULT 0x9E3779B97F4A7C15ULL

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t len;
} Text;

typedef struct {
    uint64_t key;
    int64_t first; /* first position (n-gram) or start (line); -1: empty slot */
    int64_t len;   /* lines: length in code points */
    int64_t count;
} Slot;

/* Scratch space reused across texts. */
typedef struct {
    uint64_t *words; /* unit hashes */
    int64_t *lens;   /* unit lengths in code points */
    uint64_t *codes; /* rolling n-gram codes */
    Py_ssize_t cap;
    Slot *slots;
    Py_ssize_t nslots;
} Scratch;

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

static int grow(Scratch *s, Py_ssize_t n) {
    if (n <= s->cap)
        return 0;
    Py_ssize_t cap = s->cap ? s->cap : 1024;
    while (cap < n)
        cap *= 2;
    uint64_t *w = realloc(s->words, cap * sizeof(uint64_t));
    if (!w)
        return -1;
    s->words = w;
    int64_t *l = realloc(s->lens, cap * sizeof(int64_t));
    if (!l)
        return -1;
    s->lens = l;
    uint64_t *c = realloc(s->codes, cap * sizeof(uint64_t));
    if (!c)
        return -1;
    s->codes = c;
    s->cap = cap;
    return 0;
}

/* An empty open-addressing table for n keys (load <= 1/2); returns its mask, or -1. */
static Py_ssize_t table_for(Scratch *s, Py_ssize_t n) {
    Py_ssize_t size = 16;
    while (size < 2 * n)
        size *= 2;
    if (size > s->nslots) {
        Slot *t = realloc(s->slots, size * sizeof(Slot));
        if (!t)
            return -1;
        s->slots = t;
        s->nslots = size;
    }
    for (Py_ssize_t i = 0; i < size; i++)
        s->slots[i].first = -1;
    return size - 1;
}

static inline Py_ssize_t slot_of(uint64_t key, Py_ssize_t mask) {
    return (Py_ssize_t)((key * GRAM_MULT) >> 17) & mask;
}

/* Gopher: share of the unit characters covered by the most frequent 2-, 3- and 4-gram of units
 * (0 when it does not repeat; among equally frequent ones the first to occur). */
static int top_ngrams(Scratch *s, Py_ssize_t n, int64_t total_chars, double out[3]) {
    out[0] = out[1] = out[2] = 0.0;
    if (n < 3)
        return 0;
    memcpy(s->codes, s->words, n * sizeof(uint64_t));
    for (int j = 0, k = 2; k <= 4; j++, k++) {
        if (n < k + 1)
            break;
        Py_ssize_t m = n - k + 1; /* k-grams */
        for (Py_ssize_t i = 0; i < m; i++)
            s->codes[i] = s->codes[i] * GRAM_MULT + s->words[i + k - 1];
        Py_ssize_t mask = table_for(s, m);
        if (mask < 0)
            return -1;
        int64_t top = 0, first = 0;
        for (Py_ssize_t i = 0; i < m; i++) {
            uint64_t key = s->codes[i];
            Py_ssize_t h = slot_of(key, mask);
            while (s->slots[h].first >= 0 && s->slots[h].key != key)
                h = (h + 1) & mask;
            Slot *e = &s->slots[h];
            if (e->first < 0) {
                e->key = key;
                e->first = i;
                e->count = 0;
            }
            e->count++;
            if (e->count > top || (e->count == top && e->first < first)) {
                top = e->count;
                first = e->first;
            }
        }
        if (top < 2)
            break; /* no k-gram repeats, so no longer one does either */
        int64_t gram_chars = 0;
        for (int q = 0; q < k; q++)
            gram_chars += s->lens[first + q];
        out[j] = (double)gram_chars * (double)top / (double)(total_chars > 1 ? total_chars : 1);
    }
    return 0;
}

#define READ(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

static int measure(const Text *t, const uint8_t *cls, Scratch *s, double *row) {
    const Py_ssize_t n = t->len;
    const int kind = t->kind;
    const char *data = t->data;

    /* letters and script in the sample */
    Py_ssize_t sample = n < SAMPLE ? n : SAMPLE, letters = 0, no_space = 0;
    for (Py_ssize_t i = 0; i < sample; i++) {
        uint8_t f = cls[READ(t, i)];
        letters += !(f & F_NON_LETTER);
        no_space += (f & F_NO_SPACE) != 0;
    }
    int spaceless = (double)no_space > 0.3 * (double)(letters > 1 ? letters : 1);

    /* units (whitespace-separated words, or single letters/digits of a spaceless text),
       symbols */
    if (grow(s, n + 1) < 0)
        return -1;
    Py_ssize_t units = 0, alpha = 0, symbols = 0;
    int64_t unit_chars = 0;
    if (spaceless) {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = READ(t, i);
            uint8_t f = cls[c];
            if (f & F_UNIT) {
                s->words[units] = mix64((uint64_t)c + 0x51ED);
                s->lens[units++] = 1;
                alpha += !(f & F_DIGIT);
            }
        }
        unit_chars = units;
    } else {
        Py_ssize_t i = 0;
        while (i < n) {
            while (i < n && (cls[READ(t, i)] & F_SPACE))
                i++;
            if (i >= n)
                break;
            uint64_t h = 0xCBF29CE484222325ULL;
            Py_ssize_t start = i;
            int has_letter = 0;
            while (i < n) {
                Py_UCS4 c = READ(t, i);
                uint8_t f = cls[c];
                if (f & F_SPACE)
                    break;
                has_letter |= (f & F_LETTER) != 0;
                h = (h ^ c) * 0x100000001B3ULL;
                i++;
            }
            s->words[units] = mix64(h);
            s->lens[units++] = i - start;
            unit_chars += i - start;
            alpha += has_letter;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = READ(t, i);
        switch (c) {
        case '#': case 0x2026: case '{': case '}': case '<': case '>': case '[': case ']':
        case '|': case '=': case ';': case '$': case '%': case '^': case '~': case '_':
        case '\\':
            symbols++;
            break;
        case '.': /* "..." counted without overlaps, as str.count does */
            if (i + 2 < n && READ(t, i + 1) == '.' && READ(t, i + 2) == '.') {
                symbols++;
                i += 2;
            }
            break;
        default:
            break;
        }
    }

    /* lines: split on "\n", kept when not blank; duplicates compared by content */
    Py_ssize_t nl = 1;
    for (Py_ssize_t i = 0; i < n; i++)
        nl += READ(t, i) == '\n';
    Py_ssize_t mask = table_for(s, nl);
    if (mask < 0)
        return -1;
    Py_ssize_t lines = 0, bullets = 0, ellipses = 0, dup_lines = 0;
    int64_t dup_chars = 0;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i < n && READ(t, i) != '\n')
            continue;
        const Py_ssize_t ls = start, le = i; /* the line is [ls, le) */
        start = i + 1;
        Py_ssize_t a = ls, e = le;
        while (a < e && (cls[READ(t, a)] & F_SPACE))
            a++;
        if (a == e)
            continue; /* blank */
        while (cls[READ(t, e - 1)] & F_SPACE)
            e--;
        lines++;
        Py_UCS4 c0 = READ(t, a), cl = READ(t, e - 1);
        bullets += c0 == 0x2022 || c0 == 0x2023 || c0 == 0x25CF || c0 == 0x25AA || c0 == 0x25E6 ||
                   c0 == '-' || c0 == '*' || c0 == 0x00B7;
        ellipses += cl == 0x2026 || (e - a >= 3 && cl == '.' && READ(t, e - 2) == '.' &&
                                     READ(t, e - 3) == '.');
        /* duplicates: the whole line, spaces included, as Counter compares it */
        const Py_ssize_t len = le - ls;
        uint64_t h = 0xCBF29CE484222325ULL;
        for (Py_ssize_t q = ls; q < le; q++)
            h = (h ^ READ(t, q)) * 0x100000001B3ULL;
        h = mix64(h ^ (uint64_t)len);
        for (Py_ssize_t slot = slot_of(h, mask);; slot = (slot + 1) & mask) {
            Slot *sl = &s->slots[slot];
            if (sl->first < 0) {
                sl->key = h;
                sl->first = ls;
                sl->len = len;
                break;
            }
            if (sl->key == h && sl->len == len &&
                memcmp(data + sl->first * kind, data + ls * kind, (size_t)len * kind) == 0) {
                dup_lines++;
                dup_chars += len;
                break;
            }
        }
    }

    double tops[3];
    if (top_ngrams(s, units, unit_chars, tops) < 0)
        return -1;
    double line_div = lines > 1 ? (double)lines : 1.0;
    double unit_div = units > 1 ? (double)units : 1.0;
    row[C_N_CHARS] = (double)n;
    row[C_N_UNITS] = (double)units;
    row[C_SPACELESS] = spaceless;
    row[C_N_LINES] = (double)lines;
    row[C_DUP_LINE_FRAC] = (double)dup_lines / line_div;
    row[C_DUP_LINE_CHAR_FRAC] = (double)dup_chars / (double)(n > 1 ? n : 1);
    row[C_TOP2] = tops[0];
    row[C_TOP3] = tops[1];
    row[C_TOP4] = tops[2];
    row[C_ALPHA_UNIT_FRAC] = (double)alpha / unit_div;
    row[C_LETTER_FRAC] = (double)letters / (double)(sample > 1 ? sample : 1);
    row[C_SYMBOL_PER_UNIT] = (double)symbols / unit_div;
    row[C_BULLET_LINE_FRAC] = (double)bullets / line_div;
    row[C_ELLIPSIS_LINE_FRAC] = (double)ellipses / line_div;
    return 0;
}

static PyObject *signals(PyObject *self, PyObject *args) {
    PyObject *texts;
    Py_buffer table, out;
    if (!PyArg_ParseTuple(args, "O!y*w*", &PyList_Type, &texts, &table, &out))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    Text *items = NULL;
    if (table.len != 0x110000) {
        PyErr_SetString(PyExc_ValueError, "table: expected 0x110000 flag bytes");
        goto done;
    }
    if (out.len != n * NCOLS * (Py_ssize_t)sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "out: expected %zd float64 values", n * NCOLS);
        goto done;
    }
    items = PyMem_Calloc(n ? n : 1, sizeof(Text));
    if (!items) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PyList_GET_ITEM(texts, i);
        if (!PyUnicode_Check(o)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd]: expected str, got %.80s", i,
                         Py_TYPE(o)->tp_name);
            goto done;
        }
        if (PyUnicode_READY(o) < 0)
            goto done;
        items[i].kind = PyUnicode_KIND(o);
        items[i].data = PyUnicode_DATA(o);
        items[i].len = PyUnicode_GET_LENGTH(o);
    }
    int failed = 0;
    Scratch s = {0};
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n && !failed; i++)
        failed = measure(&items[i], table.buf, &s, (double *)out.buf + i * NCOLS) < 0;
    free(s.words);
    free(s.lens);
    free(s.codes);
    free(s.slots);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyMem_Free(items);
    PyBuffer_Release(&table);
    PyBuffer_Release(&out);
    return result;
}

/* fold(text, table): normalize_text's folding of an NFC text: control characters removed, "\r\n"
 * and "\r" made "\n", every whitespace run within a line one space, lines trimmed, blank lines
 * dropped. The same as clean._fold_py, in one pass. */
static PyObject *fold(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "Uy*", &text, &table))
        return NULL;
    PyObject *result = NULL;
    if (table.len != 0x110000) {
        PyErr_SetString(PyExc_ValueError, "table: expected 0x110000 flag bytes");
        goto done;
    }
    const uint8_t *cls = table.buf;
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    char *out = PyMem_Malloc(n ? (size_t)n * kind : 1);
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t m = 0;
    int content = 0, space = 0, after_cr = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        uint8_t f = cls[c];
        if (f & F_CONTROL)
            continue; /* removed before anything else looks at the text */
        if (c == '\n' && after_cr) {
            after_cr = 0; /* the "\n" of "\r\n" */
            continue;
        }
        after_cr = c == '\r';
        if (c == '\n' || c == '\r') {
            content = space = 0;
        } else if (f & F_SPACE) {
            space = content;
        } else {
            if (content && space)
                PyUnicode_WRITE(kind, out, m++, ' ');
            else if (!content && m > 0)
                PyUnicode_WRITE(kind, out, m++, '\n');
            PyUnicode_WRITE(kind, out, m++, c);
            content = 1;
            space = 0;
        }
    }
    result = PyUnicode_FromKindAndData(kind, out, m); /* narrows to the smallest kind */
    PyMem_Free(out);
done:
    PyBuffer_Release(&table);
    return result;
}

/* shingles(pieces, classes, ngram, char_ngram, pos_mult, gram_mult, salts, hashes, owners):
 * crossling.dedup.minhash's shingle hashes of lowercased pieces, the same numbers its numpy
 * reference (_hash_pieces_py) computes: word tokens (runs of WORD/DIGIT code points, digits read as
 * "0") hashed by position, character tokens (CHAR code points) on their own; the n-grams of each
 * kind within a piece (a piece with fewer tokens gives one shorter window), each mixed with its
 * salt. hashes (uint64) and owners (int64, the piece index) must hold the upper bound
 * shingle_bound(pieces); returns the number written. */
enum { SEP_CLASS = 0, WORD_CLASS = 1, CHAR_CLASS = 2, DIGIT_CLASS = 3 };

static Py_ssize_t ngrams(const uint64_t *tok, Py_ssize_t m, int n, const uint64_t *gram_mult,
                         uint64_t salt, int64_t owner, uint64_t *out, int64_t *owners) {
    if (m == 0)
        return 0;
    Py_ssize_t windows = m >= n ? m - n + 1 : 1, width = m >= n ? n : m;
    for (Py_ssize_t i = 0; i < windows; i++) {
        uint64_t acc = 0;
        for (Py_ssize_t k = 0; k < width; k++)
            acc += tok[i + k] * gram_mult[k];
        out[i] = mix64(acc ^ salt);
        owners[i] = owner;
    }
    return windows;
}

static PyObject *shingles(PyObject *self, PyObject *args) {
    PyObject *pieces;
    Py_buffer table, pos_mult, gram_mult, salts, hashes, owners;
    int ngram, char_ngram;
    if (!PyArg_ParseTuple(args, "O!y*iiy*y*y*w*w*", &PyList_Type, &pieces, &table, &ngram,
                          &char_ngram, &pos_mult, &gram_mult, &salts, &hashes, &owners))
        return NULL;
    PyObject *result = NULL;
    uint64_t *words = NULL, *chars = NULL;
    const Py_ssize_t np_ = PyList_GET_SIZE(pieces);
    Py_ssize_t total = 0, longest = 0;
    if (table.len != 0x110000 || pos_mult.len != 1024 * 8 || salts.len != 3 * 8 ||
        gram_mult.len < (Py_ssize_t)(8 * (ngram > char_ngram ? ngram : char_ngram)) || ngram < 1 ||
        char_ngram < 1) {
        PyErr_SetString(PyExc_ValueError, "shingles: bad table, multipliers or n");
        goto done;
    }
    for (Py_ssize_t p = 0; p < np_; p++) {
        PyObject *o = PyList_GET_ITEM(pieces, p);
        if (!PyUnicode_Check(o)) {
            PyErr_Format(PyExc_TypeError, "pieces[%zd]: expected str", p);
            goto done;
        }
        Py_ssize_t len = PyUnicode_GET_LENGTH(o);
        total += len + 1;
        longest = len > longest ? len : longest;
    }
    if (hashes.len < total * 8 || owners.len < total * 8) {
        PyErr_SetString(PyExc_ValueError, "shingles: output buffers too small");
        goto done;
    }
    words = PyMem_Malloc((longest + 1) * sizeof(uint64_t));
    chars = PyMem_Malloc((longest + 1) * sizeof(uint64_t));
    if (!words || !chars) {
        PyErr_NoMemory();
        goto done;
    }
    const uint8_t *cls = table.buf;
    const uint64_t *pm = pos_mult.buf, *gm = gram_mult.buf, *salt = salts.buf;
    uint64_t *out = hashes.buf;
    int64_t *own = owners.buf;
    Py_ssize_t written = 0;
    for (Py_ssize_t p = 0; p < np_; p++) {
        PyObject *o = PyList_GET_ITEM(pieces, p);
        const int kind = PyUnicode_KIND(o);
        const void *data = PyUnicode_DATA(o);
        const Py_ssize_t len = PyUnicode_GET_LENGTH(o);
        Py_ssize_t nw = 0, nc = 0, pos = 0;
        uint64_t acc = 0;
        int in_word = 0;
        for (Py_ssize_t i = 0; i <= len; i++) {
            Py_UCS4 c = i < len ? PyUnicode_READ(kind, data, i) : 0;
            uint8_t k = i < len ? cls[c] : SEP_CLASS;
            if (k == WORD_CLASS || k == DIGIT_CLASS) {
                uint64_t v = k == DIGIT_CLASS ? (uint64_t)'0' : (uint64_t)c;
                acc += v * pm[pos & 1023];
                pos++;
                in_word = 1;
                continue;
            }
            if (in_word) {
                words[nw++] = mix64(acc);
                acc = 0;
                pos = 0;
                in_word = 0;
            }
            if (k == CHAR_CLASS)
                chars[nc++] = mix64((uint64_t)c ^ salt[2]);
        }
        written += ngrams(words, nw, ngram, gm, salt[0], p, out + written, own + written);
        written += ngrams(chars, nc, char_ngram, gm, salt[1], p, out + written, own + written);
    }
    result = PyLong_FromSsize_t(written);
done:
    PyMem_Free(words);
    PyMem_Free(chars);
    PyBuffer_Release(&table);
    PyBuffer_Release(&pos_mult);
    PyBuffer_Release(&gram_mult);
    PyBuffer_Release(&salts);
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&owners);
    return result;
}

static PyMethodDef methods[] = {
    {"shingles", shingles, METH_VARARGS, "shingles(...): MinHash shingle hashes of pieces."},
    {"fold", fold, METH_VARARGS, "fold(text, table): normalize_text's whitespace folding."},
    {"signals", signals, METH_VARARGS,
     "signals(texts, table, out): quality counts of each text into out (float64, NCOLS a row)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_signals", NULL, -1, methods};

PyMODINIT_FUNC PyInit__signals(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "NCOLS", NCOLS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
