/* The per-event gate computation of secaudit.detect.engine, compiled.

   Gates(...) holds one rule group's gates (see engine._Group); Gates.candidates(fields, text) gives,
   for an event whose field names hold no space and whose read values are all str, int, float or
   bool, what engine.Engine._candidates gives in Python: the fields, the read fields lowercased
   (``low``) and the rules the gates let through, in rule order. For any other event it returns None
   and the caller takes the Python path, which stays the reference (tests compare the two).

   Database wraps a Hyperscan block-mode database (Debian's libhyperscan, linked here): compiled from
   literals or patterns, written to and read from bytes for the engine's cache folder, scanned in C.
   Calling hs_scan from here, not through a Python binding, saves a Python call and argument parsing
   per scan and a Python call per literal found. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <emmintrin.h>
#include <string.h>
#include <hs/hs.h>

#define MAX_SHAPES 4096      /* engine.MAX_SHAPES */

/* ---- literal ids found by a scan ------------------------------------------------------------------ */

typedef struct {
    unsigned int *ids;
    Py_ssize_t n, cap;
    unsigned int stack[64];
    int failed; /* out of memory in the match handler */
} Found;

static void found_init(Found *f) {
    f->ids = f->stack;
    f->n = 0;
    f->cap = 64;
    f->failed = 0;
}

static void found_free(Found *f) {
    if (f->ids != f->stack) PyMem_RawFree(f->ids);
}

static int found_add(Found *f, unsigned int id) {
    if (f->n == f->cap) {
        Py_ssize_t cap = f->cap * 2;
        unsigned int *grown = PyMem_RawMalloc((size_t)cap * sizeof(unsigned int));
        if (grown == NULL) return -1;
        memcpy(grown, f->ids, (size_t)f->n * sizeof(unsigned int));
        if (f->ids != f->stack) PyMem_RawFree(f->ids);
        f->ids = grown;
        f->cap = cap;
    }
    f->ids[f->n++] = id;
    return 0;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                    void *context) {
    Found *f = context;
    if (found_add(f, id) < 0) {
        f->failed = 1;
        return 1; /* stop the scan */
    }
    return 0;
}

/* ---- Database: one Hyperscan block-mode database ------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    hs_database_t *db;
} Database;

static PyTypeObject DatabaseType;
static hs_scratch_t *scratch; /* this process's, grown to fit every database made or read */

static PyObject *hs_failure(const char *what, hs_error_t code) {
    PyErr_Format(PyExc_ValueError, "Hyperscan: %s failed (error %d)", what, (int)code);
    return NULL;
}

static PyObject *database_of(hs_database_t *db) {
    hs_error_t code = hs_alloc_scratch(db, &scratch);
    if (code != HS_SUCCESS) {
        hs_free_database(db);
        return hs_failure("allocating scratch space", code);
    }
    Database *self = PyObject_New(Database, &DatabaseType);
    if (self == NULL) {
        hs_free_database(db);
        return NULL;
    }
    self->db = db;
    return (PyObject *)self;
}

static void Database_dealloc(Database *self) {
    if (self->db != NULL) hs_free_database(self->db);
    PyObject_Free(self);
}

/* Database.compile(expressions, ids, flags, literal) */
static PyObject *Database_compile(PyObject *cls, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"expressions", "ids", "flags", "literal", NULL};
    PyObject *expressions, *ids, *flags;
    int literal;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!p", kwlist, &PyList_Type, &expressions, &PyList_Type, &ids,
                                     &PyList_Type, &flags, &literal))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(expressions);
    if (n == 0 || n > 1000000 || PyList_GET_SIZE(ids) != n || PyList_GET_SIZE(flags) != n) {
        PyErr_SetString(PyExc_ValueError, "expressions, ids and flags: lists of the same non-zero length");
        return NULL;
    }
    const char **texts = PyMem_Calloc((size_t)n, sizeof(char *));
    size_t *lens = PyMem_Calloc((size_t)n, sizeof(size_t));
    unsigned int *id_of = PyMem_Calloc((size_t)n, sizeof(unsigned int));
    unsigned int *flag_of = PyMem_Calloc((size_t)n, sizeof(unsigned int));
    PyObject *result = NULL;
    if (texts == NULL || lens == NULL || id_of == NULL || flag_of == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *text = PyList_GET_ITEM(expressions, k);
        if (!PyBytes_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "expressions: bytes");
            goto done;
        }
        texts[k] = PyBytes_AS_STRING(text);
        lens[k] = (size_t)PyBytes_GET_SIZE(text);
        if (!literal && strlen(texts[k]) != lens[k]) {
            PyErr_SetString(PyExc_ValueError, "a pattern holds a NUL byte: write it as \\x00");
            goto done;
        }
        unsigned long id = PyLong_AsUnsignedLong(PyList_GET_ITEM(ids, k));
        unsigned long flag = PyLong_AsUnsignedLong(PyList_GET_ITEM(flags, k));
        if (PyErr_Occurred()) goto done;
        if (id > UINT_MAX || flag > UINT_MAX) {
            PyErr_SetString(PyExc_ValueError, "an id or flag outside 32 bits");
            goto done;
        }
        id_of[k] = (unsigned int)id;
        flag_of[k] = (unsigned int)flag;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *error = NULL;
    hs_error_t code;
    if (literal)
        code = hs_compile_lit_multi(texts, flag_of, id_of, lens, (unsigned int)n, HS_MODE_BLOCK, NULL, &db, &error);
    else
        code = hs_compile_multi(texts, flag_of, id_of, (unsigned int)n, HS_MODE_BLOCK, NULL, &db, &error);
    if (code != HS_SUCCESS) {
        if (error != NULL) {
            PyErr_Format(PyExc_ValueError, "Hyperscan cannot compile expression %d: %s", error->expression,
                         error->message);
            hs_free_compile_error(error);
        } else {
            hs_failure("compiling", code);
        }
        goto done;
    }
    result = database_of(db);
