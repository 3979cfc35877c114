#pragma once

#include <string>

namespace tfreeze {

// The text a user gives a run after it ran: its name (one line, shown in `runs list`'s table and
// the studio's list) and its notes (free text, shown by `runs show` and the studio, which may span
// lines). Both must be valid UTF-8 without control characters: a line break in a name splits the
// list's row, an escape sequence would drive the terminal that prints it. Notes may hold line breaks
// and tabs.

// Throws InputError("run name", "", reason) for an empty or white-space-only name, a control
// character (reason names it and its byte offset) or invalid UTF-8.
void checkRunName(const std::string& name);
// Throws InputError("run notes", "", reason) for a control character other than a line break or a
// tab, or invalid UTF-8. Empty notes are fine: they clear the notes.
void checkRunNotes(const std::string& notes);

} // namespace tfreeze
