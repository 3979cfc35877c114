#pragma once

#include <stdexcept>
#include <string>

namespace tfreeze {

// Bad input from a user: a file, a field or a flag. The CLI maps it to exit code 2. `source` is
// the file (or "--flag") and `field` the JSON path or column, so the message can say where.
class InputError : public std::runtime_error {
public:
    InputError(std::string source, std::string field, const std::string& message)
        : std::runtime_error(compose(source, field, message))
        , m_source(std::move(source))
        , m_field(std::move(field))
        , m_reason(message)
    {
    }

    const std::string& source() const { return m_source; }
    const std::string& field() const { return m_field; }
    const std::string& reason() const { return m_reason; }

private:
    static std::string compose(const std::string& source, const std::string& field, const std::string& message)
    {
        std::string text;
        if (!source.empty())
            text += source + ": ";
        if (!field.empty())
            text += field + ": ";
        return text + message;
    }

    std::string m_source;
    std::string m_field;
    std::string m_reason;
};

// A failure of ours or of the solver (not of the input): exit code 1.
class PlannerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A plan stopped by its progress handler (FreezePlanner::setProgressHandler): the user asked, not
// a failure. A PlannerError, so that code which knows nothing of cancelling still reports it.
class PlanCancelled : public PlannerError {
public:
    using PlannerError::PlannerError;
};

} // namespace tfreeze