done:
    PyMem_Free(texts);
    PyMem_Free(lens);
    PyMem_Free(id_of);
    PyMem_Free(flag_of);
    return result;
}

/* Database.load(data): a database written by dump(), by this Hyperscan on this CPU */
static PyObject *Database_load(PyObject *cls, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    hs_database_t *db = NULL;
    hs_error_t code = hs_deserialize_database(view.buf, (size_t)view.len, &db);
    PyBuffer_Release(&view);
    if (code != HS_SUCCESS) return hs_failure("reading a database", code);
    return database_of(db);
}

static PyObject *Database_dump(Database *self, PyObject *unused) {
    char *bytes = NULL;
    size_t length = 0;
    hs_error_t code = hs_serialize_database(self->db, &bytes, &length);
    if (code != HS_SUCCESS) return hs_failure("writing a database", code);
    PyObject *out = PyBytes_FromStringAndSize(bytes, (Py_ssize_t)length);
    free(bytes); /* hs_serialize_database allocates with the default allocator (malloc) */
    return out;
}

static int scan_into(Database *db, const char *data, Py_ssize_t length, Found *found) {
    if (length > UINT_MAX) {
        PyErr_SetString(PyExc_ValueError, "a haystack over 4 GiB");
        return -1;
    }
    hs_error_t code = hs_scan(db->db, data, (unsigned int)length, 0, scratch, on_match, found);
    if (found->failed) {
        PyErr_NoMemory();
        return -1;
    }
    if (code != HS_SUCCESS) {
        hs_failure("scanning", code);
        return -1;
    }
    return 0;
}

/* Database.scan(data, hits): appends to the list hits the id of each expression found in data (with
   HS_FLAG_SINGLEMATCH, once each) */
