#pragma once

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

// "<path>: <what>: <SQLite's message>", with a hint for the failures a user can fix.
std::string describeSqliteFailure(const std::string& dbPath, const std::string& what, int code, const char* message);

} // namespace tfreeze
