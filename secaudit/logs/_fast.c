/* Two steps of secaudit.logs that run for every line or every event, compiled.

   count_range: the hunt numbers the first line of each piece of a large file before its workers
   start, so counting newlines runs on its critical path. bytes.count(b"\n") looks at every byte;
   memchr skips to the next newline with vector instructions (about four times as fast on 2.4 KB
   lines). The whole range is read and counted in one call without the GIL, so the hunt can cut its
   inputs in a thread while its rules load.

   value_kinds: what set(map(type, d.values())) told the flat JSON reader, without building the set:
   whether a value is a dict (the event is flattened) and whether one is not a str, int, bool or
   null (the event does not keep its JSON text, LogEvent.text). Those four are the types whose text,
   str() lowercased, is in the JSON they were read from as written there: not floats (1e3 reads
   "1000.0"), not objects or lists, whatever they hold. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <strings.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static PyObject *count_range(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "count_range(fd, start, end): the newlines in bytes start..end of a file");
        return NULL;
    }
    int fd = PyObject_AsFileDescriptor(args[0]);
    if (fd < 0) return NULL;
    long long start = PyLong_AsLongLong(args[1]), end = PyLong_AsLongLong(args[2]);
    if ((start == -1 || end == -1) && PyErr_Occurred()) return NULL;
    if (start < 0 || end < start) {
        PyErr_Format(PyExc_ValueError, "byte range %lld..%lld: need 0 <= start <= end", start, end);
        return NULL;
    }
    enum { BLOCK = 1 << 20 };
    char *block = PyMem_RawMalloc(BLOCK);
    if (block == NULL) return PyErr_NoMemory();
    long long found = 0;
    int error = 0;
    /* one call for the whole range, without the GIL: the hunt counts while its rules load */
    Py_BEGIN_ALLOW_THREADS
    for (off_t at = (off_t)start; at < (off_t)end;) {
        size_t want = (size_t)((off_t)end - at < BLOCK ? (off_t)end - at : BLOCK);
        ssize_t got = pread(fd, block, want, at);
        if (got < 0) {
            if (errno == EINTR) continue;
            error = errno;
            break;
        }
        if (got == 0) break; /* the file ends before end */
        for (const char *p = block, *stop = block + got; (p = memchr(p, '\n', (size_t)(stop - p))) != NULL; p++)
            found++;
        at += got;
    }
    Py_END_ALLOW_THREADS
    PyMem_RawFree(block);
    if (error) {
        errno = error;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromLongLong(found);
}

#define HAS_DICT 1 /* a value of type dict */
#define NOT_TEXT 2 /* a value whose type is not exactly str, int, bool or NoneType */

static PyObject *value_kinds(PyObject *module, PyObject *arg) {
    if (!PyDict_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "value_kinds(d: dict)");
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long kinds = 0;
    while (PyDict_Next(arg, &pos, &key, &value)) {
        PyTypeObject *type = Py_TYPE(value);
        if (type == &PyUnicode_Type || type == &PyLong_Type || type == &PyBool_Type || value == Py_None) continue;
        kinds |= NOT_TEXT;
        if (type == &PyDict_Type) kinds |= HAS_DICT;
    }
    return PyLong_FromLong(kinds);
}

/* Interned names, set up with the module. */
static PyObject *s_TimeCreated, *s_MESSAGE, *s_REALTIME, *s_EventID, *s_Channel, *s_Provider_Name, *s_Computer,
    *s_EventRecordID, *s_RecordNumber, *s_empty;

