#include "core/store/sqlite_connection.h"

#include "core/store/store_error.h"

#include <sqlite3.h>

#include <utility>

namespace tfreeze {

SqliteConnection::SqliteConnection(std::string path, bool readOnly)
    : m_path(std::move(path))
{
    const int flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        | SQLITE_OPEN_NOMUTEX; // one connection per thread: SQLite's own mutexes would only cost time
    const int code = sqlite3_open_v2(m_path.c_str(), &m_db, flags, nullptr);
    if (code != SQLITE_OK) {
        const std::string message = sqlite3_errmsg(m_db);
        sqlite3_close(m_db);
        m_db = nullptr;
        throwSqliteFailure(m_path, "cannot open", code, message.c_str());
    }
    sqlite3_extended_result_codes(m_db, 1);
}

SqliteConnection::~SqliteConnection()
{
    m_cache.clear(); // statements must be finalized before the connection closes
    sqlite3_close(m_db);
}

bool SqliteConnection::isReadOnly() const { return sqlite3_db_readonly(m_db, "main") == 1; }

void SqliteConnection::execute(const char* sql)
{
    char* message = nullptr;
    const int code = sqlite3_exec(m_db, sql, nullptr, nullptr, &message);
    if (code != SQLITE_OK) {
        const std::string text = message != nullptr ? message : sqlite3_errmsg(m_db);
        sqlite3_free(message);
        throwSqliteFailure(m_path, std::string("cannot run \"") + sql + "\"", code, text.c_str());
    }
}

SqliteStatement SqliteConnection::prepare(const char* sql) const { return { m_db, sql, m_path }; }

SqliteStatement& SqliteConnection::cached(const char* sql)
{
    auto found = m_cache.find(sql);
    if (found == m_cache.end())
        found = m_cache.emplace(sql, std::make_unique<SqliteStatement>(m_db, sql, m_path)).first;
    return *found->second;
}

std::int64_t SqliteConnection::lastInsertId() const { return sqlite3_last_insert_rowid(m_db); }

int SqliteConnection::changes() const { return sqlite3_changes(m_db); }

SqliteTransaction::SqliteTransaction(SqliteConnection& connection)
    : m_connection(connection)
{
    // IMMEDIATE takes the write lock now, so a busy database waits here (busy_timeout) instead of
    // failing half-way through a batch.
    m_connection.execute("BEGIN IMMEDIATE");
}

SqliteTransaction::~SqliteTransaction()
{
    if (!m_open)
        return;
    // After SQLITE_FULL and some I/O errors SQLite has already rolled back; the error is ignored then.
    sqlite3_exec(m_connection.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit()
{
    m_connection.execute("COMMIT");
    m_open = false;
}

std::string sqliteLibraryVersion() { return sqlite3_libversion(); }

} // namespace tfreeze
