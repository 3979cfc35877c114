#pragma once

#include "core/store/sqlite_statement.h"

#include <map>
#include <memory>
#include <string>

struct sqlite3;

namespace tfreeze {

// One connection to one SQLite file. Not shared between threads: each thread that reads or writes
// opens its own (SQLite's WAL lets them read while another one writes).
class SqliteConnection {
public:
    // readOnly: SQLITE_OPEN_READONLY; otherwise READWRITE | CREATE.
    SqliteConnection(std::string path, bool readOnly);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    const std::string& path() const { return m_path; }
    sqlite3* handle() const { return m_db; }
    // True when SQLite opened the file read-only (asked to, or the file is write-protected).
    bool isReadOnly() const;

    // A fixed statement without parameters (schema, PRAGMA, BEGIN/COMMIT).
    void execute(const char* sql);
    SqliteStatement prepare(const char* sql) const;
    // The same statement prepared once per connection, for statements that run per row.
    SqliteStatement& cached(const char* sql);
    std::int64_t lastInsertId() const;
    int changes() const;

private:
    std::string m_path;
    sqlite3* m_db = nullptr;
    std::map<const char*, std::unique_ptr<SqliteStatement>> m_cache; // keyed by the literal's address
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when left without commit() (an exception).
class SqliteTransaction {
public:
    explicit SqliteTransaction(SqliteConnection& connection);
    ~SqliteTransaction();
    SqliteTransaction(const SqliteTransaction&) = delete;
    SqliteTransaction& operator=(const SqliteTransaction&) = delete;
    void commit();

private:
    SqliteConnection& m_connection;
    bool m_open = true;
};

// The SQLite library linked in, e.g. "3.40.1".
std::string sqliteLibraryVersion();

} // namespace tfreeze