static int two_digits(const char *s, int *out) {
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return 0;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SS[.digits]Z", the form Windows writes, as an aware datetime in UTC, digits past
   the sixth dropped (as datetime.fromisoformat drops them). NULL, with no error set, for any other
   text, or one that names no instant (24:00, February 30): windows.parse_time decides those. */
static PyObject *utc_time(PyObject *text) {
    if (!PyUnicode_IS_ASCII(text)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const char *s = (const char *)PyUnicode_1BYTE_DATA(text);
    if (n < 20 || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return NULL;
    int century, year, month, day, hour, minute, second, micro = 0;
    if (!two_digits(s, &century) || !two_digits(s + 2, &year) || !two_digits(s + 5, &month) ||
        !two_digits(s + 8, &day) || !two_digits(s + 11, &hour) || !two_digits(s + 14, &minute) ||
        !two_digits(s + 17, &second))
        return NULL;
    if (n > 20) {
        if (s[19] != '.' || n == 21) return NULL; /* a fraction: a dot and at least one digit */
        int scale = 100000;
        for (Py_ssize_t k = 20; k < n - 1; k++) {
            if (s[k] < '0' || s[k] > '9') return NULL;
            micro += (s[k] - '0') * scale;
            scale /= 10;
        }
    }
    PyObject *stamp = PyDateTimeAPI->DateTime_FromDateAndTime(century * 100 + year, month, day, hour, minute, second,
                                                              micro, PyDateTime_TimeZone_UTC,
                                                              PyDateTimeAPI->DateTimeType);
    if (stamp == NULL) PyErr_Clear(); /* out of range: parse_time says so its way */
    return stamp;
}

/* 1: "Security" as windows.windows_event tells it (equal, or eight letters that lower to it); 0: not;
   -1: undecided here (eight characters, not all ASCII). */
static int security_channel(PyObject *channel) {
    if (PyUnicode_GET_LENGTH(channel) != 8) return 0;
    if (!PyUnicode_IS_ASCII(channel)) return -1;
    return strncasecmp((const char *)PyUnicode_1BYTE_DATA(channel), "security", 8) == 0;
}

/* flat_windows_event(kinds, aliases, parse_time, event_type, kind, source, fields, line, record)
   (the first six bound once per reading, windows.flat_windows_step):
   jsonlogs.flat_event for a flat Windows event in the usual shape, in one call: every value a str,
   int, float, bool or null; TimeCreated a str; EventID an int; Channel and Provider_Name strs;
   Computer there; EventRecordID there or RecordNumber not; not Security event 4657. Security events
   get their taxonomy aliases (``aliases``: windows.security_aliases()[0], None while not loaded,
   which leaves them to Python); the LogKind is ``kind``, else the one ``kinds`` (windows._KINDS)
   holds. None, with ``fields`` untouched, for any other event: flat_event then reads it. */
static PyObject *flat_windows_event(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "flat_windows_event(kinds, aliases, parse_time, event_type, kind, "
                                         "source, fields, line, record)");
        return NULL;
    }
    PyObject *kinds = args[0], *aliases = args[1], *parse_time = args[2], *kind = args[4], *source = args[5];
    PyObject *fields = args[6], *line = args[7], *record = args[8];
    PyTypeObject *event_type = (PyTypeObject *)args[3];
    if (!PyDict_CheckExact(fields) || !PyDict_Check(kinds) || !PyType_Check(args[3]) ||
        !PyType_IsSubtype(event_type, &PyTuple_Type))
        Py_RETURN_NONE;
    int plain = 1; /* every value a str, int, bool or null: the line is the event's text */
    {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(fields, &pos, &key, &value)) {
            PyTypeObject *type = Py_TYPE(value);
            if (type == &PyUnicode_Type || type == &PyLong_Type || type == &PyBool_Type || value == Py_None) continue;
            if (type != &PyFloat_Type) Py_RETURN_NONE; /* a dict to flatten, a list: Python reads it */
            plain = 0;
        }
    }
    PyObject *time_text = PyDict_GetItemWithError(fields, s_TimeCreated);
    if (time_text == NULL || !PyUnicode_CheckExact(time_text)) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *raw_id = PyDict_GetItemWithError(fields, s_EventID);
    PyObject *channel = raw_id ? PyDict_GetItemWithError(fields, s_Channel) : NULL;
    PyObject *provider = channel ? PyDict_GetItemWithError(fields, s_Provider_Name) : NULL;
    if (PyErr_Occurred()) return NULL;
    if (provider == NULL || !PyLong_CheckExact(raw_id) || !PyUnicode_CheckExact(channel) ||
        !PyUnicode_CheckExact(provider))
        Py_RETURN_NONE;
    int journald = PyDict_Contains(fields, s_MESSAGE), computer = PyDict_Contains(fields, s_Computer);
    int record_id = PyDict_Contains(fields, s_EventRecordID), number = PyDict_Contains(fields, s_RecordNumber);
    if (journald < 0 || computer < 0 || record_id < 0 || number < 0) return NULL;
    if (journald) {
        journald = PyDict_Contains(fields, s_REALTIME);
        if (journald < 0) return NULL;
    }
    if (journald || !computer || (!record_id && number)) Py_RETURN_NONE;
    int security = security_channel(channel);
    if (security < 0) Py_RETURN_NONE;
    if (security) {
        int overflow;
        long event_id = PyLong_AsLongAndOverflow(raw_id, &overflow);
        if (event_id == -1 && PyErr_Occurred()) return NULL;
        if ((event_id == 4657 && !overflow) || !PyDict_Check(aliases)) Py_RETURN_NONE;
    }
    if (kind == Py_None) {
        PyObject *key = PyTuple_Pack(4, channel, provider, raw_id, s_empty);
        if (key == NULL) return NULL;
        kind = PyDict_GetItemWithError(kinds, key);
        Py_DECREF(key);
        if (kind == NULL) {
            if (PyErr_Occurred()) return NULL;
            Py_RETURN_NONE; /* a kind not met yet: windows_kind makes it */
        }
    }
    PyObject *stamp = utc_time(time_text);
    if (stamp == NULL) {
        stamp = PyObject_CallOneArg(parse_time, time_text);
        if (stamp == NULL) return NULL;
    }
    if (security) { /* copies of values under their Sigma names, in the table's order */
        PyObject *name, *alias;
        Py_ssize_t pos = 0;
        while (PyDict_Next(aliases, &pos, &name, &alias)) {
            PyObject *value = PyDict_GetItemWithError(fields, name);
            int has = value ? PyDict_Contains(fields, alias) : 0;
            int failed = (value == NULL && PyErr_Occurred()) || has < 0;
            if (failed || (value != NULL && !has && PyDict_SetItem(fields, alias, value) < 0)) {
                Py_DECREF(stamp);
                return NULL;
            }
        }
    }
    PyObject *event = event_type->tp_alloc(event_type, 6);
    if (event == NULL) {
        Py_DECREF(stamp);
        return NULL;
    }
    PyTuple_SET_ITEM(event, 0, Py_NewRef(fields));
    PyTuple_SET_ITEM(event, 1, Py_NewRef(kind));
    PyTuple_SET_ITEM(event, 2, Py_NewRef(source));
    PyTuple_SET_ITEM(event, 3, Py_NewRef(record));
    PyTuple_SET_ITEM(event, 4, stamp);
    PyTuple_SET_ITEM(event, 5, Py_NewRef(plain ? line : Py_None));
    return event;
}