static PyObject *Database_scan(Database *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "scan(data, hits: list)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    Found found;
    found_init(&found);
    int failed = scan_into(self, view.buf, view.len, &found);
    PyBuffer_Release(&view);
    for (Py_ssize_t k = 0; !failed && k < found.n; k++) {
        PyObject *id = PyLong_FromUnsignedLong(found.ids[k]);
        if (id == NULL || PyList_Append(args[1], id) < 0) failed = 1;
        Py_XDECREF(id);
    }
    found_free(&found);
    if (failed) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Database_methods[] = {
    {"compile", (PyCFunction)(void (*)(void))Database_compile, METH_VARARGS | METH_KEYWORDS | METH_CLASS,
     "compile(expressions: list[bytes], ids: list[int], flags: list[int], literal: bool) -> Database\n\n"
     "A block-mode database of literals (literal=True) or patterns; ValueError names an expression\n"
     "Hyperscan refuses."},
    {"load", (PyCFunction)Database_load, METH_O | METH_CLASS,
     "load(data: bytes) -> Database: a database dump() wrote; ValueError when this Hyperscan cannot use it."},
    {"dump", (PyCFunction)Database_dump, METH_NOARGS, "dump() -> bytes: the database, for load()."},
    {"scan", (PyCFunction)(void (*)(void))Database_scan, METH_FASTCALL,
     "scan(data, hits: list[int]) -> None: appends the id of each expression found in data."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DatabaseType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "secaudit.detect._gates.Database",
    .tp_basicsize = sizeof(Database),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A Hyperscan block-mode database (Database.compile, Database.load).",
    .tp_dealloc = (destructor)Database_dealloc,
    .tp_methods = Database_methods,
};

/* ---- literals of up to a few bytes, each with the rules it lets through -------------------------- */

typedef struct {
    const char *bytes; /* into the Python bytes object kept in Gates.keep */
    Py_ssize_t len;
    Py_ssize_t start, stop; /* its rules: rules[start:stop] of the owning table */
} Short;

typedef struct {
    Py_ssize_t n;
    Short *items;
    int *rules;
} ShortTable;

/* a rule's second gate (engine._Second) */
typedef struct {
    Py_ssize_t n_ids;
    long *ids;
    ShortTable shorts; /* rules unused */
    Py_ssize_t n_keys;
    PyObject **keys; /* field, value, field, value, ... (borrowed from Gates.keep) */
} Second;

typedef struct {
    PyObject_HEAD
    Py_ssize_t n_rules;
    /* literal id -> the rules it is a first gate of: rules[start[id]:start[id + 1]] */
    Py_ssize_t n_lits;
    Py_ssize_t *own_start;
    int *own_rules;
    Py_ssize_t n_always;
    int *always;
    ShortTable shorts, shorts_wide;
    Second **second; /* by rule index; NULL: none */
    PyObject *read;          /* frozenset: the fields the group's rules name */
    PyObject *keys;          /* dict: field -> dict: lowercased value -> tuple of rule indexes */
    Database *fields_db;     /* field rules' ASCII literals over the read values, or NULL */
    Database *wide_db;       /* their non-ASCII literals, or NULL */
    Database *json_words_db; /* keyword literals in JSON form, or NULL */
    PyObject *words;         /* callable(fields, hits) -> None, or None: keyword literals over all values */
    PyObject *shapes;        /* dict: field names (tuple) -> (read names, keyed names), or None: Python path */
    PyObject *keep;          /* list of objects whose buffers the tables above point into */
    unsigned char *seen;     /* n_rules flags, all 0 between calls */
    int *found;              /* n_rules slots */
} Gates;

static PyObject *str_true, *str_false, *lower_name;

static void free_table(ShortTable *t) {
    PyMem_Free(t->items);
    PyMem_Free(t->rules);
    t->items = NULL;
    t->rules = NULL;
    t->n = 0;
}

static void Gates_dealloc(Gates *self) {
    PyMem_Free(self->own_start);
    PyMem_Free(self->own_rules);
    PyMem_Free(self->always);
    free_table(&self->shorts);
    free_table(&self->shorts_wide);
    if (self->second != NULL) {
        for (Py_ssize_t i = 0; i < self->n_rules; i++) {
            Second *s = self->second[i];
            if (s == NULL) continue;
            PyMem_Free(s->ids);
            free_table(&s->shorts);
            PyMem_Free(s->keys);
            PyMem_Free(s);
        }
        PyMem_Free(self->second);
    }
    PyMem_Free(self->seen);
    PyMem_Free(self->found);
    Py_XDECREF(self->read);
    Py_XDECREF(self->keys);
    Py_XDECREF(self->fields_db);
    Py_XDECREF(self->wide_db);
    Py_XDECREF(self->json_words_db);
    Py_XDECREF(self->words);
    Py_XDECREF(self->shapes);
    Py_XDECREF(self->keep);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A rule index from ``item``, checked against the group's rule count. */
static int rule_index(Gates *self, PyObject *item, int *out) {
    long value = PyLong_AsLong(item);
    if (value == -1 && PyErr_Occurred()) return -1;
    if (value < 0 || value >= self->n_rules) {
        PyErr_Format(PyExc_ValueError, "rule index %ld outside 0..%zd", value, self->n_rules - 1);
        return -1;
    }
    *out = (int)value;
    return 0;
}

/* ``seq``: a sequence of (bytes, tuple of rule indexes), or of bytes alone when ``with_rules`` is 0. */
static int load_table(Gates *self, PyObject *seq, ShortTable *t, int with_rules) {
    PyObject *fast = PySequence_Fast(seq, "a sequence of short literals");
    if (fast == NULL) return -1;
    if (PyList_Append(self->keep, fast) < 0) {
        Py_DECREF(fast);
        return -1;
    }
    Py_DECREF(fast); /* kept alive by self->keep */
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    t->n = n;
    t->items = PyMem_Calloc(n ? n : 1, sizeof(Short));
    if (t->items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, k);
        if (with_rules) {
            if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(item, 1))) {
                PyErr_SetString(PyExc_TypeError, "a short literal is (bytes, tuple of rule indexes)");
                return -1;
            }
            total += PyTuple_GET_SIZE(PyTuple_GET_ITEM(item, 1));
        }
    }
    t->rules = PyMem_Calloc(total ? total : 1, sizeof(int));
    if (t->rules == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, k);
        PyObject *literal = with_rules ? PyTuple_GET_ITEM(item, 0) : item;
        if (!PyBytes_Check(literal) || PyBytes_GET_SIZE(literal) == 0) {
            PyErr_SetString(PyExc_TypeError, "a short literal is a non-empty bytes object");
            return -1;
        }
        t->items[k].bytes = PyBytes_AS_STRING(literal);
        t->items[k].len = PyBytes_GET_SIZE(literal);
        t->items[k].start = at;
        if (with_rules) {
            PyObject *rules = PyTuple_GET_ITEM(item, 1);
            for (Py_ssize_t r = 0; r < PyTuple_GET_SIZE(rules); r++) {
                if (rule_index(self, PyTuple_GET_ITEM(rules, r), &t->rules[at++]) < 0) return -1;
            }
        }
        t->items[k].stop = at;
    }
    return 0;
}

