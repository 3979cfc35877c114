#pragma once

#include "core/plan/plan_error.h"

#include <stdexcept>
#include <string>

namespace tfreeze {

// A failure of the run database that is not the user's input: disk full, a read-only file, an I/O
// error. The CLI maps it to exit code 1; `code` is SQLite's primary result code (SQLITE_FULL, ...)
// so a caller can tell the kinds apart.
class StoreError : public std::runtime_error {
public:
    StoreError(int code, const std::string& message)
        : std::runtime_error(message)
        , m_code(code)
    {
    }
    int code() const { return m_code; }

private:
    int m_code = 0;
};

// A run database that SQLite finds damaged (SQLITE_CORRUPT, SQLITE_NOTADB): the user's file is bad,
// not our code, so it is an InputError (the CLI's exit code 2) that names the file. `code` is the
// primary result code, as StoreError's.
class DamagedDatabaseError : public InputError {
public:
    DamagedDatabaseError(int code, const std::string& dbPath, const std::string& message)
        : InputError(dbPath, "", message)
        , m_code(code)
    {
    }
    int code() const { return m_code; }

private:
    int m_code = 0;
};

// True for SQLITE_CORRUPT and SQLITE_NOTADB, primary or extended (SQLITE_CORRUPT_INDEX, ...).
bool isDamagedDatabaseCode(int code);

// "<path>: <what>: <SQLite's message>", with a hint for the failures a user can fix.
std::string describeSqliteFailure(const std::string& dbPath, const std::string& what, int code, const char* message);

// Throws the failure as DamagedDatabaseError for a damaged file, StoreError otherwise, with
// describeSqliteFailure's text.
[[noreturn]] void throwSqliteFailure(const std::string& dbPath, const std::string& what, int code, const char* message);

// Throws DamagedDatabaseError for damage found by our own reading (an integrity check), with the
// same text and rescue hint as SQLite's SQLITE_CORRUPT.
[[noreturn]] void throwDamagedDatabase(const std::string& dbPath, const std::string& what, const std::string& message);

} // namespace tfreeze