static PyMethodDef methods[] = {
    {"count_range", (PyCFunction)(void (*)(void))count_range, METH_FASTCALL,
     "count_range(fd, start, end) -> int: the newline bytes in bytes start..end of the open file fd\n"
     "(to its end if it is shorter), read without the GIL."},
    {"value_kinds", (PyCFunction)value_kinds, METH_O,
     "value_kinds(d: dict) -> int: HAS_DICT when a value is a dict, NOT_TEXT when one is not exactly\n"
     "a str, int, bool or None (0: all are)."},
    {"flat_windows_event", (PyCFunction)(void (*)(void))flat_windows_event, METH_FASTCALL,
     "flat_windows_event(kinds, aliases, parse_time, event_type, kind, source, fields, line, record)\n"
     "-> LogEvent | None: jsonlogs.flat_event for a flat Windows event in the usual shape; None for\n"
     "any other (fields untouched)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fast", "Steps of secaudit.logs run for every line or event, compiled.", -1, methods,
};

static PyObject *intern(const char *text) { return PyUnicode_InternFromString(text); }

PyMODINIT_FUNC PyInit__fast(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    if ((s_TimeCreated = intern("TimeCreated")) == NULL || (s_MESSAGE = intern("MESSAGE")) == NULL ||
        (s_REALTIME = intern("__REALTIME_TIMESTAMP")) == NULL || (s_EventID = intern("EventID")) == NULL ||
        (s_Channel = intern("Channel")) == NULL || (s_Provider_Name = intern("Provider_Name")) == NULL ||
        (s_Computer = intern("Computer")) == NULL || (s_EventRecordID = intern("EventRecordID")) == NULL ||
        (s_RecordNumber = intern("RecordNumber")) == NULL || (s_empty = intern("")) == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "HAS_DICT", HAS_DICT) < 0 || PyModule_AddIntConstant(m, "NOT_TEXT", NOT_TEXT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