static int load_second(Gates *self, PyObject *second) {
    if (!PyDict_Check(second)) {
        PyErr_SetString(PyExc_TypeError, "second gates: a dict of rule index -> (ids, short, keys)");
        return -1;
    }
    if (PyList_Append(self->keep, second) < 0) return -1;
    self->second = PyMem_Calloc(self->n_rules ? self->n_rules : 1, sizeof(Second *));
    if (self->second == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(second, &pos, &key, &value)) {
        int i;
        if (rule_index(self, key, &i) < 0) return -1;
        if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 3) {
            PyErr_SetString(PyExc_TypeError, "a second gate is (ids, short literals, (field, value) keys)");
            return -1;
        }
        Second *s = PyMem_Calloc(1, sizeof(Second));
        if (s == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->second[i] = s;
        PyObject *ids = PyTuple_GET_ITEM(value, 0), *shorts = PyTuple_GET_ITEM(value, 1);
        PyObject *keys = PyTuple_GET_ITEM(value, 2);
        if (!PyTuple_Check(ids) || !PyTuple_Check(keys)) {
            PyErr_SetString(PyExc_TypeError, "a second gate's ids and keys are tuples");
            return -1;
        }
        s->n_ids = PyTuple_GET_SIZE(ids);
        s->ids = PyMem_Calloc(s->n_ids ? s->n_ids : 1, sizeof(long));
        if (s->ids == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t k = 0; k < s->n_ids; k++) {
            s->ids[k] = PyLong_AsLong(PyTuple_GET_ITEM(ids, k));
            if (s->ids[k] == -1 && PyErr_Occurred()) return -1;
        }
        if (load_table(self, shorts, &s->shorts, 0) < 0) return -1;
        s->n_keys = PyTuple_GET_SIZE(keys);
        s->keys = PyMem_Calloc(2 * (s->n_keys ? s->n_keys : 1), sizeof(PyObject *));
        if (s->keys == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t k = 0; k < s->n_keys; k++) {
            PyObject *pair = PyTuple_GET_ITEM(keys, k);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 0))
                || !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 1))) {
                PyErr_SetString(PyExc_TypeError, "a second gate's key is (field, value), both str");
                return -1;
            }
            s->keys[2 * k] = PyTuple_GET_ITEM(pair, 0);
            s->keys[2 * k + 1] = PyTuple_GET_ITEM(pair, 1);
        }
    }
    return 0;
}

/* a Database argument, or None; -1 (TypeError) for anything else */
static int database_arg(PyObject *arg, const char *name, Database **out) {
    if (arg == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyObject_TypeCheck(arg, &DatabaseType)) {
        PyErr_Format(PyExc_TypeError, "%s: a Database or None", name);
        return -1;
    }
    *out = (Database *)Py_NewRef(arg);
    return 0;
}

static int Gates_init(Gates *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"rules", "always", "owners", "short", "short_wide", "second", "read", "keys",
                             "fields_db", "wide_db", "json_words_db", "words", NULL};
    Py_ssize_t n_rules;
    PyObject *always, *owners, *shorts, *shorts_wide, *second, *read, *keys, *fields_db, *wide_db;
    PyObject *json_words_db, *words;
    if (self->keep != NULL) {
        PyErr_SetString(PyExc_TypeError, "Gates is built once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nO!O!OOO!O!O!OOOO", kwlist, &n_rules, &PyTuple_Type, &always,
                                     &PyTuple_Type, &owners, &shorts, &shorts_wide, &PyDict_Type, &second,
                                     &PyFrozenSet_Type, &read, &PyDict_Type, &keys, &fields_db, &wide_db,
                                     &json_words_db, &words))
        return -1;
    if (n_rules < 0 || n_rules > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "rules: a rule count");
        return -1;
    }
    self->keep = PyList_New(0);
    if (self->keep == NULL) return -1;
    self->n_rules = n_rules;
    self->read = Py_NewRef(read);
    self->keys = Py_NewRef(keys);
    if (database_arg(fields_db, "fields_db", &self->fields_db) < 0
        || database_arg(wide_db, "wide_db", &self->wide_db) < 0
        || database_arg(json_words_db, "json_words_db", &self->json_words_db) < 0)
        return -1;
    if (words != Py_None && !PyCallable_Check(words)) {
        PyErr_SetString(PyExc_TypeError, "words: a callable or None");
        return -1;
    }
    self->words = Py_NewRef(words);
    self->shapes = PyDict_New();
    if (self->shapes == NULL) return -1;
    self->seen = PyMem_Calloc(n_rules ? n_rules : 1, 1);
    self->found = PyMem_Calloc(n_rules ? n_rules : 1, sizeof(int));
    if (self->seen == NULL || self->found == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->n_always = PyTuple_GET_SIZE(always);
    self->always = PyMem_Calloc(self->n_always ? self->n_always : 1, sizeof(int));
    if (self->always == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < self->n_always; k++) {
        if (rule_index(self, PyTuple_GET_ITEM(always, k), &self->always[k]) < 0) return -1;
    }
    self->n_lits = PyTuple_GET_SIZE(owners);
    self->own_start = PyMem_Calloc(self->n_lits + 1, sizeof(Py_ssize_t));
    if (self->own_start == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < self->n_lits; k++) {
        PyObject *rules = PyTuple_GET_ITEM(owners, k);
        if (!PyTuple_Check(rules)) {
            PyErr_SetString(PyExc_TypeError, "owners: a tuple of tuples of rule indexes");
            return -1;
        }
        self->own_start[k] = total;
        total += PyTuple_GET_SIZE(rules);
    }
    self->own_start[self->n_lits] = total;
    self->own_rules = PyMem_Calloc(total ? total : 1, sizeof(int));
    if (self->own_rules == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < self->n_lits; k++) {
        PyObject *rules = PyTuple_GET_ITEM(owners, k);
        for (Py_ssize_t r = 0; r < PyTuple_GET_SIZE(rules); r++) {
            if (rule_index(self, PyTuple_GET_ITEM(rules, r), &self->own_rules[self->own_start[k] + r]) < 0) return -1;
        }
    }
    if (load_table(self, shorts, &self->shorts, 1) < 0) return -1;
    if (load_table(self, shorts_wide, &self->shorts_wide, 1) < 0) return -1;
    if (load_second(self, second) < 0) return -1;
    return 0;
}

