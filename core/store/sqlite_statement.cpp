#include "core/store/sqlite_statement.h"

#include "core/store/store_error.h"

#include <sqlite3.h>

#include <utility>

namespace tfreeze {

namespace {

// What to do about the failures a user can fix, after SQLite's message; empty for the others.
std::string sqliteFailureHint(const std::string& dbPath, int code)
{
    switch (code & 0xff) {
    case SQLITE_FULL:
        return " (the disk or the database's size limit is full; what was committed before is intact)";
    case SQLITE_READONLY:
        return " (the file or its folder is read-only; what was committed before is intact)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return " (another process holds the database for longer than the busy timeout)";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        // SQLite rolls a failed statement back, so the damage is not made worse; .recover copies
        // out what can still be read.
        return " (the run database is damaged; tfreeze left it as it is. `sqlite3 " + dbPath
            + " .recover | sqlite3 rescued.sqlite` may rescue what is still readable)";
    default:
        return {};
    }
}

// "<what>: <SQLite's message><hint>": the failure without the file's name.
std::string sqliteFailureDetail(const std::string& dbPath, const std::string& what, int code, const char* message)
{
    return what + ": " + (message != nullptr ? message : sqlite3_errstr(code)) + sqliteFailureHint(dbPath, code);
}

[[noreturn]] void fail(sqlite3* db, const std::string& dbPath, const std::string& what, int code)
{
    throwSqliteFailure(dbPath, what, code, sqlite3_errmsg(db));
}

} // namespace

bool isDamagedDatabaseCode(int code)
{
    const int primary = code & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

std::string describeSqliteFailure(const std::string& dbPath, const std::string& what, int code, const char* message)
{
    return dbPath + ": " + sqliteFailureDetail(dbPath, what, code, message);
}

void throwSqliteFailure(const std::string& dbPath, const std::string& what, int code, const char* message)
{
    if (isDamagedDatabaseCode(code))
        throw DamagedDatabaseError(code & 0xff, dbPath, sqliteFailureDetail(dbPath, what, code, message));
    throw StoreError(code & 0xff, describeSqliteFailure(dbPath, what, code, message));
}

void throwDamagedDatabase(const std::string& dbPath, const std::string& what, const std::string& message)
{
    throwSqliteFailure(dbPath, what, SQLITE_CORRUPT, message.c_str());
}

SqliteStatement::SqliteStatement(sqlite3* db, const char* sql, std::string dbPath)
    : m_db(db)
    , m_dbPath(std::move(dbPath))
{
    const int code = sqlite3_prepare_v2(db, sql, -1, &m_statement, nullptr);
    if (code != SQLITE_OK)
        fail(db, m_dbPath, std::string("cannot prepare \"") + sql + "\"", code);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(m_statement); }

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : m_db(other.m_db)
    , m_statement(std::exchange(other.m_statement, nullptr))
    , m_dbPath(std::move(other.m_dbPath))
{
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value)
{
    const int code = sqlite3_bind_int64(m_statement, index, value);
    if (code != SQLITE_OK)
        fail(m_db, m_dbPath, "cannot bind a parameter", code);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value)
{
    const int code = sqlite3_bind_double(m_statement, index, value);
    if (code != SQLITE_OK)
        fail(m_db, m_dbPath, "cannot bind a parameter", code);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, const std::string& value)
{
    const int code = sqlite3_bind_text64(m_statement, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (code != SQLITE_OK)
        fail(m_db, m_dbPath, "cannot bind a parameter", code);
    return *this;
}

SqliteStatement& SqliteStatement::bindStatic(int index, const char* text)
{
    const int code = sqlite3_bind_text(m_statement, index, text, -1, SQLITE_STATIC);
    if (code != SQLITE_OK)
        fail(m_db, m_dbPath, "cannot bind a parameter", code);
    return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index)
{
    const int code = sqlite3_bind_null(m_statement, index);
    if (code != SQLITE_OK)
        fail(m_db, m_dbPath, "cannot bind a parameter", code);
    return *this;
}

bool SqliteStatement::step()
{
    const int code = sqlite3_step(m_statement);
    if (code == SQLITE_ROW)
        return true;
    if (code == SQLITE_DONE)
        return false;
    // Reset first so a failed statement does not keep its read transaction open.
    sqlite3_reset(m_statement);
    fail(m_db, m_dbPath,
        sqlite3_sql(m_statement) != nullptr && sqlite3_stmt_readonly(m_statement) != 0 ? "cannot read" : "cannot write",
        code);
}

void SqliteStatement::run()
{
    while (step()) { }
    reset();
}

void SqliteStatement::reset() { sqlite3_reset(m_statement); }

bool SqliteStatement::isNull(int column) const { return sqlite3_column_type(m_statement, column) == SQLITE_NULL; }

std::int64_t SqliteStatement::int64(int column) const { return sqlite3_column_int64(m_statement, column); }

double SqliteStatement::real(int column) const { return sqlite3_column_double(m_statement, column); }

std::string SqliteStatement::text(int column) const
{
    const auto* data = sqlite3_column_text(m_statement, column);
    if (data == nullptr)
        return {};
    return { reinterpret_cast<const char*>(data), static_cast<std::size_t>(sqlite3_column_bytes(m_statement, column)) };
}

std::optional<std::int64_t> SqliteStatement::optionalInt64(int column) const
{
    if (isNull(column))
        return std::nullopt;
    return int64(column);
}

std::optional<std::string> SqliteStatement::optionalText(int column) const
{
    if (isNull(column))
        return std::nullopt;
    return text(column);
}

} // namespace tfreeze
