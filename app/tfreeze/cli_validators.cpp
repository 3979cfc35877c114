#include "app/tfreeze/cli_validators.h"

#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace tfreeze {

CLI::Validator finiteNumberIn(double low, double high, const std::string& tag, const std::string& requirement)
{
    auto check = [low, high, requirement](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < low || value > high)
            return "\"" + text + "\" is not " + requirement;
        return {};
    };
    return { std::move(check), tag };
}

CLI::Validator unitInterval() { return finiteNumberIn(0.0, 1.0, "[0,1]", "a number in [0, 1]"); }

CLI::Validator nonNegativeMs()
{
    return finiteNumberIn(0.0, std::numeric_limits<double>::max(), ">=0", "a finite number of ms >= 0");
}

CLI::Validator positiveInteger()
{
    auto check = [](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long value = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || value < 1)
            return "\"" + text + "\" is not a whole number >= 1";
        return {};
    };
    return { std::move(check), ">=1" };
}

void checkOutputFile(const std::string& path, const std::string& flag)
{
    try {
        checkWritableFile(path);
    } catch (const InputError& error) {
        throw InputError(flag, "", error.what());
    }
}

} // namespace tfreeze