/* ---- per event ----------------------------------------------------------------------------------- */

/* (read names, keyed names) for this list of field names, or None: the Python path takes such events
   (a name with a space: the rules' view of the fields differs). A new reference, NULL on error. */
static PyObject *shape_of(Gates *self, PyObject *names) {
    PyObject *shape = PyDict_GetItemWithError(self->shapes, names);
    if (shape != NULL) return Py_NewRef(shape);
    if (PyErr_Occurred()) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *name = PyTuple_GET_ITEM(names, k);
        if (!PyUnicode_CheckExact(name) || PyUnicode_FindChar(name, ' ', 0, PyUnicode_GET_LENGTH(name), 1) != -1) {
            shape = Py_NewRef(Py_None);
            goto store;
        }
    }
    PyObject *read = PyList_New(0), *keyed = PyList_New(0);
    if (read == NULL || keyed == NULL) goto fail;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *name = PyTuple_GET_ITEM(names, k);
        int in_read = PySet_Contains(self->read, name);
        if (in_read < 0) goto fail;
        if (in_read && PyList_Append(read, name) < 0) goto fail;
        int in_keys = PyDict_Contains(self->keys, name);
        if (in_keys < 0) goto fail;
        if (in_keys && PyList_Append(keyed, name) < 0) goto fail;
    }
    PyObject *read_t = PyList_AsTuple(read), *keyed_t = PyList_AsTuple(keyed);
    Py_DECREF(read);
    Py_DECREF(keyed);
    read = keyed = NULL;
    if (read_t == NULL || keyed_t == NULL) {
        Py_XDECREF(read_t);
        Py_XDECREF(keyed_t);
        return NULL;
    }
    shape = PyTuple_Pack(2, read_t, keyed_t);
    Py_DECREF(read_t);
    Py_DECREF(keyed_t);
    if (shape == NULL) return NULL;
store:
    if (PyDict_GET_SIZE(self->shapes) >= MAX_SHAPES) PyDict_Clear(self->shapes);
    if (PyDict_SetItem(self->shapes, names, shape) < 0) {
        Py_DECREF(shape);
        return NULL;
    }
    return shape;
fail:
    Py_XDECREF(read);
    Py_XDECREF(keyed);
    return NULL;
}

/* 0xff in each byte of ``chunk`` that is an ASCII capital, for bytes below 0x80 */
static inline __m128i capitals_of(__m128i chunk) {
    return _mm_and_si128(_mm_cmpgt_epi8(chunk, _mm_set1_epi8('A' - 1)), _mm_cmplt_epi8(chunk, _mm_set1_epi8('Z' + 1)));
}

/* str(value).lower() for a str, int, float or bool (exact types); NULL without an error set: another
   kind of value (the Python path takes the event). */
static PyObject *lowered_text(PyObject *value) {
    PyObject *text;
    if (PyUnicode_CheckExact(value)) {
        text = Py_NewRef(value);
    } else if (value == Py_True) {
        return Py_NewRef(str_true); /* str(True) is "True"; lowered, text_of's "true" */
    } else if (value == Py_False) {
        return Py_NewRef(str_false);
    } else if (PyLong_CheckExact(value) || PyFloat_CheckExact(value)) {
        text = PyObject_Str(value);
        if (text == NULL) return NULL;
    } else {
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        PyObject *low = PyObject_CallMethodNoArgs(text, lower_name);
        Py_DECREF(text);
        return low;
    }
    /* ASCII: sixteen bytes at a time (SSE2; every byte is below 0x80, so signed compares hold) */
    const Py_UCS1 *data = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), k = 0;
    for (; k + 16 <= len; k += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(data + k));
        unsigned int capitals = (unsigned int)_mm_movemask_epi8(capitals_of(chunk));
        if (capitals) {
            k += __builtin_ctz(capitals);
            break;
        }
    }
    while (k < len && !(data[k] >= 'A' && data[k] <= 'Z')) k++;
    if (k == len) return text; /* nothing to lower: the same object */
    PyObject *low = PyUnicode_New(len, 127);
    if (low == NULL) {
        Py_DECREF(text);
        return NULL;
    }
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(low);
    memcpy(out, data, k);
    const __m128i bit = _mm_set1_epi8(0x20);
    for (; k + 16 <= len; k += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(data + k));
        _mm_storeu_si128((__m128i *)(out + k), _mm_or_si128(chunk, _mm_and_si128(capitals_of(chunk), bit)));
    }
    for (; k < len; k++) {
        Py_UCS1 c = data[k];
        out[k] = (c >= 'A' && c <= 'Z') ? (Py_UCS1)(c + 32) : c;
    }
    Py_DECREF(text);
    return low;
}

