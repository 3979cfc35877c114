#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace tfreeze {

// A prepared statement: the only way the store talks SQL, so every value a user typed travels as a
// bound parameter and can never change a statement. Parameters and columns count from 1 and 0, as
// in SQLite.
class SqliteStatement {
public:
    SqliteStatement(sqlite3* db, const char* sql, std::string dbPath);
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement& operator=(SqliteStatement&&) = delete;

    SqliteStatement& bind(int index, std::int64_t value);
    SqliteStatement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    SqliteStatement& bind(int index, double value);
    SqliteStatement& bind(int index, const std::string& value);
    SqliteStatement& bind(int index, const char* value) { return bind(index, std::string(value)); }
    SqliteStatement& bindNull(int index);
    // Text that outlives the statement's next step (a string literal): bound without a copy.
    SqliteStatement& bindStatic(int index, const char* text);
    template <typename T> SqliteStatement& bind(int index, const std::optional<T>& value)
    {
        return value ? bind(index, *value) : bindNull(index);
    }

    // True while a row is available; false once done. Throws StoreError on failure.
    bool step();
    // step() for statements that return no rows, then reset() so the statement can run again.
    void run();
    // Ready to run again with new bindings (old bindings are kept until rebound).
    void reset();

    bool isNull(int column) const;
    std::int64_t int64(int column) const;
    int integer(int column) const { return static_cast<int>(int64(column)); }
    double real(int column) const;
    std::string text(int column) const;
    std::optional<std::int64_t> optionalInt64(int column) const;
    std::optional<std::string> optionalText(int column) const;

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_statement = nullptr;
    std::string m_dbPath;
};

} // namespace tfreeze
