"""The survey import: the education bureau's .xlsx / .csv files into the talent database.

Flow: ``files.check_file`` (extension, size, zip-bomb limits) -> ``run.survey_batch_start``
(find the unfinished batch of the same file and source, or create one) ->
``run.survey_import_run`` (read the rows, process them in chunks, write the rejected rows
file, audit once).

Each chunk (``run.DEFAULT_CHUNK_SIZE`` rows) is one transaction (``chunks.process_chunk``):
its talents, phones, educations, destinations, value changes and ``ImportRow`` outcomes are
written together with the batch's counters and ``rows_done``. A crash or kill loses at most
the chunk in flight, and running the same file with the same source again resumes after
``rows_done``. ``rows_done`` counts data rows (non-blank rows below the header), so a resume
may use another chunk size.

Look-ups are done per chunk in a handful of queries (talents by ID blind index, then by name
and phone blind index, keeping only talents whose name and phone both match a row; their
phones, educations, destinations and open conflicts), read as plain rows of the columns the
chunk uses (``chunks.Loaded``, not model instances: a re-import finds every talent), and
writes are bulk operations
(``writer``, through ``qinghe.core.bulk``; each encrypted column is encrypted in one
``encrypt_many`` call). On SQLite the run uses a larger page cache and rarer WAL checkpoints
(``run._sqlite_bulk_pragmas``, restored afterwards). Reference data is matched in
memory (``normalize.ReferenceIndex``). A fresh run of a long .xlsx sheet starts on its
first chunks read from the sheet's head (``qinghe.talents.xlsxhead``: calamine reads a sheet
whole before it gives a row) while the parsing process reads the rest of the sheet; nothing
commits before that rest is found to follow the head (``reader.ReadAhead.confirm``), and the
run starts again from the whole sheet where it does not. The rows are parsed a chunk ahead in
a forked process on the other core (``reader.ForkedParser``, from the second chunk on: the
read-ahead thread parses the first meanwhile; in the read-ahead thread alone where there is
no fork), the file's last chunk in two halves (nothing overlaps the last writes),
and a background thread receives them while the database works on this chunk's writes
(``reader.ReadAhead``). Outside a transaction, on PostgreSQL and on an SQLite file in WAL
mode, chunks overlap: a writer thread runs each chunk's transaction on its own connection,
from writes the calling thread built (the COPYs' data in binary format, ``writer.CopyLater``;
SQLite's rows, ``writer.SqliteLater``, with keys from blocks reserved ahead,
``writer.KeyPool``), while the calling thread looks up and matches the next chunk with the
previous one's talents overlaid on what the database says (``chunks.Overlay``,
``run._run_overlapped``); at most one chunk is in flight, and its batch row is claimed in
its own transaction as before.

Modules: ``files`` (checks, digest, opening the table), ``reader`` (parsing, the parser
process and the read-ahead thread), ``chunks`` (one chunk against the database), ``writer`` (bulk inserts),
``rejected`` (the rejected rows file), ``run`` (batches, the run with resume). The batch
list and the rejected-file download are reads: ``qinghe.talents.selectors``.

Nothing here logs an ID number or a phone: only batch ids and counts. Import from the topic
module; the names below are re-exported only for the import pages (``views_import``)."""

from ..selectors import import_batch_get_for_viewer, import_batch_list, import_rejected_open
from .files import MAX_UPLOAD_BYTES, ImportFileError, check_size, file_kind
from .run import survey_upload

__all__ = [
    "MAX_UPLOAD_BYTES",
    "ImportFileError",
    "check_size",
    "file_kind",
    "import_batch_get_for_viewer",
    "import_batch_list",
    "import_rejected_open",
    "survey_upload",
]