static inline void add(Gates *self, Py_ssize_t *count, int rule) {
    if (!self->seen[rule]) {
        self->seen[rule] = 1;
        self->found[(*count)++] = rule;
    }
}

/* whether the literal is in the haystack: memchr (vectorised) to each place its first byte is, for
   the one- and two-byte literals that stay out of Hyperscan (glibc's memmem takes them byte by byte) */
static inline int has(const char *hay, Py_ssize_t hay_len, const Short *s) {
    if (s->len > 2) return memmem(hay, (size_t)hay_len, s->bytes, (size_t)s->len) != NULL;
    const char *at = hay, *end = hay + hay_len;
    const char first = s->bytes[0];
    while (at < end && (at = memchr(at, first, (size_t)(end - at))) != NULL) {
        if (s->len == 1 || (at + 1 < end && at[1] == s->bytes[1])) return 1;
        at++;
    }
    return 0;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* Whether the u or / at ``at`` (after a backslash) ends a \u or \/ escape: the run of backslashes
   before it has an odd length. */
static inline int escapes(const unsigned char *bytes, Py_ssize_t at) {
    Py_ssize_t start = at - 1;
    while (start > 0 && bytes[start - 1] == '\\') start--;
    return (at - start) & 1;
}

/* JSON text in which every string value is written as itself but for the escapes of \\, ", \n, \r,
   \t, \b and \f: no byte above 0x7f, and no \u or \/ escape (a \ that ends a run of odd length
   before u or /). Keyword literals in that form are then found in the line as they are in the
   lowercased values, ASCII letters in either case. */
static int plain_json(const char *data, Py_ssize_t length) {
    /* Sixteen bytes at a time (SSE2, which every x86-64 has): a byte above 0x7f ends it; a u or a /
       right after a backslash (rare) has the run before it counted. */
    const unsigned char *bytes = (const unsigned char *)data;
    const __m128i backslash = _mm_set1_epi8('\\'), u = _mm_set1_epi8('u'), slash = _mm_set1_epi8('/');
    unsigned int carry = 0; /* 1: the byte before this step is a backslash */
    Py_ssize_t k = 0;
    for (; k + 16 <= length; k += 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)(bytes + k));
        if (_mm_movemask_epi8(chunk)) return 0;
        unsigned int back = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash));
        unsigned int ends = (unsigned int)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(chunk, u), _mm_cmpeq_epi8(chunk, slash)));
        for (unsigned int after = ends & ((back << 1) | carry); after; after &= after - 1)
            if (escapes(bytes, k + __builtin_ctz(after))) return 0;
        carry = back >> 15;
    }
    for (; k < length; k++) {
        if (bytes[k] & 0x80) return 0;
        if ((bytes[k] == 'u' || bytes[k] == '/') && k > 0 && bytes[k - 1] == '\\' && escapes(bytes, k)) return 0;
    }
    return 1;
}

static PyObject *plain_json_py(PyObject *module, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    int plain = plain_json(view.buf, view.len);
    PyBuffer_Release(&view);
    return PyBool_FromLong(plain);
}

/* words(fields, hits): the keyword literals found in all of the event's values (Python), into found */
static int all_values(Gates *self, PyObject *fields, Found *found) {
    PyObject *hits = PyList_New(0);
    if (hits == NULL) return -1;
    PyObject *rv = PyObject_CallFunctionObjArgs(self->words, fields, hits, NULL);
    int failed = rv == NULL;
    Py_XDECREF(rv);
    for (Py_ssize_t k = 0; !failed && k < PyList_GET_SIZE(hits); k++) {
        unsigned long id = PyLong_AsUnsignedLong(PyList_GET_ITEM(hits, k));
        if (PyErr_Occurred() || id > UINT_MAX) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "a literal id outside 32 bits");
            failed = 1;
        } else if (found_add(found, (unsigned int)id) < 0) {
            PyErr_NoMemory();
            failed = 1;
        }
    }
    Py_DECREF(hits);
    return failed ? -1 : 0;
}

static PyObject *Gates_candidates(Gates *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "candidates(fields, text)");
        return NULL;
    }
    if (self->keep == NULL) {
        PyErr_SetString(PyExc_TypeError, "Gates not built");
        return NULL;
    }
    PyObject *fields = args[0], *text = args[1];
    if (!PyDict_CheckExact(fields) || (text != Py_None && !PyBytes_CheckExact(text))) Py_RETURN_NONE;
    Py_ssize_t n_all = PyDict_GET_SIZE(fields);
    PyObject *names = PyTuple_New(n_all);
    if (names == NULL) return NULL;
    {
        PyObject *key, *value;
        Py_ssize_t pos = 0, k = 0;
        while (PyDict_Next(fields, &pos, &key, &value) && k < n_all) PyTuple_SET_ITEM(names, k++, Py_NewRef(key));
    }
    PyObject *shape = shape_of(self, names);
    Py_DECREF(names);
    if (shape == NULL) return NULL;
    if (shape == Py_None) return shape;

    PyObject *result = NULL, *low = NULL, *out = NULL;
    PyObject *read = PyTuple_GET_ITEM(shape, 0), *keyed = PyTuple_GET_ITEM(shape, 1);
    Py_ssize_t n = PyTuple_GET_SIZE(read), count = 0;
    PyObject *stack_values[64];
    PyObject **values = n <= 64 ? stack_values : PyMem_Calloc(n, sizeof(PyObject *));
    char stack_hay[4096];
    char *hay = stack_hay;
    Found found;
    found_init(&found);
    if (values == NULL) {
        Py_DECREF(shape);
        return PyErr_NoMemory();
    }
    Py_ssize_t made = 0;
    /* the read values, lowercased: into ``low``, and joined by NUL into ``hay`` (UTF-8) */
    Py_ssize_t total = n > 0 ? n - 1 : 0;
    int plain = 1;
    for (; made < n; made++) {
        PyObject *value = PyDict_GetItemWithError(fields, PyTuple_GET_ITEM(read, made));
        if (value == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_KeyError, "a read field went missing");
            goto done;
        }
        PyObject *lowered = lowered_text(value);
        if (lowered == NULL) {
            if (PyErr_Occurred()) goto done;
            result = Py_NewRef(Py_None); /* a null, a list, ...: the Python path */
            goto done;
        }
        values[made] = lowered;
        if (PyUnicode_IS_ASCII(lowered)) {
            total += PyUnicode_GET_LENGTH(lowered);
        } else {
            Py_ssize_t size;
            plain = 0;
            if (PyUnicode_AsUTF8AndSize(lowered, &size) == NULL) { /* a lone surrogate */
                PyErr_Clear();
                result = Py_NewRef(Py_None);
                made++;
                goto done;
            }
            total += size;
        }
    }
    low = PyDict_New();
    if (low == NULL) goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (PyDict_SetItem(low, PyTuple_GET_ITEM(read, k), values[k]) < 0) goto done;
    }
    if (total > (Py_ssize_t)sizeof(stack_hay)) {
        hay = PyMem_Malloc((size_t)total);
        if (hay == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    {
        char *at = hay;
        for (Py_ssize_t k = 0; k < n; k++) {
            const char *data;
            Py_ssize_t size;
            if (PyUnicode_IS_ASCII(values[k])) {
                data = (const char *)PyUnicode_1BYTE_DATA(values[k]);
                size = PyUnicode_GET_LENGTH(values[k]);
            } else {
                data = PyUnicode_AsUTF8AndSize(values[k], &size);
            }
            if (k) *at++ = '\0';
            memcpy(at, data, (size_t)size);
            at += size;
        }
    }
    const char *hay_data = hay;
    Py_ssize_t hay_len = total;

    /* first gates: literals (Hyperscan, then the short ones), then (field, value) keys */
    if (self->fields_db != NULL && scan_into(self->fields_db, hay_data, hay_len, &found) < 0) goto done;
    if (!plain && self->wide_db != NULL && scan_into(self->wide_db, hay_data, hay_len, &found) < 0) goto done;
    if (self->words != Py_None) {
        if (text != Py_None && plain_json(PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))) {
            if (self->json_words_db != NULL
                && scan_into(self->json_words_db, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text), &found) < 0)
                goto done;
        } else if (all_values(self, fields, &found) < 0) { /* no line, or one not showing every value */
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < self->n_always; k++) add(self, &count, self->always[k]);
    for (Py_ssize_t k = 0; k < found.n; k++) {
        unsigned int id = found.ids[k];
        if (id >= (unsigned int)self->n_lits) {
            PyErr_Format(PyExc_ValueError, "literal id %u outside the group", id);
            goto unmark;
        }
        for (Py_ssize_t r = self->own_start[id]; r < self->own_start[id + 1]; r++) add(self, &count, self->own_rules[r]);
    }
    for (Py_ssize_t k = 0; k < self->shorts.n; k++) {
        const Short *s = &self->shorts.items[k];
        if (has(hay_data, hay_len, s))
            for (Py_ssize_t r = s->start; r < s->stop; r++) add(self, &count, self->shorts.rules[r]);
    }
    if (!plain) {
        for (Py_ssize_t k = 0; k < self->shorts_wide.n; k++) {
            const Short *s = &self->shorts_wide.items[k];
            if (has(hay_data, hay_len, s))
                for (Py_ssize_t r = s->start; r < s->stop; r++) add(self, &count, self->shorts_wide.rules[r]);
        }
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keyed); k++) {
        PyObject *field = PyTuple_GET_ITEM(keyed, k);
        PyObject *value = PyDict_GetItemWithError(low, field);
        if (value == NULL) {
            if (PyErr_Occurred()) goto unmark;
            continue;
        }
        PyObject *index = PyDict_GetItemWithError(self->keys, field);
        if (index == NULL) {
            if (PyErr_Occurred()) goto unmark;
            continue;
        }
        PyObject *rules = PyDict_GetItemWithError(index, value);
        if (rules == NULL) {
            if (PyErr_Occurred()) goto unmark;
            continue;
        }
        for (Py_ssize_t r = 0; r < PyTuple_GET_SIZE(rules); r++) {
            int i;
            if (rule_index(self, PyTuple_GET_ITEM(rules, r), &i) < 0) goto unmark;
            add(self, &count, i);
        }
    }
    if (count > 1) qsort(self->found, (size_t)count, sizeof(int), cmp_int);
    /* second gates, on the rules the first ones let through */
    out = PyList_New(0);
    if (out == NULL) goto unmark;
    for (Py_ssize_t k = 0; k < count; k++) {
        int i = self->found[k];
        const Second *s = self->second[i];
        int passes = s == NULL;
        for (Py_ssize_t a = 0; !passes && a < s->n_ids; a++)
            for (Py_ssize_t b = 0; b < found.n; b++)
                if ((long)found.ids[b] == s->ids[a]) {
                    passes = 1;
                    break;
                }
        for (Py_ssize_t a = 0; !passes && a < s->shorts.n; a++) passes = has(hay_data, hay_len, &s->shorts.items[a]);
        for (Py_ssize_t a = 0; !passes && a < s->n_keys; a++) {
            PyObject *have = PyDict_GetItemWithError(low, s->keys[2 * a]);
            if (have == NULL) {
                if (PyErr_Occurred()) goto unmark;
                continue;
            }
            int equal = PyUnicode_Compare(have, s->keys[2 * a + 1]) == 0;
            if (PyErr_Occurred()) goto unmark;
            passes = equal;
        }
        if (passes) {
            PyObject *index = PyLong_FromLong(i);
            if (index == NULL || PyList_Append(out, index) < 0) {
                Py_XDECREF(index);
                goto unmark;
            }
            Py_DECREF(index);
        }
    }
    result = PyTuple_Pack(3, fields, low, out);
unmark:
    for (Py_ssize_t k = 0; k < count; k++) self->seen[self->found[k]] = 0;
done:
    for (Py_ssize_t k = 0; k < made; k++) Py_XDECREF(values[k]);
    if (values != stack_values) PyMem_Free(values);
    if (hay != stack_hay) PyMem_Free(hay);
    found_free(&found);
    Py_XDECREF(low);
    Py_XDECREF(out);
    Py_DECREF(shape);
    return result;
}

static PyMethodDef Gates_methods[] = {
    {"candidates", (PyCFunction)(void (*)(void))Gates_candidates, METH_FASTCALL,
     "candidates(fields, text) -> (fields, low, rule indexes) | None\n\n"
     "The read fields lowercased and the rules the gates let through, in rule order; None when the\n"
     "event needs the Python path (a space in a field name, a value that is not str, int, float or\n"
     "bool, a lone surrogate)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject GatesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "secaudit.detect._gates.Gates",
    .tp_basicsize = sizeof(Gates),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One rule group's gates (engine._Group), for the per-event step.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Gates_init,
    .tp_dealloc = (destructor)Gates_dealloc,
    .tp_methods = Gates_methods,
};


static PyMethodDef module_methods[] = {
    {"plain_json", (PyCFunction)plain_json_py, METH_O,
     "plain_json(text: bytes) -> bool: no non-ASCII byte and no \\u or \\/ escape in this JSON text."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_gates", "The per-event gate step of secaudit.detect.engine, compiled.", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__gates(void) {
    if (hs_valid_platform() != HS_SUCCESS) {
        PyErr_SetString(PyExc_ImportError, "Hyperscan needs an x86-64 CPU with SSSE3");
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyType_Ready(&GatesType) < 0 || PyModule_AddObjectRef(m, "Gates", (PyObject *)&GatesType) < 0) goto fail;
    if (PyType_Ready(&DatabaseType) < 0 || PyModule_AddObjectRef(m, "Database", (PyObject *)&DatabaseType) < 0)
        goto fail;
    lower_name = PyUnicode_InternFromString("lower");
    str_true = PyUnicode_InternFromString("true");
    str_false = PyUnicode_InternFromString("false");
    if (lower_name == NULL || str_true == NULL || str_false == NULL) goto fail;
    if (PyModule_AddIntConstant(m, "CASELESS", HS_FLAG_CASELESS) < 0
        || PyModule_AddIntConstant(m, "SINGLEMATCH", HS_FLAG_SINGLEMATCH) < 0
        || PyModule_AddStringConstant(m, "HYPERSCAN_VERSION", hs_version()) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
